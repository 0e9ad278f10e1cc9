"""A development server with tensorflow_model_server's flags and its REST and gRPC contract, for development and
tests where no TF Serving binary runs (the README has the Docker command that serves the same directory in
production).

    python -m serving --port=8500 --rest_api_port=8501 --model_name=dcgan --model_base_path=/abs/runs/x/export
    zoo serve --model_config_file=models.config --rest_api_port=8501

What it does as TF Serving does: serves the latest version of each model (or its ``model_version_policy``),
labels, loads new versions dropped into a base path without a restart (``--file_system_poll_wait_seconds``),
re-reads ``--model_config_file`` every ``--model_config_file_poll_wait_seconds`` and on ModelService's
HandleReloadConfigRequest, and answers errors with TF Serving's status codes. What it does not: batching
(``--enable_batching`` only enforces ``max_batch_size`` of ``--batching_parameters_file``), TFLite, metrics export,
SSL; it runs signatures through TensorFlow's Python API, single process.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import http.server
import logging
import re
import threading
from pathlib import Path

from serving import config as config_lib
from serving.repository import ModelRepository, Poller

log = logging.getLogger("serving")


def _bool(text) -> bool:
    if isinstance(text, bool):
        return text
    if text.lower() in ("1", "true", "yes"):
        return True
    if text.lower() in ("0", "false", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="zoo serve", description="Development server with tensorflow_model_server's "
                                "flags and its REST and gRPC APIs.")
    p.add_argument("--port", type=int, default=8500, help="gRPC port (default 8500)")
    p.add_argument("--rest_api_port", type=int, default=0, help="REST port; 0 (default) serves no REST API")
    p.add_argument("--model_name", default="default")
    p.add_argument("--model_base_path", help="absolute path holding <version>/ SavedModel directories")
    p.add_argument("--model_config_file", help="ModelServerConfig text proto (serving.config writes one)")
    p.add_argument("--model_config_file_poll_wait_seconds", type=int, default=0,
                   help="re-read --model_config_file this often; 0 reads it once")
    p.add_argument("--file_system_poll_wait_seconds", type=int, default=1,
                   help="look for new versions this often (default 1 s)")
    p.add_argument("--enable_batching", type=_bool, nargs="?", const=True, default=False)
    p.add_argument("--batching_parameters_file", help="BatchingParameters text proto; max_batch_size is enforced")
    p.add_argument("--allow_version_labels_for_unavailable_models", type=_bool, nargs="?", const=True, default=False)
    p.add_argument("--grpc_max_threads", type=int, default=16, help="gRPC worker threads")
    return p


def max_batch_size(args) -> int | None:
    """``max_batch_size { value: N }`` of the batching parameters (TF Serving's default 1000 without a file)."""
    if not args.enable_batching:
        return None
    if not args.batching_parameters_file:
        return 1000
    text = Path(args.batching_parameters_file).read_text()
    m = re.search(r"max_batch_size\s*\{\s*value\s*:\s*(\d+)\s*\}", text)
    return int(m.group(1)) if m else 1000


def server_config(args):
    if bool(args.model_config_file) == bool(args.model_base_path):
        raise ValueError("Give either --model_base_path (with --model_name) or --model_config_file, not both "
                         "and not neither.")
    if args.model_config_file:
        return config_lib.read_models_config(args.model_config_file)
    base = Path(args.model_base_path)
    if not base.is_absolute():
        raise ValueError(f"--model_base_path must be absolute, as for tensorflow_model_server; got {base}. "
                         f"Use {base.resolve()}.")
    if not base.is_dir():
        raise ValueError(f"--model_base_path {base} is not a directory: export a model there first "
                         "(zoo export --base DIR).")
    return config_lib.single_model_config(args.model_name, base)


class App:
    """The served models and the servers; ``App(argv).start()`` in a test, ``main()`` from the command line."""

    def __init__(self, argv=None):
        self.args = parser().parse_args(argv)
        self.max_batch_size = max_batch_size(self.args)
        self.repository = ModelRepository(server_config(self.args),
                                          self.args.allow_version_labels_for_unavailable_models)
        self.repository.check_labels()
        self._threads, self.grpc_server, self.http_server = [], None, None
        self.grpc_port = self.rest_port = None

    def start(self) -> "App":
        import grpc

        from serving import grpc_api, rest

        self.grpc_server = grpc.server(concurrent.futures.ThreadPoolExecutor(self.args.grpc_max_threads))
        grpc_api.add_services(self.grpc_server, self)
        self.grpc_port = self.grpc_server.add_insecure_port(f"0.0.0.0:{self.args.port}")
        self.grpc_server.start()
        if self.args.rest_api_port:
            self.http_server = http.server.ThreadingHTTPServer(("0.0.0.0", self.args.rest_api_port), rest.Handler)
            self.http_server.daemon_threads = True
            self.http_server.app = self
            self.rest_port = self.http_server.server_address[1]
            self._spawn(self.http_server.serve_forever)
        self.poller = Poller(self.repository, self.args.file_system_poll_wait_seconds)
        self.poller.start()
        if self.args.model_config_file and self.args.model_config_file_poll_wait_seconds > 0:
            self._spawn(self._watch_config)
        log.info("serving %s: gRPC on port %s, REST on port %s", ", ".join(self.repository.names()),
                 self.grpc_port, self.rest_port or "(off)")
        return self

    def _spawn(self, fn):
        thread = threading.Thread(target=fn, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _watch_config(self):
        last = Path(self.args.model_config_file).read_text()
        while not self.poller.stopped.wait(self.args.model_config_file_poll_wait_seconds):
            try:
                text = Path(self.args.model_config_file).read_text()
                if text != last:
                    self.repository.reload(config_lib.parse_models_config(text, self.args.model_config_file))
                    last = text
            except (OSError, ValueError) as err:
                log.error("config reload failed, keeping the old one: %s", err)

    def stop(self):
        self.poller.stopped.set()
        if self.http_server:
            self.http_server.shutdown()
            self.http_server.server_close()
        if self.grpc_server:
            self.grpc_server.stop(grace=None)


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        app = App(argv).start()
    except (ValueError, FileNotFoundError) as err:
        parser().exit(2, f"zoo serve: error: {err}\n")
    print(f"zoo serve: gRPC on port {app.grpc_port}, REST on port {app.rest_port or '(off)'}", flush=True)
    try:
        app.grpc_server.wait_for_termination()
    except KeyboardInterrupt:
        app.stop()
    return 0
