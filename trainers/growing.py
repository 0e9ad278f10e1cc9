"""Dynamic model reconstruction for growing GANs: weight and optimizer-state transfer, and the schedule callback.

How growth happens inside ONE `model.fit` (facts from ``shared/KERAS3_NOTES.md``, each checked by
``tests/test_growing.py``):

* A Keras 3 optimizer is bound to the variables it was built with, so a grown network gets a new optimizer,
  built inside the strategy scope. Its slots (Adam's momentums and velocities) for carried-over variables are
  copied into the leading slice, so the moments of old weights survive growth (``reset_optimizer=True`` restores
  the thesis code's behaviour: the optimizer restarts each stage). The step counter carries over either way.
* Keras keeps the traced ``train_function``; after swapping networks the model calls
  ``make_train_function(force=True)``. Keras' fit loop looks ``model.train_function`` up at every step, so the next
  step runs the grown networks and user callbacks see one continuous run.
"""
from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np

SLOT_LISTS = ("_momentums", "_velocities", "_velocity_hats")


def leading_slice(shape) -> tuple:
    return tuple(slice(0, int(d)) for d in shape)


def copy_into_leading_slice(old, new, fill=None) -> None:
    """``new[:old.shape] = old``; the rest of `new` keeps its value, or becomes `fill` when one is given.

    Raises when an old dimension is larger than the new one (growth never shrinks).
    """
    old_shape, new_shape = tuple(old.shape), tuple(new.shape)
    if len(old_shape) != len(new_shape) or any(o > n for o, n in zip(old_shape, new_shape)):
        raise ValueError(f"Cannot grow {old.path} of shape {old_shape} into {new.path} of shape {new_shape}.")
    value = np.array(new.numpy()) if fill is None else np.full(new_shape, fill, new.dtype)
    value[leading_slice(old_shape)] = old.numpy()
    new.assign(value)


def transfer_weights(old_vars, new_vars, fill_new=None) -> None:
    """Carry every old variable into its new counterpart (same order), pairwise by leading slice."""
    old_vars, new_vars = list(old_vars), list(new_vars)
    if len(old_vars) != len(new_vars):
        raise ValueError(f"{len(old_vars)} old variables cannot be paired with {len(new_vars)} new ones.")
    for old, new in zip(old_vars, new_vars):
        copy_into_leading_slice(old, new, fill_new)


def rebuild_optimizer(old_opt, old_vars, new_vars, reset=False):
    """A fresh optimizer like `old_opt`, built for `new_vars`, with old slots carried (unless `reset`)."""
    new_opt = old_opt.__class__.from_config(old_opt.get_config())
    new_opt.build(list(new_vars))
    new_opt.iterations.assign(old_opt.iterations)
    if reset:
        return new_opt
    for name in SLOT_LISTS:
        old_slots, new_slots = getattr(old_opt, name, None), getattr(new_opt, name, None)
        if not old_slots or not new_slots:
            continue
        for old_var, new_var in zip(old_vars, new_vars):
            copy_into_leading_slice(old_slots[old_opt._get_variable_index(old_var)],
                                    new_slots[new_opt._get_variable_index(new_var)], fill=0.0)
    return new_opt


class GrowthSchedule(keras.callbacks.Callback):
    """Grows the model at its stage boundaries (``model.stage_for_epoch(epoch)``) at the start of an epoch.

    Args:
        backup_dir: the `keras.callbacks.BackupAndRestore` directory of the run, if any. A resumed run starts from
            a freshly built (stage 0) model; this callback must come BEFORE BackupAndRestore in the callback list,
            so that on train begin it grows the model to the stage of the saved epoch and the backup's weights and
            optimizer slots then load into variables of the right shapes.
    """

    def __init__(self, backup_dir=None):
        super().__init__()
        self.backup_dir = backup_dir

    def _grow_to(self, epoch):
        target = self.model.stage_for_epoch(epoch)
        while self.model.stage < target:
            self.model.grow()

    def on_train_begin(self, logs=None):
        if self.backup_dir is None:
            return
        meta = Path(self.backup_dir) / "training_metadata.json"
        if meta.exists():
            self._grow_to(int(json.loads(meta.read_text())["epoch"]))

    def on_epoch_begin(self, epoch, logs=None):
        self._grow_to(epoch)


def replace_networks(model, generator=None, discriminator=None, reset_optimizer=False) -> None:
    """Swap in grown networks inside the current strategy scope, carry optimizer state, retrace the step."""
    for attr, opt_attr, new in (("generator", "g_optimizer", generator), ("discriminator", "d_optimizer",
                                                                            discriminator)):
        if new is None:
            continue
        old = getattr(model, attr)
        opt = getattr(model, opt_attr, None)
        if opt is not None:
            setattr(model, opt_attr, rebuild_optimizer(opt, old.trainable_variables, new.trainable_variables,
                                                       reset_optimizer))
        setattr(model, attr, new)
    if getattr(model, "train_function", None) is not None:
        model.make_train_function(force=True)

