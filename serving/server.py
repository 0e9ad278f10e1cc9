"""A development server with tensorflow_model_server's flags and its REST and gRPC contract, for development and
tests where no TF Serving binary runs (the README has the Docker command that serves the same directory in
production).

    python -m serving --port=8500 --rest_api_port=8501 --model_name=dcgan --model_base_path=/abs/runs/x/export
    zoo serve --model_config_file=models.config --rest_api_port=8501

What it does as TF Serving does: serves the latest version of each model (or its ``model_version_policy``),
labels, loads new versions dropped into a base path without a restart (``--file_system_poll_wait_seconds``),
re-reads ``--model_config_file`` every ``--model_config_file_poll_wait_seconds`` and on ModelService's
HandleReloadConfigRequest, replays each version's warmup requests at load (``--enable_model_warmup``), batches
concurrent requests (``--enable_batching``, `serving.batching`), bounds REST requests in time
(``--rest_api_timeout_in_ms``) and threads (``--rest_api_num_threads``), takes gRPC channel arguments
(``--grpc_channel_arguments``), and answers errors with TF Serving's status codes.

Where it differs, on purpose: it listens on 127.0.0.1 unless ``--host=0.0.0.0`` (a development server should not be
reachable from the network by default; TF Serving listens on all interfaces); a request may carry at most 16 MiB of
JSON (``--rest_api_max_request_bytes``) or 32 MiB of protobuf (gRPC's ``grpc.max_receive_message_length`` channel
argument), where TF Serving allows INT_MAX, so that one request cannot take the machine's memory; it runs
signatures through TensorFlow's Python API in one process. TF Serving flags that have no meaning here (TFLite, SSL,
monitoring, load threads and retries, ...) are accepted and logged as ignored.
"""
from __future__ import annotations

import argparse
import logging
import os
import threading
from pathlib import Path

from serving import aio, batching
from serving import config as config_lib
from serving.repository import ModelRepository, Poller

log = logging.getLogger("serving")


MiB = 1 << 20
INT_MAX = 2 ** 31 - 1
# TF Serving flags that are accepted and ignored: the dev server has nothing they would change.
IGNORED_FLAGS = ("num_load_threads", "num_unload_threads", "max_num_load_retries", "load_retry_interval_micros",
                 "flush_filesystem_caches", "saved_model_tags", "platform_config_file", "prefer_tflite_model",
                 "num_tflite_pools", "num_tflite_interpreters_per_pool", "enable_profiler", "use_alts_credentials",
                 "ssl_config_file", "monitoring_config_file", "per_process_gpu_memory_fraction",
                 "enable_signature_method_name_check", "xla_cpu_compilation_enabled",
                 "enable_per_model_batching_params", "remove_unused_fields_from_bundle_metagraph",
                 "thread_pool_factory_config_file", "enable_grpc_healthcheck_service", "skip_initialize_tpu")


def _bool(text) -> bool:
    if isinstance(text, bool):
        return text
    if text.lower() in ("1", "true", "yes"):
        return True
    if text.lower() in ("0", "false", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _channel_arguments(text: str) -> list[tuple[str, object]]:
    """``--grpc_channel_arguments=a=1,b=x`` -> ``[("a", 1), ("b", "x")]`` (integers where they parse)."""
    out = []
    for item in filter(None, (t.strip() for t in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise argparse.ArgumentTypeError(f"--grpc_channel_arguments: {item!r} is not key=value "
                                             "(e.g. grpc.max_receive_message_length=104857600)")
        out.append((key.strip(), int(value) if value.strip().lstrip("-").isdigit() else value.strip()))
    return out


def parser() -> argparse.ArgumentParser:
    cpus = os.cpu_count() or 1
    p = argparse.ArgumentParser(prog="zoo serve", description="Development server with tensorflow_model_server's "
                                "flags and its REST and gRPC APIs.")
    p.add_argument("--port", type=int, default=8500, help="gRPC port (default 8500)")
    p.add_argument("--grpc_socket_path", default="", help="also serve gRPC on this UNIX socket")
    p.add_argument("--rest_api_port", type=int, default=0, help="REST port; 0 (default) serves no REST API")
    p.add_argument("--host", default="127.0.0.1", help="address both APIs listen on (dev server only; default "
                   "127.0.0.1, loopback; 0.0.0.0 for all interfaces, as TF Serving)")
    p.add_argument("--rest_api_num_threads", type=int, default=4 * cpus,
                   help=f"REST worker threads (TF Serving's default, 4 x cores = {4 * cpus})")
    p.add_argument("--rest_api_timeout_in_ms", type=int, default=30000,
                   help="bound on each REST request and on an idle or half-sent connection (default 30000)")
    p.add_argument("--rest_api_enable_cors_support", type=_bool, nargs="?", const=True, default=False)
    p.add_argument("--rest_api_max_request_bytes", type=int, default=16 * MiB,
                   help="largest REST body (dev server only; default 16 MiB: a JSON number becomes a ~32-byte "
                        "Python object while it is decoded, so 16 MiB of JSON can take ~200 MB)")
    p.add_argument("--model_name", default="default")
    p.add_argument("--model_base_path", help="absolute path holding <version>/ SavedModel directories")
    p.add_argument("--model_config_file", help="ModelServerConfig text proto (serving.config writes one)")
    p.add_argument("--model_config_file_poll_wait_seconds", type=int, default=0,
                   help="re-read --model_config_file this often; 0 reads it once")
    p.add_argument("--file_system_poll_wait_seconds", type=int, default=1,
                   help="look for new versions this often (default 1 s)")
    p.add_argument("--enable_batching", type=_bool, nargs="?", const=True, default=False)
    p.add_argument("--batching_parameters_file", help="BatchingParameters text proto (serving.batching)")
    p.add_argument("--allow_version_labels_for_unavailable_models", type=_bool, nargs="?", const=True, default=False)
    p.add_argument("--enable_model_warmup", type=_bool, nargs="?", const=True, default=True,
                   help="replay assets.extra/tf_serving_warmup_requests at load (default true)")
    p.add_argument("--num_request_iterations_for_warmup", type=int, default=0,
                   help="times each warmup request is replayed; 0 = once")
    p.add_argument("--tensorflow_session_parallelism", type=int, default=0,
                   help="threads for intra- and inter-op parallelism, unless those are set; 0 = TensorFlow's choice")
    p.add_argument("--tensorflow_intra_op_parallelism", type=int, default=0)
    p.add_argument("--tensorflow_inter_op_parallelism", type=int, default=0)
    p.add_argument("--grpc_channel_arguments", type=_channel_arguments, default=[],
                   help="comma-separated key=value gRPC server arguments, e.g. grpc.max_receive_message_length=N")
    p.add_argument("--grpc_max_threads", type=int, default=4 * cpus, help="gRPC worker threads (default 4 x cores)")
    for flag in IGNORED_FLAGS:
        p.add_argument(f"--{flag}", default=None, help=argparse.SUPPRESS)
    return p


def apply_parallelism(args) -> None:
    """``--tensorflow_*_parallelism``, before TensorFlow runs its first op (it cannot change after)."""
    import tensorflow as tf

    intra = args.tensorflow_intra_op_parallelism or args.tensorflow_session_parallelism
    inter = args.tensorflow_inter_op_parallelism or args.tensorflow_session_parallelism
    try:
        if intra:
            tf.config.threading.set_intra_op_parallelism_threads(intra)
        if inter:
            tf.config.threading.set_inter_op_parallelism_threads(inter)
    except RuntimeError:
        log.warning("TensorFlow is already initialised in this process: --tensorflow_*_parallelism not applied")


def grpc_options(args) -> list[tuple[str, object]]:
    """The gRPC server's arguments: 32 MiB requests and INT_MAX responses, then ``--grpc_channel_arguments``."""
    options = {"grpc.max_receive_message_length": 32 * MiB, "grpc.max_send_message_length": INT_MAX,
               "grpc.so_reuseport": 0}
    options.update(args.grpc_channel_arguments)
    return list(options.items())


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
        for flag in IGNORED_FLAGS:
            if getattr(self.args, flag) is not None:
                log.warning("--%s is a tensorflow_model_server flag the development server ignores", flag)
        for flag in ("rest_api_num_threads", "rest_api_timeout_in_ms", "grpc_max_threads",
                     "rest_api_max_request_bytes"):
            if getattr(self.args, flag) < 1:
                raise ValueError(f"--{flag} must be >= 1, got {getattr(self.args, flag)}.")
        apply_parallelism(self.args)
        self.batching = batching.read_options(self.args.batching_parameters_file) if self.args.enable_batching \
            else None
        warmup = (self.args.num_request_iterations_for_warmup or 1) if self.args.enable_model_warmup else 0
        self.repository = ModelRepository(server_config(self.args),
                                          self.args.allow_version_labels_for_unavailable_models, warmup)
        self.repository.check_labels()
        self._threads, self.grpc_server, self.rest = [], None, None
        self.grpc_port = self.rest_port = None

    def start(self) -> "App":
        from serving import grpc_api, rest

        addresses = [f"{self.args.host}:{self.args.port}"] + (
            [f"unix:{self.args.grpc_socket_path}"] if self.args.grpc_socket_path else [])
        self.grpc_server = grpc_api.GrpcServer(self, addresses, grpc_options(self.args), self.args.grpc_max_threads)
        self.grpc_port = self.grpc_server.start()
        if self.args.rest_api_port:
            self.rest = rest.RestServer(self, self.args.host, self.args.rest_api_port,
                                        threads=self.args.rest_api_num_threads,
                                        timeout_s=self.args.rest_api_timeout_in_ms / 1000,
                                        max_request_bytes=self.args.rest_api_max_request_bytes,
                                        cors=self.args.rest_api_enable_cors_support)
            self.rest_port = self.rest.start()
        self.poller = Poller(self.repository, self.args.file_system_poll_wait_seconds)
        self.poller.start()
        if self.args.model_config_file and self.args.model_config_file_poll_wait_seconds > 0:
            self._spawn(self._watch_config)
        log.info("serving %s: gRPC on %s:%s, REST on port %s (%s event loops)", ", ".join(self.repository.names()),
                 self.args.host, self.grpc_port, self.rest_port or "(off)", aio.loop_kind())
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
        if self.rest:
            self.rest.stop()
        if self.grpc_server:
            self.grpc_server.stop()


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        app = App(argv).start()
    except (ValueError, FileNotFoundError) as err:
        parser().exit(2, f"zoo serve: error: {err}\n")
    print(f"zoo serve: gRPC on port {app.grpc_port}, REST on port {app.rest_port or '(off)'} ({app.args.host})",
          flush=True)
    try:
        app.grpc_server.stopped.wait()
    except KeyboardInterrupt:
        app.stop()
    return 0
