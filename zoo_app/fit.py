"""The fit recipe behind ``zoo train``: config -> strategy -> model -> data -> callbacks -> `model.fit`.

Nothing here is needed to train a zoo model (``model.compile(...)``; ``model.fit(...)`` is enough); it is the
reproducible run that the CLI and the README's main job use, writing ``OUT/run.json`` with everything
needed to repeat it.
"""
from __future__ import annotations

import json
import platform
from pathlib import Path

import keras
import tensorflow as tf

import zoo
from trainers.callbacks import standard_callbacks
from trainers.precision import resolve_precision
from trainers.resume import DEFAULT_EVERY, ExactBackup, select_backup
from trainers.strategy import get_strategy, is_chief

OPTIMIZER_KEYS = ("optimizer", "g_optimizer", "d_optimizer")
"""What a config's ``train`` may name: ``optimizer`` (a VAE, stage 1 of LSR-/LSC-GAN), ``g_optimizer`` and
``d_optimizer`` (a GAN); `compile` takes those it has."""


def make_optimizer(spec: dict | keras.optimizers.Optimizer) -> keras.optimizers.Optimizer:
    """``{"class": "Adam" (default) | "RMSprop" | ..., **kwargs}`` -> that Keras optimizer (or one passed through).

    ``learning_rate`` may itself be ``{"class": "CosineDecay" | "PolynomialDecay" | ..., **kwargs}``: that
    `keras.optimizers.schedules` schedule, a function of the optimizer's own step count (so a resumed run continues
    it exactly, and a GAN's generator schedule counts generator steps)."""
    if isinstance(spec, keras.optimizers.Optimizer):
        return spec
    spec = dict(spec)
    if isinstance(spec.get("learning_rate"), dict):
        schedule = dict(spec["learning_rate"])
        name = schedule.pop("class")
        if not hasattr(keras.optimizers.schedules, name):
            raise ValueError(f"Unknown learning-rate schedule {name!r}: name one of keras.optimizers.schedules "
                             "(e.g. 'CosineDecay', 'PolynomialDecay', 'PiecewiseConstantDecay').")
        spec["learning_rate"] = getattr(keras.optimizers.schedules, name)(**schedule)
    return getattr(keras.optimizers, spec.pop("class", "Adam"))(**spec)


def build_compiled(name, config="default", *, dataset=None, strategy=None, precision="float32", **overrides):
    """Build and compile model `name` from a config inside `strategy`'s scope; returns ``(model, cfg)``.

    ``channels`` follows the dataset when one is named. The model is built under the dtype policy ``precision``
    (one of `trainers.precision.PRECISIONS`; ``"auto"``: the machine's fastest, `resolve_precision`, whose record
    is ``cfg["precision"]``); the global policy is restored afterwards (growing models grow under their own networks'
    policy).
    """
    resolved = resolve_precision(precision, float32_because=zoo.get_model_class(name).auto_precision_float32)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(resolved.policy)
    try:
        model, cfg = _build_compiled(name, config, dataset, strategy, overrides)
        cfg["precision"] = resolved.record()
        return model, cfg
    finally:
        keras.config.set_dtype_policy(previous)


def _build_compiled(name, config, dataset, strategy, overrides):
    cfg = zoo.get_config(name, config)
    if dataset is not None:
        info = zoo.dataset_info(dataset)
        if info.kind == "image" and "channels" in zoo.registry.constructor_args(zoo.get_model_class(name)):
            cfg["model"]["channels"] = info.channels
    cfg["model"].update(overrides)
    zoo.registry.check_kwargs(zoo.get_model_class(name), cfg["model"])
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        model = zoo.get_model_class(name)(**cfg["model"])
        model.compile(**{key: make_optimizer(cfg["train"][key]) for key in OPTIMIZER_KEYS if key in cfg["train"]})
    return model, cfg


def resumed_precision(out, precision) -> dict | None:
    """The precision record of the run a `train` call into `out` resumes (None for a fresh run).

    A backup holds float32 weights in every policy, but the steps after it are bit-identical to the uninterrupted
    run's only under the same dtype policy: ``"auto"`` takes the recorded one (another machine, or an environment
    that turned oneDNN off, would pick another), and a named precision that differs from it is refused."""
    if out is None or not (Path(out) / "run.json").exists() or select_backup(Path(out) / "backup") is None:
        return None
    record = json.loads((Path(out) / "run.json").read_text()).get("precision")
    if not isinstance(record, dict) or "policy" not in record:
        return None  # a run from before precision was recorded
    if precision not in ("auto", record["policy"]):
        raise ValueError(f"{out} holds a run trained in {record['policy']}; it resumes exactly only in that policy. "
                         f"Pass precision='auto' (or {record['policy']!r}) to resume it, or another `out` to start a "
                         f"new run in {precision}.")
    return record


def train(name, dataset, *, config="default", epochs=None, out=None, strategy="auto", batch_size=None,
          steps_per_epoch=None, precision="auto", seed=0, verbose="auto", callbacks=(), data_dir=None,
          backup_every=DEFAULT_EVERY, **overrides):
    """Train model `name` on `dataset` with the config's recipe; returns ``(model, history)``.

    With `out`, the run writes backups, checkpoints, sample grids, TensorBoard logs and ``run.json`` there, and a
    second call with the same arguments resumes a killed run exactly: from its last backup (every `backup_every`,
    `trainers.resume.ExactBackup`), on the batches and noise the uninterrupted run would have drawn. The data is
    one endless stream addressed by step (`zoo.load_dataset(..., repeat=True, start_step=k)`); an epoch is
    ``steps_per_epoch`` batches (default: one pass, ``examples // batch_size``).
    """
    strat = get_strategy(strategy) if isinstance(strategy, str) else strategy
    keras.utils.set_random_seed(seed)
    recorded = resumed_precision(out, precision)
    model, cfg = build_compiled(name, config, dataset=dataset, strategy=strat,
                                precision=recorded["policy"] if recorded else precision, seed=seed, **overrides)
    if recorded:
        cfg["precision"] = recorded  # the choice (and its reason) of the run's first call
    recipe = cfg["train"]
    epochs = epochs or recipe["epochs"]
    batch_size = batch_size or recipe["batch_size"]
    steps_per_epoch = (steps_per_epoch or recipe.get("steps_per_epoch")
                       or max(1, zoo.data.num_examples(dataset, "train", data_dir) // batch_size))
    cbs = list(callbacks)
    backup = None
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        backup = ExactBackup(out / "backup", every=backup_every)
        if is_chief():
            run = {"model": name, "config": config, "dataset": dataset, "epochs": epochs, "batch_size": batch_size,
                   "steps_per_epoch": steps_per_epoch, "strategy": strategy if isinstance(strategy, str) else
                   type(strategy).__name__, "replicas": strat.num_replicas_in_sync, "precision": cfg["precision"],
                   "seed": seed, "backup_every": backup_every, "model_config": cfg["model"], "train_config": recipe,
                   "versions": {"tensorflow": tf.__version__, "keras": keras.__version__,
                                "python": platform.python_version()}}
            (out / "run.json").write_text(json.dumps(run, indent=1, default=str))
        cbs = standard_callbacks(out, backup=backup) + cbs
    ds = zoo.load_dataset(dataset, "train", batch_size, image_size=getattr(model, "image_size", None),
                          with_labels=getattr(model, "needs_labels", False), repeat=True,
                          crop=getattr(model, "data_crop", None), seed=seed, strategy=strat, data_dir=data_dir,
                          start_step=backup.resume_step() if backup else 0)
    if hasattr(model, "use_bank_images"):  # a model searching the training set (feature_conditioned_gan's bank)
        model.use_bank_images(zoo.load_arrays(dataset, "train", image_size=model.image_size, data_dir=data_dir)[0])
    history = model.fit(ds, epochs=epochs, steps_per_epoch=steps_per_epoch, callbacks=cbs, verbose=verbose,
                        shuffle=False)
    if out is not None and is_chief():
        model.save(out / "model.keras")
    return model, history
