"""Keras callbacks of the zoo: sample grids, run state, and the standard set for a training run.

:func:`standard_callbacks` gives what a run directory holds::

    OUT/backup/step_NNNNNNNNNN/  ExactBackup: a run killed mid-way resumes at its last backed-up step
    OUT/checkpoints/epoch_NNNN.weights.h5   ModelCheckpoint, every epoch (weights + optimizer state)
    OUT/samples/epoch_NNNN.png   SampleGrid from a fixed latent batch
    OUT/logs/                    TensorBoard scalars (train/) and sample images (samples/)
    OUT/history.csv              CSVLogger (appends across restarts)
    OUT/state.json               RunState: epochs done, optimizer steps, epoch the run (re)started at

Under ``MultiWorkerMirroredStrategy`` the other workers run only `ExactBackup` (to restore; the chief writes) and
`keras.callbacks.TerminateOnNaN`: every file of the run is the chief's.
"""
from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from trainers.resume import DEFAULT_EVERY, ExactBackup
from trainers.steps import SEED_STREAMS
from trainers.strategy import is_chief
from trainers.visualize import save_grid, to_uint8


class SampleGrid(keras.callbacks.Callback):
    """Every epoch, generate from one fixed latent batch and write a grid PNG (and a TensorBoard image).

    Args:
        directory: where ``epoch_NNNN.png`` go.
        n: number of samples in the grid.
        seed: seed of the fixed latent batch (``model.sample_latent(n, [seed, 0])``).
        tensorboard_dir: if given, also ``tf.summary.image("samples", ...)`` there.
    """

    def __init__(self, directory, n=64, seed=1234, tensorboard_dir=None):
        super().__init__()
        self.directory, self.n, self.seed = Path(directory), n, seed
        self.tensorboard_dir = tensorboard_dir
        self._writer = None

    def samples(self):
        z = self.model.sample_latent(self.n, tf.constant([self.seed, SEED_STREAMS["sample"]], tf.int32))
        return self.model.generator(z, training=False).numpy()

    def on_epoch_end(self, epoch, logs=None):
        if not is_chief():
            return
        images = self.samples()
        save_grid(images, self.directory / f"epoch_{epoch + 1:04d}.png")
        if self.tensorboard_dir is not None and images.ndim == 4:
            if self._writer is None:
                self._writer = tf.summary.create_file_writer(str(self.tensorboard_dir))
            with self._writer.as_default():
                tf.summary.image("samples", to_uint8(images[:16]), step=epoch + 1, max_outputs=16)
            self._writer.flush()


class RunState(keras.callbacks.Callback):
    """Writes ``state.json``: epochs done, each optimizer's step count, and the epoch (and, with the run's
    `ExactBackup`, the global step) this process began at."""

    def __init__(self, path, backup=None):
        super().__init__()
        self.path, self.backup = Path(path), backup
        self.started_at_epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        if self.started_at_epoch is None:
            self.started_at_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if not is_chief():
            return
        state = {"epochs_done": epoch + 1, "started_at_epoch": self.started_at_epoch,
                 "started_at_step": self.backup.resume_step() if self.backup else None,
                 "logs": {k: float(np.mean(v)) for k, v in (logs or {}).items()}}
        state.update({f"{name}_iterations": n for name, n in optimizer_iterations(self.model).items()})
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1))
        tmp.replace(self.path)


def optimizer_iterations(model) -> dict:
    """``{"g_optimizer": steps, "d_optimizer": steps, "optimizer": steps}`` for the optimizers `model` has."""
    opts = {name: getattr(model, name, None) for name in ("g_optimizer", "d_optimizer", "optimizer")}
    return {name: int(opt.iterations.numpy()) for name, opt in opts.items() if hasattr(opt, "iterations")}


def standard_callbacks(out, n_samples=64, sample_seed=1234, backup=None) -> list[keras.callbacks.Callback]:
    """`ExactBackup` (`backup`, or one every `DEFAULT_EVERY`), TerminateOnNaN, per-epoch checkpoints,
    TensorBoard, CSV history, sample grids, run state (the first two only on a worker that is not the chief)."""
    out = Path(out)
    first = [backup or ExactBackup(out / "backup", every=DEFAULT_EVERY), keras.callbacks.TerminateOnNaN()]
    if not is_chief():
        return first
    return first + [
        keras.callbacks.ModelCheckpoint(str(out / "checkpoints" / "epoch_{epoch:04d}.weights.h5"),
                                        save_weights_only=True),
        keras.callbacks.TensorBoard(str(out / "logs"), write_graph=False, profile_batch=0),
        keras.callbacks.CSVLogger(str(out / "history.csv"), append=True),
        SampleGrid(out / "samples", n=n_samples, seed=sample_seed, tensorboard_dir=out / "logs" / "samples"),
        RunState(out / "state.json", backup=first[0]),
    ]
