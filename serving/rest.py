"""TF Serving's REST API (tensorflow/serving g3doc ``api_rest.md``) over :class:`ModelRepository`.

    GET  /v1/models/NAME[/versions/N | /labels/L]            -> {"model_version_status": [...]}
    GET  /v1/models/NAME[/versions/N | /labels/L]/metadata   -> {"model_spec": ..., "metadata": {"signature_def": ...}}
    POST /v1/models/NAME[/versions/N | /labels/L]:predict    -> {"predictions": [...]} or {"outputs": ...}

Predict bodies: ``{"signature_name": ..., "instances": [...]}`` (row format: one entry per example, a value when
the signature has one input, else ``{input: value}``; the response is one entry per example) or ``{"inputs": ...}``
(columnar: ``{input: batch}`` or one batch; the response is ``{"outputs": {output: batch}}``, or one batch for a
single output), never both. Signatures with scalar inputs (seed, count) take the columnar form. Errors: the HTTP
status of the canonical code and ``{"error": "<message>"}``.
"""
from __future__ import annotations

import http.server
import json
import re

import numpy as np
from google.protobuf import json_format
from tensorflow_serving.apis import get_model_metadata_pb2

from serving import grpc_api, predict
from serving.errors import ServingError, invalid

_SPEC = r"/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>-?\d+)|/labels/(?P<label>[^/:]+))?"
PREDICT = re.compile(_SPEC + r":(?P<method>predict|classify|regress)$", re.I)
STATUS = re.compile(_SPEC + r"(?P<metadata>/metadata)?$", re.I)


def proto_json(message) -> dict:
    return json_format.MessageToDict(message, preserving_proto_field_name=True,
                                     always_print_fields_with_no_presence=True)


def parse_predict_body(body: bytes, servable):
    """``(signature name, {input: np.ndarray}, "row" | "columnar")``."""
    try:
        request = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as err:
        raise invalid(f"JSON Parse error: {err}") from None
    if not isinstance(request, dict):
        raise invalid('JSON Value: the request body must be an object with "instances" or "inputs".')
    if ("instances" in request) == ("inputs" in request):
        raise invalid('Missing \'inputs\' or \'instances\' key: a predict request has exactly one of them.')
    name, sigdef = predict.signature(servable, request.get("signature_name"))
    names = sorted(sigdef.inputs)
    if "inputs" in request:
        value = request["inputs"]
        if not isinstance(value, dict):
            if len(names) != 1:
                raise invalid(f"Signature {name!r} has inputs {', '.join(names)}: \"inputs\" must be an object "
                              "{input: batch}.")
            value = {names[0]: value}
        inputs = value
        return name, {k: np.asarray(v) for k, v in inputs.items()}, "columnar"
    instances = request["instances"]
    if not isinstance(instances, list) or not instances:
        raise invalid('"instances" must be a non-empty list, one entry per example.')
    if all(isinstance(i, dict) for i in instances):
        keys = set(instances[0])
        if any(set(i) != keys for i in instances):
            raise invalid("Every instance must have the same named inputs.")
        return name, {k: np.asarray([i[k] for i in instances]) for k in keys}, "row"
    if len(names) != 1:
        raise invalid(f"Signature {name!r} has inputs {', '.join(names)}: each instance must be an object "
                      "{input: value}.")
    return name, {names[0]: np.asarray(instances)}, "row"


def format_outputs(outputs: dict, fmt: str):
    if fmt == "columnar":
        if len(outputs) == 1:
            return {"outputs": next(iter(outputs.values())).tolist()}
        return {"outputs": {k: v.tolist() for k, v in outputs.items()}}
    sizes = {k: (v.shape[0] if v.ndim else None) for k, v in outputs.items()}
    if len(set(sizes.values())) != 1 or None in sizes.values():
        raise invalid(f"Tensor name: outputs have inconsistent batch sizes {sizes}; use the columnar "
                      '"inputs" form for this signature.')
    n = next(iter(sizes.values()))
    if len(outputs) == 1:
        return {"predictions": next(iter(outputs.values())).tolist()}
    return {"predictions": [{k: v[i].tolist() for k, v in outputs.items()} for i in range(n)]}


class Handler(http.server.BaseHTTPRequestHandler):
    """One request; ``self.server.app`` is the :class:`serving.server.App`."""

    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the server logs loads and errors
        pass

    def _reply(self, status: int, payload) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self, method: str):
        app = self.server.app
        path = self.path.split("?")[0]
        try:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if method == "POST" and (m := PREDICT.match(path)):
                if m["method"].lower() != "predict":
                    raise ServingError("UNIMPLEMENTED", f"{m['method']} is not served: zoo SavedModels have "
                                       "predict signatures only (tensorflow/serving/predict).")
                servable = app.repository.resolve(m["name"], _int(m["version"]), m["label"])
                name, inputs, fmt = parse_predict_body(body, servable)
                _, outputs = predict.run(servable, name, inputs, app.max_batch_size)
                return self._reply(200, format_outputs(outputs, fmt))
            if method == "GET" and (m := STATUS.match(path)):
                if m["metadata"]:
                    response = grpc_api.metadata_response(app.repository, m["name"], _int(m["version"]), m["label"])
                    sig_map = get_model_metadata_pb2.SignatureDefMap()
                    response.metadata["signature_def"].Unpack(sig_map)
                    return self._reply(200, {"model_spec": proto_json(response.model_spec),
                                             "metadata": {"signature_def": proto_json(sig_map)}})
                response = grpc_api.status_response(app.repository, m["name"], _int(m["version"]), m["label"])
                return self._reply(200, proto_json(response))
            raise invalid(f"Malformed request: {method} {path}")
        except ServingError as err:
            self._reply(err.http_status, {"error": err.message})
        except Exception as err:  # never drop the connection without an answer
            self._reply(500, {"error": f"{type(err).__name__}: {err}"})

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")


def _int(text):
    return None if text is None else int(text)
