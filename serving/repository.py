"""The models a server serves: versions found under each base path, loaded by policy, refreshed by polling.

TF Serving's behaviour, kept here: a version is an integer directory holding ``saved_model.pb`` (anything else,
like the exporter's ``.tmp-*`` directories, is ignored); the version policy picks what is loaded (default: the
latest); a version dropped into the base path is loaded at the next poll, and one the policy no longer wants is
unloaded, with no restart; a request names the model and optionally a version or a label, else gets the highest
loaded version. States follow ``ModelVersionStatus.State``: LOADING, AVAILABLE, END.
"""
from __future__ import annotations

import dataclasses
import gc
import logging
import threading
from pathlib import Path

import tensorflow as tf

from serving import batching, predict
from serving import config as config_lib
from serving.errors import ServingError, invalid, not_found

log = logging.getLogger("serving")


WARMUP_FILE = "assets.extra/tf_serving_warmup_requests"
MAX_WARMUP_RECORDS = 1000  # TF Serving's kMaxNumRecords


@dataclasses.dataclass
class Servable:
    """One loaded version: the SavedModel and its SignatureDefs (as TF Serving reads them from saved_model.pb).

    ``signature_defs`` are the ones a request may name; ``metadata_defs`` all of the meta graph's, as
    GetModelMetadata reports them (``__saved_model_init_op`` included)."""

    name: str
    version: int
    path: Path
    loaded: object
    signature_defs: dict
    metadata_defs: dict = dataclasses.field(default_factory=dict)
    batchers: dict = dataclasses.field(default_factory=dict)
    warmup_runs: int = 0
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    @classmethod
    def load(cls, name: str, version: int, path: Path, warmup_iterations: int = 1) -> "Servable":
        """Load, then replay ``assets.extra/tf_serving_warmup_requests`` `warmup_iterations` times (0: skip), as
        TF Serving's ``--enable_model_warmup``: a warmup request that fails fails the load."""
        from tensorflow.core.protobuf import saved_model_pb2

        proto = saved_model_pb2.SavedModel()
        proto.ParseFromString((path / "saved_model.pb").read_bytes())
        all_defs = dict(proto.meta_graphs[0].signature_def.items())
        defs = {k: v for k, v in all_defs.items() if not k.startswith("__")}
        servable = cls(name, version, path, tf.saved_model.load(str(path)), defs, all_defs)
        servable.warmup_runs = servable.warmup(warmup_iterations) if warmup_iterations > 0 else 0
        return servable

    def warmup(self, iterations: int = 1) -> int:
        """Replay the warmup records; returns how many requests ran."""
        file = self.path / WARMUP_FILE
        if not file.exists():
            return 0
        from tensorflow_serving.apis import prediction_log_pb2

        ran = 0
        for i, record in enumerate(tf.data.TFRecordDataset(str(file)).as_numpy_iterator()):
            if i >= MAX_WARMUP_RECORDS:
                raise ValueError(f"{file} holds more than {MAX_WARMUP_RECORDS} warmup records (TF Serving's limit).")
            entry = prediction_log_pb2.PredictionLog.FromString(record)
            if not entry.HasField("predict_log"):
                raise ValueError(f"{file}: warmup record {i} is not a PredictLog; the dev server replays predict "
                                 "requests only.")
            request = entry.predict_log.request
            inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
            for _ in range(iterations):
                predict.run(self, request.model_spec.signature_name or None, inputs)
                ran += 1
        return ran

    def batcher(self, signature: str, options):
        """The batch queue of `signature` (created on first use)."""
        with self._lock:
            if signature not in self.batchers:
                self.batchers[signature] = batching.Batcher(
                    lambda merged: predict.call(self, signature, merged), options,
                    name=f"batch-{self.name}-{self.version}-{signature}")
            return self.batchers[signature]

    def close(self):
        with self._lock:
            for batcher in self.batchers.values():
                batcher.stop()
            self.batchers.clear()


def versions_on_disk(base: Path) -> list[int]:
    if not base.is_dir():
        return []
    return sorted(int(p.name) for p in base.iterdir() if p.name.isdigit() and (p / "saved_model.pb").exists())


def wanted_versions(cfg, on_disk: list[int]) -> list[int]:
    kind, arg = config_lib.policy_of(cfg)
    if kind == "all":
        return on_disk
    if kind == "specific":
        return [v for v in on_disk if v in arg]
    return on_disk[-arg:]


class _Model:
    def __init__(self, cfg):
        self.cfg = cfg
        self.servables: dict[int, Servable] = {}
        self.states: dict[int, str] = {}


class ModelRepository:
    """Thread-safe: request threads call :meth:`resolve` / :meth:`status` while the poller calls :meth:`poll`."""

    def __init__(self, server_config, allow_labels_for_unavailable: bool = False, warmup_iterations: int = 1):
        self._lock = threading.RLock()
        self._models: dict[str, _Model] = {}
        self.allow_labels_for_unavailable = allow_labels_for_unavailable
        self.warmup_iterations = warmup_iterations
        self.reload(server_config)

    # ------------------------------------------------------------------ configuration
    def reload(self, server_config) -> None:
        """Serve exactly the models of `server_config` (ModelServerConfig); loads what it can at once."""
        config_lib.validate(server_config, "model server config")
        with self._lock:
            new = {}
            for cfg in server_config.model_config_list.config:
                model = self._models.get(cfg.name) or _Model(cfg)
                model.cfg = cfg
                new[cfg.name] = model
            dropped = [m for name, m in self._models.items() if name not in new]
            self._models = new
        for model in dropped:
            for servable in model.servables.values():
                servable.close()
        self.poll()

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._models)

    # ------------------------------------------------------------------ polling
    def poll(self) -> None:
        """Load the versions the policy wants that are not loaded; unload the ones it no longer wants."""
        with self._lock:
            models = list(self._models.values())
        for model in models:
            base = Path(model.cfg.base_path)
            want = set(wanted_versions(model.cfg, versions_on_disk(base)))
            for version in sorted(want - set(model.servables)):
                with self._lock:
                    model.states[version] = "LOADING"
                try:
                    servable = Servable.load(model.cfg.name, version, base / str(version), self.warmup_iterations)
                except Exception as err:  # a broken version must not take the server down
                    log.error("could not load %s version %d: %s", model.cfg.name, version, err)
                    with self._lock:
                        model.states[version] = "END"
                    continue
                with self._lock:
                    model.servables[version] = servable
                    model.states[version] = "AVAILABLE"
                # What is loaded now lives as long as the servable: out of the cyclic GC's sight, so a request that
                # builds many objects (a large JSON body) does not pay for scanning TensorFlow's
                gc.freeze()
                log.info("loaded %s version %d from %s", model.cfg.name, version, base / str(version))
            for version in sorted(set(model.servables) - want):
                with self._lock:
                    model.servables.pop(version).close()
                    model.states[version] = "END"
                log.info("unloaded %s version %d", model.cfg.name, version)

    # ------------------------------------------------------------------ requests
    def _model(self, name: str) -> _Model:
        model = self._models.get(name)
        if model is None:
            raise not_found(f"Servable not found for request: Latest({name}). Served models: "
                            f"{', '.join(sorted(self._models)) or 'none'}.")
        return model

    def resolve(self, name: str, version: int | None = None, label: str | None = None) -> Servable:
        """The servable a request means: a specific version, a labelled one, or the highest available."""
        with self._lock:
            model = self._model(name)
            if label:
                if label not in model.cfg.version_labels:
                    raise invalid(f"Unrecognized servable version label: {label}. Labels of {name}: "
                                  f"{', '.join(sorted(model.cfg.version_labels)) or 'none'}.")
                version = model.cfg.version_labels[label]
            if version is not None:
                servable = model.servables.get(int(version))
                if servable is None:
                    raise not_found(f"Servable not found for request: Specific({name}, {version}). Available "
                                    f"versions: {', '.join(map(str, sorted(model.servables))) or 'none'}.")
                return servable
            if not model.servables:
                raise not_found(f"Servable not found for request: Latest({name}). No version of {name} is loaded "
                                f"yet: export one to {model.cfg.base_path}/<version>/.")
            return model.servables[max(model.servables)]

    def status(self, name: str, version: int | None = None, label: str | None = None) -> list[tuple[int, str]]:
        """``[(version, state), ...]``, newest first, as GetModelStatus reports them."""
        with self._lock:
            model = self._model(name)
            if label:
                version = self.resolve(name, label=label).version
            if version is not None:
                if int(version) not in model.states:
                    raise not_found(f"Could not find version {version} of model {name}. Known versions: "
                                    f"{', '.join(map(str, sorted(model.states))) or 'none'}.")
                return [(int(version), model.states[int(version)])]
            if not model.states:
                raise not_found(f"Could not find any versions of model {name}.")
            return sorted(model.states.items(), reverse=True)

    def check_labels(self) -> None:
        """TF Serving refuses a label on a version that is not available (unless told to allow it)."""
        if self.allow_labels_for_unavailable:
            return
        with self._lock:
            for model in self._models.values():
                for label, version in model.cfg.version_labels.items():
                    if version not in model.servables:
                        raise ServingError("FAILED_PRECONDITION", f"Request to assign label to version {version} "
                                           f"of model {model.cfg.name}, which is not currently available for "
                                           f"inference (label {label!r}).")


class Poller(threading.Thread):
    """Calls ``repository.poll()`` every `seconds` (TF Serving's --file_system_poll_wait_seconds)."""

    def __init__(self, repository: ModelRepository, seconds: float):
        super().__init__(daemon=True, name="zoo-serving-poller")
        self.repository, self.seconds, self.stopped = repository, seconds, threading.Event()

    def run(self):
        while not self.stopped.wait(self.seconds):
            try:
                self.repository.poll()
            except Exception as err:  # keep polling
                log.error("poll failed: %s", err)
