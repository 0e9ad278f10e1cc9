"""Export a zoo generator as a SavedModel that TF Serving loads as is.

Layout (TF Serving's): ``BASE/<version>/saved_model.pb, variables/, assets.extra/``. The version directory
is written into ``BASE/.tmp-<version>-<pid>`` first and renamed into place, so a server polling BASE never
sees a half-written version. Signatures (method ``tensorflow/serving/predict``):

* ``serving_default``: ``latent`` float32 ``[B, latent_dim]`` -> ``images`` float32 in [-1, 1] and
  ``images_uint8`` (``round((x + 1) * 127.5)``, clipped); for 2-D point generators, ``points`` ``[B, 2]``.
* ``generate_from_seed``: ``seed`` int64 scalar, ``count`` int32 scalar -> the same outputs, from latents
  ``model.sample_latent(count, [seed, 0])``: deterministic, equal to ``model.generate(count, seed)``.

``assets.extra/model_card.json`` records method, config, dataset, training steps and metric records;
``assets.extra/tf_serving_warmup_requests`` holds one PredictRequest per signature (TF Serving's warmup
format) when tensorflow-serving-api is installed.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import keras
import tensorflow as tf


def next_version(base) -> int:
    base = Path(base)
    versions = [int(p.name) for p in base.iterdir() if p.is_dir() and p.name.isdigit()] if base.exists() else []
    return max(versions, default=0) + 1


def _outputs(samples):
    """Images -> ``images`` and ``images_uint8``; 2-D point generators -> ``points``."""
    samples = tf.cast(samples, tf.float32)
    if samples.shape.rank != 4:
        return {"points": samples}
    uint8 = tf.cast(tf.clip_by_value(tf.round((samples + 1.0) * 127.5), 0.0, 255.0), tf.uint8)
    return {"images": samples, "images_uint8": uint8}


def generator_signatures(model) -> dict:
    """``{name: tf.function with input_signature}`` for every generator."""
    gen = model.generator

    @tf.function(input_signature=[tf.TensorSpec([None, model.latent_dim], tf.float32, name="latent")])
    def serving_default(latent):
        return _outputs(gen(latent, training=False))

    @tf.function(input_signature=[tf.TensorSpec([], tf.int64, name="seed"), tf.TensorSpec([], tf.int32, name="count")])
    def generate_from_seed(seed, count):
        z = model.sample_latent(count, tf.stack([tf.cast(seed, tf.int32), 0]))
        return _outputs(gen(z, training=False))

    return {"serving_default": serving_default, "generate_from_seed": generate_from_seed}


def _warmup_requests(signatures: dict, latent_dim: int) -> list:
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    examples = {
        "serving_default": {"latent": tf.zeros([1, latent_dim], tf.float32)},
        "generate_from_seed": {"seed": tf.constant(0, tf.int64), "count": tf.constant(1, tf.int32)},
    }
    logs = []
    for name in signatures:
        if name not in examples:
            continue
        req = predict_pb2.PredictRequest(model_spec=model_pb2.ModelSpec(signature_name=name))
        for key, value in examples[name].items():
            req.inputs[key].CopyFrom(tf.make_tensor_proto(value))
        logs.append(prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=req)))
    return logs


def export_generator(model, base_dir, version: int | None = None, *, model_card: dict | None = None) -> Path:
    """Write `model`'s generator to ``base_dir/<version>/`` atomically; returns that directory.

    Args:
        model: a zoo model with ``generator``, ``latent_dim`` and ``sample_latent``.
        base_dir: the model's base path as TF Serving sees it.
        version: integer version; default the next one after the highest present.
        model_card: extra fields for ``assets.extra/model_card.json``.
    """
    base = Path(base_dir)
    base.mkdir(parents=True, exist_ok=True)
    version = next_version(base) if version is None else int(version)
    target = base / str(version)
    if target.exists():
        raise FileExistsError(f"{target} exists: versions are immutable, pick another version or leave it unset.")
    tmp = base / f".tmp-{version}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    signatures = generator_signatures(model)
    archive = keras.export.ExportArchive()
    archive.track(model.generator)
    for name, fn in signatures.items():
        archive.add_endpoint(name, fn)
    try:
        archive.write_out(str(tmp), verbose=False)
        extra = tmp / "assets.extra"
        extra.mkdir(exist_ok=True)
        card = {"method": getattr(model, "zoo_name", type(model).__name__), "model_config": model.get_config(),
                "signatures": sorted(signatures), "version": version}
        card.update(model_card or {})
        (extra / "model_card.json").write_text(json.dumps(card, indent=1, default=str))
        try:
            logs = _warmup_requests(signatures, model.latent_dim)
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
