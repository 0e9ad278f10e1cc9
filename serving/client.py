"""Clients for TF Serving (the real tensorflow_model_server, or ``python -m serving``), REST and gRPC.

    >>> rest = RestClient("http://localhost:8501")
    >>> out = rest.predict("dcgan", inputs={"latent": z})                       # columnar -> {output: np.ndarray}
    >>> rows = rest.predict("dcgan", instances=[{"latent": z0}], label="stable")  # row -> list of {output: value}
    >>> grpc_client = GrpcClient("localhost:8500")
    >>> out = grpc_client.predict("dcgan", {"seed": np.int64(0), "count": np.int32(4)}, signature="generate_from_seed")

The gRPC client uses the official stubs (``PredictionServiceStub``, ``ModelServiceStub``). Both raise
:class:`serving.errors.ServingError` with TF Serving's canonical code and message.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request

import numpy as np

from serving.errors import HTTP_STATUS, ServingError

_CODE_OF_HTTP = {}
for _code, _status in HTTP_STATUS.items():
    _CODE_OF_HTTP.setdefault(_status, _code)


def _loads(body: bytes):
    """orjson where it can (several times faster on image outputs), json for TF Serving's NaN / Infinity."""
    try:
        import orjson

        return orjson.loads(body)
    except (ImportError, ValueError):
        return json.loads(body)


class RestClient:
    def __init__(self, url: str = "http://localhost:8501", timeout: float = 60.0):
        self.url, self.timeout = url.rstrip("/"), timeout

    @staticmethod
    def path(model: str, version: int | None = None, label: str | None = None) -> str:
        if version is not None and label is not None:
            raise ValueError("Give a version or a label, not both.")
        return f"/v1/models/{model}" + (f"/versions/{int(version)}" if version is not None else "") + (
            f"/labels/{label}" if label is not None else "")

    def request(self, method: str, path: str, body: bytes | None = None) -> dict:
        req = urllib.request.Request(self.url + path, data=body, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return _loads(resp.read())
        except urllib.error.HTTPError as err:
            text = err.read().decode(errors="replace")
            try:
                message = json.loads(text)["error"]
            except (ValueError, KeyError, TypeError):
                message = text
            raise ServingError(_CODE_OF_HTTP.get(err.code, "UNKNOWN"), message) from None

    def predict(self, model, inputs=None, *, instances=None, signature=None, version=None, label=None):
        """Columnar `inputs` (``{name: array}``) -> ``{output: np.ndarray}``; row `instances` -> the predictions."""
        if (inputs is None) == (instances is None):
            raise ValueError("Give inputs (columnar) or instances (row format), not both.")
        body = {"signature_name": signature} if signature else {}
        if inputs is not None:
            body["inputs"] = {k: np.asarray(v).tolist() for k, v in inputs.items()}
        else:
            body["instances"] = _jsonable(instances)
        res = self.request("POST", self.path(model, version, label) + ":predict", json.dumps(body).encode())
        if inputs is None:
            return res["predictions"]
        out = res["outputs"]
        return {k: np.asarray(v) for k, v in out.items()} if isinstance(out, dict) else np.asarray(out)

    def status(self, model, version=None, label=None) -> dict:
        return self.request("GET", self.path(model, version, label))

    def metadata(self, model, version=None, label=None) -> dict:
        return self.request("GET", self.path(model, version, label) + "/metadata")


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return np.asarray(value).tolist()


class GrpcClient:
    def __init__(self, target: str = "localhost:8500", timeout: float = 60.0):
        import grpc
        from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc

        self.timeout = timeout
        self.channel = grpc.insecure_channel(target, options=[("grpc.max_receive_message_length", 256 << 20),
                                                             ("grpc.max_send_message_length", 256 << 20)])
        self.prediction = prediction_service_pb2_grpc.PredictionServiceStub(self.channel)
        self.models = model_service_pb2_grpc.ModelServiceStub(self.channel)

    @staticmethod
    def spec(request, model, version=None, label=None, signature=None):
        request.model_spec.name = model
        if version is not None:
            request.model_spec.version.value = int(version)
        if label is not None:
            request.model_spec.version_label = label
        if signature:
            request.model_spec.signature_name = signature
        return request

    def _call(self, fn, request):
        import grpc

        try:
            return fn(request, timeout=self.timeout)
        except grpc.RpcError as err:
            raise ServingError(err.code().name, err.details()) from None

    def predict(self, model, inputs: dict, signature=None, version=None, label=None, output_filter=()) -> dict:
        from serving.grpc_api import from_tensor_proto

        response = self.predict_response(model, inputs, signature, version, label, output_filter)
        return {k: from_tensor_proto(v) for k, v in response.outputs.items()}

    def predict_response(self, model, inputs: dict, signature=None, version=None, label=None, output_filter=()):
        """The raw PredictResponse (model_spec says which version answered); `output_filter`: the outputs wanted
        (default all)."""
        from tensorflow_serving.apis import predict_pb2

        from serving.grpc_api import fill_tensor_proto

        request = self.spec(predict_pb2.PredictRequest(), model, version, label, signature)
        request.output_filter.extend(output_filter)
        for key, value in inputs.items():
            fill_tensor_proto(request.inputs[key], value)
        return self._call(self.prediction.Predict, request)

    def status(self, model, version=None, label=None):
        from tensorflow_serving.apis import get_model_status_pb2

        return self._call(self.models.GetModelStatus,
                          self.spec(get_model_status_pb2.GetModelStatusRequest(), model, version, label))

    def metadata(self, model, version=None, label=None) -> dict:
        """``{signature name: SignatureDef}``."""
        from tensorflow_serving.apis import get_model_metadata_pb2

        request = self.spec(get_model_metadata_pb2.GetModelMetadataRequest(), model, version, label)
        request.metadata_field.append("signature_def")
        response = self._call(self.prediction.GetModelMetadata, request)
        sig_map = get_model_metadata_pb2.SignatureDefMap()
        response.metadata["signature_def"].Unpack(sig_map)
        return dict(sig_map.signature_def)

    def reload_config(self, server_config):
        from tensorflow_serving.apis import model_management_pb2

        response = self._call(self.models.HandleReloadConfigRequest,
                              model_management_pb2.ReloadConfigRequest(config=server_config))
        if response.status.error_code:
            raise ServingError("INVALID_ARGUMENT", response.status.error_message)
        return response
