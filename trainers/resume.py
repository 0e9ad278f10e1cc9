"""Exact resume: a killed `model.fit` continues from its last backup as if it had never stopped.

`ExactBackup` is the zoo's `keras.callbacks.BackupAndRestore`. What it adds, and why:

* **Step granularity.** A backup every N steps or every T seconds (``every=500`` / ``every="60s"``, default
  `DEFAULT_EVERY`) and at every epoch end. On resume the model restarts at that step of that epoch: Keras' fit
  loop only knows epochs, so the steps already done in the resumed epoch are passed over without running
  (``model.train_function`` is swapped for a no-op until the saved step; the data stream already begins after
  them, see below). Keras' own callback restores the epoch only, so a step backup would replay the epoch's first
  steps with the weights that already learned from them.
* **All the state.** The weights file holds the networks' and optimizers' variables (``model.save_weights``).
  Keras leaves out every `keras.random.SeedGenerator` state (the train steps' noise) and the metric trackers;
  ``state.npz`` holds both, so the resumed step draws the noise the uninterrupted one drew and the resumed
  epoch's logs average over the whole epoch. Python-side state a model needs before its weights can load (a
  growing model's stage) comes from ``model.training_state()`` and goes back through
  ``model.restore_training_state(state)``.
* **Data position.** The backup records the global step k (batches consumed); the caller builds its stream from
  k (``zoo.load_dataset(..., repeat=True, start_step=backup.resume_step())``), whose order is a function of
  (seed, pass over the data) alone. `zoo_app.fit.train` does this.
* **Atomic, verified, kept twice.** A backup is written into a temporary directory and renamed into place, with
  the SHA-256 of each file in ``meta.json`` (written last). The newest `keep` backups stay. On resume a backup
  whose files are missing or do not match their hashes is skipped with a warning for the previous one; when
  backups exist and none is usable the run stops with `BackupError` naming what to delete. It never silently
  starts over.

Distribution: only the chief writes (`trainers.strategy.is_chief`); every worker restores from the same
directory, so under ``MultiWorkerMirroredStrategy`` it must be on storage every worker reads (one machine: any
path; several: a shared filesystem or a ``gs://`` path that `tf.io.gfile` reaches). Metric trackers are
per-replica ``ON_READ`` variables that cannot be assigned outside a replica, so with more than one replica the
resumed epoch's logs average over the steps run after the resume (the weights are exact either way).
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
import warnings
from pathlib import Path

import keras
import numpy as np

from trainers.strategy import is_chief

DEFAULT_EVERY = "60s"
"""At most about a minute of work is lost by a kill; the cost is one weights write a minute (bench/resume.py)."""

_NAME = re.compile(r"^step_(\d{10})$")


class BackupError(RuntimeError):
    """Backups exist but none can be restored."""


def parse_every(every) -> tuple[str, float]:
    """``500`` or ``"500"`` -> ``("steps", 500)``; ``"60s"`` -> ``("seconds", 60.0)``; ``"epoch"`` -> epochs only."""
    text = str(every).strip()
    if text == "epoch":
        return "epoch", 0.0
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*s", text)
    if match and float(match.group(1)) > 0:
        return "seconds", float(match.group(1))
    if text.isdigit() and int(text) > 0:
        return "steps", int(text)
    raise ValueError(f"Backup interval {every!r} is not a number of steps (500), of seconds (60s) or 'epoch'.")


def seed_generators(model) -> list:
    """Every `keras.random.SeedGenerator` of `model` and its layers, in a fixed order."""
    found, seen = [], set()
    for layer in model._flatten_layers(include_self=True, recursive=True):
        for sg in getattr(layer, "_seed_generators", ()):
            if id(sg) not in seen:
                seen.add(id(sg))
                found.append(sg)
    return found


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check(path: Path) -> dict:
    """The backup's ``meta.json`` after checking that its files exist and match their hashes (raises otherwise)."""
    meta = json.loads((path / "meta.json").read_text())
    for name, digest in meta["sha256"].items():
        if not (path / name).exists():
            raise BackupError(f"{name} is missing")
        if _sha256(path / name) != digest:
            raise BackupError(f"{name} does not match its SHA-256 (truncated or overwritten)")
    return meta


def _backups(directory: Path) -> list[Path]:
    """The ``step_*`` backups under `directory`, newest first."""
    return sorted((p for p in directory.glob("step_*") if _NAME.match(p.name)), reverse=True)


def select_backup(directory) -> tuple[Path, dict] | None:
    """The newest usable backup under `directory` as ``(path, meta)``, None when there is none at all.

    A damaged newest backup is skipped with a warning; when every backup is damaged `BackupError` says what to
    delete."""
    directory = Path(directory)
    candidates = _backups(directory)
    foreign = sorted(p.name for p in directory.glob("*") if not _NAME.match(p.name) and not p.name.startswith(".tmp_"))
    if foreign and not candidates:
        raise BackupError(f"{directory} holds {', '.join(foreign[:3])}, which no ExactBackup wrote (a Keras "
                          "BackupAndRestore backup of an older zoo?). Resume that run with the version that wrote "
                          f"it, or delete {directory} to start it over.")
    problems = []
    for path in candidates:
        try:
            meta = _check(path)
        except (BackupError, OSError, ValueError, KeyError) as err:
            problems.append(f"{path.name}: {err}")
            continue
        if problems:
            warnings.warn(f"Backup damaged ({'; '.join(problems)}); resuming from {path}.", stacklevel=2)
        return path, meta
    if candidates:
        raise BackupError(f"No backup under {directory} can be restored ({'; '.join(problems)}). Delete {directory} "
                          "to start this run over, or put an intact step_* backup back there.")
    return None


class ExactBackup(keras.callbacks.Callback):
    """Step-granular backup and exact resume (module docstring). Put it first in the callback list.

    Args:
        directory: where ``step_NNNNNNNNNN/`` backups go (nothing else should write there).
        every: steps (int), seconds (``"60s"``) or ``"epoch"``; a backup is also written at every epoch end.
        keep: how many backups to keep (the newest; 2 lets a damaged newest one fall back).
    """

    def __init__(self, directory, every=DEFAULT_EVERY, keep=2):
        super().__init__()
        self.directory = Path(directory)
        self.mode, self.interval = parse_every(every)
        if int(keep) < 1:
            raise ValueError(f"keep must be at least 1, got {keep!r}.")
        self.keep = int(keep)
        self._selected = None
        self._skip_to, self._real_train_function, self._metric_values = 0, None, None
        self._last_save_step, self._last_save_time, self._epoch, self.writes = 0, 0.0, 0, []

    # ---------------------------------------------------------------- restore
    def selection(self):
        """``(path, meta)`` of the backup this run resumes from (None for a fresh run), chosen once."""
        if self._selected is None:
            self._selected = select_backup(self.directory) or ()
        return self._selected or None

    def resume_step(self) -> int:
        """The global step (batches consumed) the run resumes at: where its data stream must begin."""
        chosen = self.selection()
        return int(chosen[1]["global_step"]) if chosen else 0

    def on_train_begin(self, logs=None):
        self._last_save_time = time.monotonic()
        if not self.params.get("steps"):
            raise ValueError("ExactBackup needs the number of steps per epoch: pass steps_per_epoch to fit (with a "
                             "repeated stream, zoo.load_dataset(..., repeat=True, start_step=backup.resume_step())).")
        chosen = self.selection()
        if not chosen:
            return
        path, meta = chosen
        steps = self.params["steps"]
        if steps != meta["steps_per_epoch"]:
            raise BackupError(f"The backup {path} was written with steps_per_epoch={meta['steps_per_epoch']}; this "
                              f"fit has {steps}. Resume with the same settings, or delete {self.directory}.")
        model = self.model
        model.restore_training_state(meta["model_state"])
        model.load_weights(path / "weights.weights.h5")
        state = np.load(path / "state.npz")
        generators = seed_generators(model)
        if int(state["n_seed_generators"]) != len(generators):
            raise BackupError(f"The backup {path} holds {int(state['n_seed_generators'])} seed states; the model has "
                              f"{len(generators)}. It was written by another model; delete {self.directory}.")
        for i, sg in enumerate(generators):
            sg.state.assign(state[f"seed_{i}"])
        self._metric_values = [state[f"metric_{i}"] for i in range(int(state["n_metric_values"]))] or None
        model._initial_epoch = meta["epoch"]
        self._skip_to = meta["step"]
        self._last_save_step = meta["global_step"]

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        if self._metric_values is not None:  # fit reset the trackers just before this; the epoch's first steps
            for var, value in zip(_metric_variables(self.model), self._metric_values):  # ran before the kill
                var.assign(value)
            self._metric_values = None

    def on_train_batch_begin(self, batch, logs=None):
        if batch < self._skip_to:
            if self._real_train_function is None:
                self._real_train_function = self.model.train_function
                self.model.train_function = _skipped_step
        elif self._real_train_function is not None:
            self.model.train_function = self._real_train_function
            self._real_train_function, self._skip_to = None, 0

    def on_train_end(self, logs=None):
        self.model._initial_epoch = None

    # ------------------------------------------------------------------- save
    def on_train_batch_end(self, batch, logs=None):
        done = batch + 1
        if self._real_train_function is not None or self.mode == "epoch" or done >= self.params["steps"]:
            return  # passing over restored steps, or the epoch end (saved by on_epoch_end)
        global_step = self._global_step(self._epoch, done)
        due = (global_step - self._last_save_step >= self.interval if self.mode == "steps"
               else time.monotonic() - self._last_save_time >= self.interval)
        if due:
            self.save(self._epoch, done)

    def on_epoch_end(self, epoch, logs=None):
        self.save(epoch + 1, 0)

    def _global_step(self, epoch, step):
        return epoch * self.params["steps"] + step

    def save(self, epoch: int, step: int) -> Path | None:
        """Write the backup at (`epoch`, `step` batches into it); the chief writes, other workers return None."""
        global_step = self._global_step(epoch, step)
        self._last_save_step, self._last_save_time = global_step, time.monotonic()
        if not is_chief():
            return None
        started = time.perf_counter()
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.directory / f"step_{global_step:010d}"
        tmp = self.directory / f".tmp_{final.name}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        model = self.model
        model.save_weights(tmp / "weights.weights.h5")
        arrays = {f"seed_{i}": np.asarray(sg.state.numpy()) for i, sg in enumerate(seed_generators(model))}
        arrays["n_seed_generators"] = np.asarray(len(arrays))
        metrics = (_metric_variables(model) if step and model.distribute_strategy.num_replicas_in_sync == 1
                   else [])  # at an epoch end (step 0 of the next) the trackers restart anyway
        arrays.update({f"metric_{i}": np.asarray(v.numpy()) for i, v in enumerate(metrics)})
        arrays["n_metric_values"] = np.asarray(len(metrics))
        np.savez(tmp / "state.npz", **arrays)
        meta = {"epoch": epoch, "step": step, "global_step": global_step, "steps_per_epoch": self.params["steps"],
                "model_state": model.training_state(),
                "sha256": {name: _sha256(tmp / name) for name in ("weights.weights.h5", "state.npz")}}
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)
        for old in _backups(self.directory)[self.keep:]:
            shutil.rmtree(old, ignore_errors=True)
        self.writes.append(time.perf_counter() - started)
        return final


def _metric_variables(model) -> list:
    return [v for m in model.metrics for v in m.variables]


def _skipped_step(iterator):
    """The train function while passing over steps that ran before the kill: no update, no data read."""
    return {}


__all__ = ["BackupError", "DEFAULT_EVERY", "ExactBackup", "parse_every", "seed_generators", "select_backup"]
