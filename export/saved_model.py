"""Export a zoo generator as a SavedModel that TF Serving loads as is.

Layout (TF Serving's): ``BASE/<version>/saved_model.pb, variables/, assets.extra/``. The version directory
is written into ``BASE/.tmp-<version>-<pid>`` first and renamed into place, so a server polling BASE never
sees a half-written version (TF Serving and ``serving``'s dev server skip names that are not integers).
The signatures (method ``tensorflow/serving/predict``) are the method's, listed in `export.signatures`.

``assets.extra/model_card.json``: method, config, dataset, training steps, metric records (each with its
protocol), the model's constructor config, the dtype policy it was trained in and every signature's inputs and
outputs.

The SavedModel computes in float32 whatever the training precision (`computing_in_float32`): mixed precision is a
training speed-up, and a float32 graph runs on every CPU and GPU TF Serving runs on (bfloat16 kernels need the
hardware ``precision="auto"`` looked for, float16 ones a GPU), and gives the same answers everywhere.
``assets.extra/tf_serving_warmup_requests``: one PredictRequest per batchable signature (`warmup_requests`), from
its example inputs (TF Serving's warmup format: a TFRecord of ``PredictionLog``), written when tensorflow-serving-api is
installed.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from export.signatures import Limits, signatures_for
from trainers.callbacks import optimizer_iterations


@contextlib.contextmanager
def computing_in_float32(model):
    """Within the block, every layer of `model` computes in float32 (its variables are float32 under Keras' mixed
    policies already); the layers' own policies come back after it. Tracing a signature inside the block gives a
    float32 graph; calling the model inside it gives the float32 answers that graph gives."""
    layers = list(model._flatten_layers(include_self=True, recursive=True))
    policies = [layer.dtype_policy for layer in layers]
    try:
        for layer in layers:
            layer.dtype_policy = "float32"
        yield model
    finally:
        for layer, policy in zip(layers, policies):
            layer.dtype_policy = policy


def next_version(base) -> int:
    base = Path(base)
    versions = [int(p.name) for p in base.iterdir() if p.is_dir() and p.name.isdigit()] if base.exists() else []
    return max(versions, default=0) + 1


def training_steps(model) -> int | None:
    """Optimizer steps taken: the most of ``g_optimizer``, ``d_optimizer`` and ``optimizer``'s iterations."""
    return max(optimizer_iterations(model).values(), default=None)


def _describe(fn) -> dict:
    concrete = fn.get_concrete_function()
    spec = lambda s: {"dtype": s.dtype.name, "shape": [None if d is None else int(d) for d in s.shape]}  # noqa: E731
    outputs = tf.nest.map_structure(spec, concrete.structured_outputs)
    return {"inputs": {s.name: spec(s) for s in fn.input_signature}, "outputs": outputs}


def batchable(sig) -> bool:
    """Whether TF Serving's batching session can run `sig`: every input has a leading batch dimension. (With
    ``--enable_batching`` it refuses the others: "Batching Run() input tensors must have at least one dimension".)"""
    return all(s.shape.rank and s.shape[0] is None for s in sig.fn.input_signature)


def warmup_requests(signatures: dict, batch: int = 1, seed: int = 0) -> list:
    """``PredictionLog`` protos, one per batchable signature, from each signature's example inputs.

    TF Serving replays warmup through the batching session when ``--enable_batching`` is on, and a failed warmup
    request fails the load; so signatures with scalar inputs (seed, count, steps) get no warmup record, and an
    export loads with batching on or off."""
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    rng = np.random.default_rng(seed)
    logs = []
    for name, sig in signatures.items():
        if not batchable(sig):
            continue
        req = predict_pb2.PredictRequest(model_spec=model_pb2.ModelSpec(signature_name=name))
        for key, value in sig.example(batch, rng).items():
            req.inputs[key].CopyFrom(tf.make_tensor_proto(value))
        logs.append(prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=req)))
    return logs


def export_generator(model, base_dir, version: int | None = None, *, model_card: dict | None = None,
                     limits: Limits | None = None) -> Path:
    """Write `model`'s generator to ``base_dir/<version>/`` atomically; returns that directory.

    Args:
        model: a zoo model with ``generator``, ``latent_dim`` and ``sample_latent``.
        base_dir: the model's base path as TF Serving sees it.
        version: integer version; default the next one after the highest present.
        model_card: fields for ``assets.extra/model_card.json`` (``config``, ``dataset``, ``metrics``, ...).
        limits: what one request may ask (`export.signatures.Limits`; default ``Limits()``), checked inside every
            signature and written to the model card as ``limits``.
    """
    limits = limits or Limits()
    base = Path(base_dir)
    base.mkdir(parents=True, exist_ok=True)
    version = next_version(base) if version is None else int(version)
    target = base / str(version)
    if target.exists():
        raise FileExistsError(f"{target} exists: versions are immutable, pick another version or leave it unset.")
    tmp = base / f".tmp-{version}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    trained_policy = model.generator.dtype_policy.name
    try:
        with computing_in_float32(model):
            signatures = signatures_for(model, limits)
            archive = keras.export.ExportArchive()
            archive.track(model)
            for name, sig in signatures.items():
                archive.add_endpoint(name, sig.fn)
            archive.write_out(str(tmp), verbose=False)
        extra = tmp / "assets.extra"
        extra.mkdir(exist_ok=True)
        card = {"method": getattr(model, "zoo_name", type(model).__name__), "config": None, "dataset": None,
                "training_steps": training_steps(model), "metrics": [], "version": version,
                "model_config": model.get_config(),
                "trained_dtype_policy": trained_policy, "serving_dtype": "float32",
                "limits": dataclasses.asdict(limits),
                "signatures": {name: _describe(sig.fn) for name, sig in signatures.items()}}
        card.update(model_card or {})
        (extra / "model_card.json").write_text(json.dumps(card, indent=1, default=str))
        try:
            logs = warmup_requests(signatures)
        except ImportError:
            logs = []
        if logs:
            with tf.io.TFRecordWriter(str(extra / "tf_serving_warmup_requests")) as writer:
                for log in logs:
                    writer.write(log.SerializeToString())
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
