"""TF Serving's REST API (tensorflow/serving g3doc ``api_rest.md``) over :class:`ModelRepository`, on aiohttp.

    GET  /v1/models/NAME[/versions/N | /labels/L]            -> {"model_version_status": [...]}
    GET  /v1/models/NAME[/versions/N | /labels/L]/metadata   -> {"model_spec": ..., "metadata": {"signature_def": ...}}
    POST /v1/models/NAME[/versions/N | /labels/L]:predict    -> {"predictions": [...]} or {"outputs": ...}

Bodies are read and written with TF Serving's rules (`serving.json_tensor`). Errors: the HTTP status of the
canonical code and ``{"error": "<message>"}``, for every path and method (an unknown one is "Malformed request",
400, as http_rest_api_handler.cc answers). Model names and labels in the path are URL-decoded.

The server (aiohttp's, asyncio: a connection costs a coroutine, not a thread) is bounded everywhere:
    * ``--rest_api_num_threads`` worker threads decode, run and encode requests; reading a body costs no thread, so
      slow or half-sent requests hold no worker;
    * ``--rest_api_timeout_in_ms`` (TF Serving's, default 30 s) bounds each request, from its first byte to its
      answer (DEADLINE_EXCEEDED, HTTP 504), and closes a connection idle or half-sent for that long;
    * ``--rest_api_max_request_bytes`` (dev server only, default 16 MiB) bounds a body (HTTP 413), header lines
      are capped by aiohttp (8 KiB), a malformed request line or Content-Length is answered 400 at once;
    * the listen backlog is 1024.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import re
import threading
import time
import urllib.parse

from aiohttp import http_exceptions, web
from google.protobuf import json_format
from tensorflow_serving.apis import get_model_metadata_pb2

from serving import aio, grpc_api, json_tensor, predict
from serving.errors import HTTP_STATUS, ServingError, invalid

_SPEC = r"/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>\d+)|/labels/(?P<label>[^/:]+))?"
PREDICT = re.compile(_SPEC + r":(?P<method>predict|classify|regress)$", re.I)
STATUS = re.compile(_SPEC + r"(?P<metadata>/metadata)?$", re.I)
BACKLOG = 1024
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "POST, GET",
        "Access-Control-Allow-Headers": "Content-Type"}


class _QuietBadRequests(logging.Filter):
    """aiohttp logs a traceback for each malformed request it answers 400 (a bad Content-Length, a header line
    over 8 KiB): that is the client's error, already answered; drop it from the server's log."""

    def filter(self, record):
        return not (record.exc_info and isinstance(record.exc_info[1], http_exceptions.HttpProcessingError))


logging.getLogger("aiohttp.server").addFilter(_QuietBadRequests())


def proto_json(message) -> dict:
    return json_format.MessageToDict(message, preserving_proto_field_name=True,
                                     always_print_fields_with_no_presence=True)


def _decode(text):
    return None if text is None else urllib.parse.unquote(text)


def _spec(m):
    """``(name, version, label)`` of a path match: name and label URL-decoded (TF Serving's ``DecodeArg``)."""
    return _decode(m["name"]), None if m["version"] is None else int(m["version"]), _decode(m["label"])


def process(app, method: str, path: str, body: bytes, timeout: float | None = None) -> tuple[int, bytes]:
    """One REST request -> ``(HTTP status, JSON body)``; runs on a worker thread."""
    try:
        if method == "POST" and (m := PREDICT.match(path)):
            servable = app.repository.resolve(*_spec(m))
            doc = json_tensor.parse(body)
            signature_name = json_tensor.signature_name(doc)
            if m["method"].lower() != "predict":
                predict.check_method(servable, signature_name, m["method"].lower())
            name, sigdef = predict.signature(servable, signature_name)
            dtypes = {k: spec[0] for k, spec in predict.input_specs(sigdef).items()}
            inputs, fmt = json_tensor.predict_inputs(doc, dtypes)
            _, outputs = predict.run(servable, name, inputs, app.batching, timeout=timeout)
            return 200, json_tensor.predict_response(outputs, fmt)
        if method == "GET" and (m := STATUS.match(path)):
            if m["metadata"]:
                response = grpc_api.metadata_response(app.repository, *_spec(m))
                sig_map = get_model_metadata_pb2.SignatureDefMap()
                response.metadata["signature_def"].Unpack(sig_map)
                return 200, json_tensor.dumps({"model_spec": proto_json(response.model_spec),
                                               "metadata": {"signature_def": proto_json(sig_map)}})
            return 200, json_tensor.dumps(proto_json(grpc_api.status_response(app.repository, *_spec(m))))
        raise invalid(f"Malformed request: {method} {path}")
    except ServingError as err:
        return err.http_status, json_tensor.dumps({"error": err.message})
    except Exception as err:  # never drop the connection without an answer
        return 500, json_tensor.dumps({"error": f"{type(err).__name__}: {err}"})


class RestServer:
    """The REST front: aiohttp on its own event loop thread, requests on a bounded thread pool."""

    def __init__(self, app, host: str, port: int, *, threads: int, timeout_s: float, max_request_bytes: int,
                 cors: bool = False):
        self.app, self.host, self.port = app, host, port
        self.threads, self.timeout_s, self.max_request_bytes, self.cors = threads, timeout_s, max_request_bytes, cors
        self.pool = concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="zoo-rest")
        self.loop = aio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="zoo-rest-loop")
        self._runner = None

    def _reply(self, status: int, body: bytes) -> web.Response:
        headers = dict(CORS) if self.cors else {}
        return web.Response(status=status, body=body, content_type="application/json", headers=headers)

    def _error(self, code: str, message: str, status: int | None = None) -> web.Response:
        return self._reply(status or HTTP_STATUS[code], json_tensor.dumps({"error": message}))

    async def handle(self, request: web.Request) -> web.Response:
        start = time.monotonic()
        path = request.raw_path.split("?", 1)[0]
        if self.cors and request.method == "OPTIONS":
            return self._reply(200, b"")
        if request.content_length is not None and request.content_length > self.max_request_bytes:
            return self._error("INVALID_ARGUMENT", f"Request body of {request.content_length} bytes is over the "
                               f"server's limit of {self.max_request_bytes} (--rest_api_max_request_bytes).", 413)
        try:
            async with asyncio.timeout(self.timeout_s):
                body = await request.read()
                left = self.timeout_s - (time.monotonic() - start)
                status, payload = await self.loop.run_in_executor(self.pool, process, self.app, request.method,
                                                                  path, body, left)
        except TimeoutError:
            return self._error("DEADLINE_EXCEEDED", f"Deadline exceeded: the request took longer than "
                               f"{self.timeout_s * 1000:.0f} ms (--rest_api_timeout_in_ms).")
        except web.HTTPRequestEntityTooLarge:
            return self._error("INVALID_ARGUMENT", f"Request body is over the server's limit of "
                               f"{self.max_request_bytes} bytes (--rest_api_max_request_bytes).", 413)
        return self._reply(status, payload)

    async def _start(self):
        application = web.Application(client_max_size=self.max_request_bytes)
        application.router.add_route("*", "/{tail:.*}", self.handle)
        self._runner = web.AppRunner(application, access_log=None, keepalive_timeout=self.timeout_s,
                                     handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=BACKLOG, reuse_address=True)
        await site.start()
        return site._server.sockets[0].getsockname()[1]

    def start(self) -> int:
        """Serve; returns the port (useful with port 0)."""
        self._thread.start()
        self.port = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(30)
        return self.port

    def stop(self):
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.pool.shutdown(wait=False, cancel_futures=True)
