"""Dynamic model reconstruction for growing GANs: weight and optimizer-state transfer, and the schedule callback.

How growth happens inside ONE `model.fit` (facts from ``shared/KERAS3_NOTES.md``, each checked by
``tests/test_growing.py``):

* A Keras 3 optimizer is bound to the variables it was built with, so a grown network gets a new optimizer,
  built inside the strategy scope. Its slots (Adam's momentums and velocities) for carried-over variables are
  copied into the leading slice, so the moments of old weights survive growth (``reset_optimizer=True`` restores
  the thesis code's behaviour: the optimizer restarts each stage). The step counter carries over either way.
* Keras keeps the traced ``train_function``; after swapping networks the model calls
  ``make_train_function(force=True)``, or takes the train function that `trainers.growth_ahead` traced for the grown
  networks in a background thread while the stage before trained. Keras' fit loop looks ``model.train_function`` up
  at every step, so the next step runs the grown networks and user callbacks see one continuous run.
* Fade factors are non-trainable ``keras.Variable`` s that `GrowthSchedule` assigns before each step: the compiled
  step reads them, so they move every step without a retrace (a Python float would be baked into the trace).
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from trainers.growth_ahead import Ahead

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


def transfer_by_name(old_net, new_net, zero_new=()) -> list:
    """Carry every weight of every layer of `old_net` into the same-named layer of `new_net` (leading slice).

    Layers of `old_net` without a counterpart (a toRGB that faded out) are dropped. The new entries of the layers
    named in `zero_new` start at 0 (the MLP's first kernel, thesis 6.1); elsewhere they keep their initialisation.
    Returns the trainable ``(old_variable, new_variable)`` pairs, for `rebuild_optimizer`.
    """
    new_layers = {layer.name: layer for layer in new_net.layers}
    pairs = []
    for layer in old_net.layers:
        twin = new_layers.get(layer.name)
        if twin is None or not layer.weights:
            continue
        transfer_weights(layer.weights, twin.weights, 0.0 if layer.name in zero_new else None)
        pairs += [(o, n) for o, n in zip(layer.weights, twin.weights) if o.trainable]
    return pairs


def fresh_optimizer(old_opt, new_vars):
    """An optimizer configured like `old_opt`, built for `new_vars`, its state at its start (`carry_optimizer_state`
    fills it)."""
    new_opt = old_opt.__class__.from_config(old_opt.get_config())
    new_opt.build(list(new_vars))
    return new_opt


def carry_optimizer_state(old_opt, new_opt, pairs, new_vars, reset=False):
    """Carry the state of `old_opt` into `new_opt` (`fresh_optimizer`): the step counter (and the loss scale) always;
    the slots of the ``(old, new)`` variable `pairs` into the leading slice (new entries 0), unless `reset`.
    Returns `new_opt`."""
    new_opt.iterations.assign(old_opt.iterations)
    if isinstance(old_opt, keras.optimizers.LossScaleOptimizer):  # mixed_float16: the loss scale and its counter
        new_opt.dynamic_scale.assign(old_opt.dynamic_scale)   # carry over, and the moments live in the inner one
        new_opt.step_counter.assign(old_opt.step_counter)
        old_opt, new_opt_inner = old_opt.inner_optimizer, new_opt.inner_optimizer
        new_opt_inner.iterations.assign(old_opt.iterations)
    else:
        new_opt_inner = new_opt
    averages = moving_averages(new_opt_inner, new_vars)  # the generator's EMA (`trainers.base.Model.finalize_ema`):
    for var in new_vars:  # a new entry starts at its variable's value, as Keras' EMA starts at step 0, and the
        if id(var) in averages:  # carried ones keep their average
            averages[id(var)].assign(var)
    if averages and not reset:
        old_averages = moving_averages(old_opt, [old_var for old_var, _ in pairs])
        for old_var, new_var in pairs:
            copy_into_leading_slice(old_averages[id(old_var)], averages[id(new_var)])
    if reset:
        return new_opt
    for name in SLOT_LISTS:  # Adam's / RMSprop's per-variable slot lists (Keras 3 keeps them private)
        old_slots, new_slots = getattr(old_opt, name, None), getattr(new_opt_inner, name, None)
        if not old_slots or not new_slots:
            continue
        for old_var, new_var in pairs:
            copy_into_leading_slice(old_slots[old_opt._get_variable_index(old_var)],
                                    new_slots[new_opt_inner._get_variable_index(new_var)], fill=0.0)
    return new_opt


def moving_averages(opt, variables) -> dict:
    """``{id(variable): its moving average variable}`` in `opt`'s EMA (``use_ema``); {} for an optimizer without
    one (or None). A LossScaleOptimizer's EMA lives in its inner optimizer."""
    if isinstance(opt, keras.optimizers.LossScaleOptimizer):
        opt = opt.inner_optimizer
    if opt is None or not getattr(opt, "use_ema", False):
        return {}
    return {id(v): opt._model_variables_moving_average[opt._get_variable_index(v)] for v in variables}


def rebuild_optimizer(old_opt, pairs, new_vars, reset=False):
    """A fresh optimizer like `old_opt`, built for `new_vars`, with the slots of the ``(old, new)`` variable `pairs`
    carried into the leading slice (new entries 0), unless `reset`. The step counter carries over either way."""
    return carry_optimizer_state(old_opt, fresh_optimizer(old_opt, new_vars), pairs, new_vars, reset)


class GrowthSchedule(keras.callbacks.Callback):
    """Runs a growing model's schedule inside `model.fit`: growth at stage boundaries, fades, per-epoch logs.

    * At the start of an epoch it grows the model to ``model.stage_for_epoch(epoch)``.
    * Before every step of a fading stage it sets the fade ``f = (steps into the stage) / (fade_epochs * steps per
      epoch)``, clipped to [0, 1], with ``model.set_fade(f)``. f is a function of (epoch, batch) alone, so a resumed
      run continues the fade exactly where the killed one stopped. When f reaches 1 with at least
      ``settle_min_steps`` steps of the stage left in this fit, the model drops what computes the same numbers at
      f = 1 as without the fade (``model.settle_fades()``: cggan's and clggan's channel masks) and the step is
      traced once more: the rest of the stage runs without those multiplies, bit for bit the same run. (The masks
      cost about 2 ms of a 50-60 ms ``fashion32`` step at 32x32 on the 2-core CPU, a retrace 2-4 s: below about
      1,000 steps it would not pay.)
    * It adds ``stage``, ``latent_dim``, ``fade``, ``g_params``, ``d_params`` and ``epoch_seconds`` to the epoch
      logs (CSVLogger and TensorBoard see them) and keeps ``growth_seconds``: for each growth, the wall-clock from
      the trigger to the end of the new stage's first step (build, transfer, retrace and one step), and
      ``build_seconds``: the part of it spent in ``grow()`` (build, transfer, new optimizers), before the first
      step traces and runs the new train function.

    With ``ahead=True`` the next stage's networks, optimizers and traced train step are prepared in a background
    thread while the stage before a growth trains, and TensorFlow instantiates that step there too, by running it
    once on stand-ins (`trainers.growth_ahead`), so the growth itself only carries the weights and optimizer state
    over: ``ahead_seconds`` keeps each preparation's wall clock, ``ahead_warmed`` whether its step was instantiated
    ahead, ``ahead_nice`` the preparing thread's nice value (it runs at the lowest priority, so that the training
    step keeps the cores, `trainers.growth_ahead.background_priority`). The run is the same, bit for bit, as with
    ``ahead=False``. ``"auto"`` (the default) prepares ahead when a GPU is visible, where the host's CPU is free
    while the step runs on the device; on a CPU-only machine the preparation takes its CPU from the training step:
    on the 2-core VM (bench/growing.py) the pause at growth drops from 2-5 s to under 1 s, and the fit is no faster
    (short stages: slower by about as much).

    Growing models add it themselves in ``fit`` when it is missing (`GrowingMixin`).

    Args:
        backup_dir: the `keras.callbacks.BackupAndRestore` directory of the run, if any (the zoo's
            `trainers.resume.ExactBackup` needs none: it restores the stage through the model's
            ``restore_training_state``). A resumed run starts from a freshly built (stage 0) model; this callback
            must come BEFORE BackupAndRestore in the callback list, so that on train begin it grows the model to
            the stage of the last finished epoch and the backup's weights, fades and optimizer slots then load into
            variables of the right shapes.
    """

    def __init__(self, backup_dir=None, ahead="auto", settle_min_steps=1000):
        super().__init__()
        if ahead not in (True, False, "auto"):
            raise ValueError(f"ahead must be True, False or 'auto'; got {ahead!r}.")
        self.backup_dir, self.ahead, self.settle_min_steps = backup_dir, ahead, settle_min_steps
        self.growth_seconds, self.build_seconds, self._prepared = [], [], []  # (seconds, warmed, nice) per growth
        self._epoch, self._trigger, self._epoch_start, self._fade = 0, None, 0.0, None
        self._ahead, self._ahead_tried = Ahead(), -1

    def _grow_to(self, epoch):
        target = self.model.stage_for_epoch(epoch)
        while self.model.stage < target:
            prepared = self._ahead.take(self.model.stage + 1)
            if prepared is not None:
                self._prepared.append((prepared.seconds, prepared.warmed, prepared.nice))
            self.model.grow(prepared)
            self._fade = None

    @property
    def ahead_seconds(self) -> list:
        return [p[0] for p in self._prepared]

    @property
    def ahead_warmed(self) -> list:
        return [p[1] for p in self._prepared]

    @property
    def ahead_nice(self) -> list:
        return [p[2] for p in self._prepared]

    def _prepare_ahead(self):
        """As soon as a stage's step has been traced (after the stage's first batch), start preparing the next stage,
        if this fit reaches it: the whole stage is the window (clggan's 4x4 stage of `fashion32` lasts a few
        seconds, less than a preparation on a 2-core CPU)."""
        model = self.model
        if (not self.ahead or self._ahead.pending or self._ahead_tried == model.stage
                or model.stage >= len(model.stage_epochs)
                or model.stage_start_epoch(model.stage + 1) >= self.params.get("epochs", 0)):
            return
        self._ahead_tried = model.stage
        self._ahead.start(model)

    def on_train_end(self, logs=None):
        self.finish_preparation()

    def finish_preparation(self):
        """Wait for a preparation still running in the background and drop it. `GrowingMixin.fit` calls it however
        ``fit`` ends: a fit interrupted (Ctrl-C, an error) gets no ``on_train_end``, and a preparation left running
        would draw its new layers' initial values from the global seed while the next fit builds and trains."""
        self._ahead.close()

    def on_train_begin(self, logs=None):
        if self.ahead == "auto":
            self.ahead = bool(tf.config.list_physical_devices("GPU"))
        if self.backup_dir is None:
            return
        meta = Path(self.backup_dir) / "training_metadata.json"
        if meta.exists():  # "epoch": epochs finished; the weights are those of the last one's stage (a growth
            done = int(json.loads(meta.read_text())["epoch"])  # due at the next epoch has not happened yet)
            if done:
                self._grow_to(done - 1)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch, self._epoch_start = epoch, time.perf_counter()
        stage = self.model.stage
        self._grow_to(epoch)
        self._trigger = self._epoch_start if self.model.stage > stage else None
        if self._trigger is not None:
            self.build_seconds.append(time.perf_counter() - self._epoch_start)

    def on_train_batch_begin(self, batch, logs=None):
        model, fade_epochs = self.model, self.model.fade_epochs
        if not fade_epochs or model.stage == 0 or model.stage_for_epoch(self._epoch) != model.stage:
            return
        steps = self.params.get("steps")
        if not steps:
            raise ValueError("Fading needs the number of steps per epoch: pass steps_per_epoch to fit, or a dataset "
                             "whose cardinality is known.")
        into = (self._epoch - model.stage_start_epoch(model.stage)) * steps + batch
        fade = min(1.0, into / (fade_epochs * steps))
        if fade != self._fade:
            model.set_fade(fade)
            self._fade = fade
            if fade == 1.0 and self._steps_left_in_stage(batch) >= self.settle_min_steps:
                model.settle_fades()  # the rest of the stage runs without the fade's multiplies (one retrace)

    def _steps_left_in_stage(self, batch) -> int:
        """Steps of the current stage that this fit still runs, this batch's included."""
        model = self.model
        end = self.params.get("epochs", 0)
        if model.stage < len(model.stage_epochs):  # not the last stage, which runs to the end of training
            end = min(end, model.stage_start_epoch(model.stage + 1))
        return (end - self._epoch) * self.params["steps"] - batch

    def on_train_batch_end(self, batch, logs=None):
        if self._trigger is not None:
            self.growth_seconds.append(time.perf_counter() - self._trigger)
            self._trigger = None
        self._prepare_ahead()

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        model = self.model
        logs.update(stage=model.stage, latent_dim=model.latent_dim, epoch_seconds=time.perf_counter() -
                    self._epoch_start, fade=1.0 if self._fade is None else self._fade,
                    g_params=count_trainable(model.generator), d_params=count_trainable(model.discriminator))


def count_trainable(network) -> int:
    """Trainable parameters of a network (fade factors are not trainable)."""
    return int(sum(np.prod(v.shape) for v in network.trainable_weights))


class GrowingMixin:
    """Stage bookkeeping for growing models: ``stage``, ``stage_epochs``, ``fade_epochs``; ``grow()``, which runs the
    model's ``_grow()`` inside its strategy scope (callbacks run outside it, and grown variables and optimizers must
    be created inside it); and a ``fit`` that runs the schedule (it adds a `GrowthSchedule`, taking the backup
    directory of a `keras.callbacks.BackupAndRestore` in the callbacks, when none is given)."""

    fade_epochs = 0

    def grow(self, prepared=None):
        """Move to the next stage (called by `GrowthSchedule` inside fit), building the grown networks inside the
        model's strategy scope and under the dtype policy its networks were built with (mixed precision stays
        mixed even when the global policy has changed since, as `zoo_app.fit.build_compiled` restores it).
        `prepared`: the next stage made ahead (`trainers.growth_ahead.PreparedStage`), whose networks, optimizers
        and traced step are used instead of building them here."""
        if prepared is not None and prepared.stage != self.stage + 1:
            raise ValueError(f"A prepared stage {prepared.stage} cannot follow stage {self.stage}.")
        previous = keras.config.dtype_policy()
        keras.config.set_dtype_policy(self.generator.dtype_policy)
        try:
            with self.distribute_strategy.scope():
                self._grow(prepared.networks if prepared is not None else self._next_networks(), prepared)
        finally:
            keras.config.set_dtype_policy(previous)
        for name, value in self._stage_attributes(self.stage + 1).items():  # the stage, and what it sets
            setattr(self, name, value)

    def _next_networks(self) -> dict:
        """The next stage's networks, freshly built (``{"generator": ..., "discriminator": ...}``, those that
        change), writing nothing of the model; raises at the last stage."""
        raise NotImplementedError

    def _stage_attributes(self, stage: int) -> dict:
        """The attributes that the train step reads and that change with the stage (``stage`` itself included):
        `grow` sets them once ``_grow`` has carried the weights over and swapped the networks in, and
        `trainers.growth_ahead` puts them in the view it traces the next stage's step on."""
        raise NotImplementedError

    def stage_for_epoch(self, epoch: int) -> int:
        return int(np.searchsorted(np.cumsum(self.stage_epochs), epoch, side="right"))

    def stage_start_epoch(self, stage: int) -> int:
        return int(np.sum(self.stage_epochs[:stage]))

    def set_fade(self, fade: float) -> None:
        """Set the fade factors of the current stage (f in [0, 1]); models without fades ignore it."""

    def settle_fades(self, settled=True) -> bool:
        """The stage's fade is over (f = 1 until the next growth): drop whatever computes the same numbers at f = 1
        as without the fade from the train step, traced again (``settled=False``: put it back); returns whether
        anything changed."""
        return False

    def training_state(self) -> dict:
        """The stage: a backup's weights load only into networks grown to the stage they were saved at."""
        return {"stage": int(self.stage)}

    def restore_training_state(self, state: dict) -> None:
        while self.stage < int(state.get("stage", 0)):
            self.grow()

    def fit(self, *args, callbacks=None, **kwargs):
        callbacks = list(callbacks or [])
        if not any(isinstance(cb, GrowthSchedule) for cb in callbacks):
            backup = next((cb.backup_dir for cb in callbacks if isinstance(cb, keras.callbacks.BackupAndRestore)),
                          None)
            callbacks.insert(0, GrowthSchedule(backup_dir=backup))
        try:
            return super().fit(*args, callbacks=callbacks, **kwargs)
        finally:
            for cb in callbacks:
                if isinstance(cb, GrowthSchedule):
                    cb.finish_preparation()


def replace_networks(model, pairs, generator=None, discriminator=None, reset_optimizer=False,
                     prepared=None) -> None:
    """Swap in grown networks inside the current strategy scope, carry optimizer state, retrace the step (or take
    the step `prepared` traced ahead, `trainers.growth_ahead`, with its fresh optimizers).

    `pairs` maps ``"generator"``/``"discriminator"`` to the ``(old, new)`` variable pairs of `transfer_by_name`.
    """
    for attr, opt_attr, new in (("generator", "g_optimizer", generator), ("discriminator", "d_optimizer",
                                                                            discriminator)):
        if new is None:
            continue
        opt = getattr(model, opt_attr, None)
        if opt is not None:
            fresh = prepared.optimizers[opt_attr] if prepared is not None else fresh_optimizer(
                opt, new.trainable_variables)
            setattr(model, opt_attr, carry_optimizer_state(opt, fresh, pairs[attr], new.trainable_variables,
                                                           reset_optimizer))
        setattr(model, attr, new)
    if prepared is not None:
        model.train_function = prepared.train_function
        prepared.view.__dict__ = model.__dict__  # a retrace of that function reads the model from now on
    elif getattr(model, "train_function", None) is not None:
        model.make_train_function(force=True)

