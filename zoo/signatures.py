"""Serving signatures: what a TF Serving client can ask a zoo generator for. Each model declares its own
(``model.serving_signatures(limits)``, `ServingSignatures`); `export` asks the model and writes them out.

Every signature is a ``tf.function`` with an ``input_signature`` (TF Serving needs fixed names, dtypes and ranks)
and returns a dict of named outputs. Images come back twice: ``images`` float32 in [-1, 1] and ``images_uint8``
(``round((x + 1) * 127.5)`` clipped to 0..255); 2-D point generators return ``points``. All inputs are required
(TF Serving has no optional inputs): pass zeros where a method's docstring says so. Every model has:

    ``serving_default``   latent ``[B, D]`` -> images of G(latent).
    ``generate_from_seed`` seed int64, count int32 -> ``count`` images from ``model.sample_latent(count,
                          [seed, SEED_STREAMS["sample"]])``: equal to ``model.generate(count, seed)``.
    ``interpolate``       latent_a, latent_b ``[B, D]``, steps int32 -> ``latents`` ``[B, steps, D]`` on the line
                          ``(1 - t) a + t b``, t = 0 .. 1, and their images ``[B, steps, ...]``.

and the methods add theirs next to their models: ``walk_block`` (growing GANs, `zoo.growing.signatures`),
``encode`` / ``reconstruct`` (VAE-type, `zoo.vae.signatures`), ``generate_with_attributes`` / ``edit`` and the
attribute-conditioned ``generate_from_seed`` (LSC, `zoo.lsc_gan.signatures`), ``generate_from_codes`` / ``cluster``
(`zoo.latentgan_ae.signatures`), ``generate_like`` (`zoo.lsc_conditioned.signatures`).

Bounds (``Limits``, recorded in the model card, set at export): every signature checks its inputs inside the graph,
before any work, so a request cannot make the SavedModel do unbounded work or answer inf/NaN -- in a dev server
and in real TF Serving alike. A violation is an ``InvalidArgument`` (HTTP 400) that names the input and the limit:
    * images generated per request (``count``; ``B * steps``; ``rows * ((keyframes - 1) * steps_between + 1)``;
      the batch ``B`` of a batched input) <= ``max_outputs``; sizes >= 1;
    * float inputs finite and within ``+-max_abs_value`` (1e39 in a JSON latent is inf in float32).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from trainers.steps import SEED_STREAMS
from trainers.visualize import to_uint8
from zoo import walks

PREDICT_METHOD = "tensorflow/serving/predict"


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one request may ask of an export (checked inside each signature's graph).

    Args:
        max_outputs: most images (or points) one request may generate or take: 256 images of 32x32 float32 are
            1 MB of tensor and about 3 MB of JSON per output.
        max_abs_value: float inputs (latents, noise, strengths, images) must be finite and within this magnitude.
    """

    max_outputs: int = 256
    max_abs_value: float = 1e6

    def __post_init__(self):
        if int(self.max_outputs) < 1 or not float(self.max_abs_value) > 0:
            raise ValueError(f"Limits need max_outputs >= 1 and max_abs_value > 0, got {self}.")


def guarded(checks, *tensors):
    """`tensors` behind `checks`: nothing downstream starts before the checks pass (TF runs independent ops in any
    order, so an assert alone would not stop a huge ``tf.random`` draw from starting)."""
    with tf.control_dependencies(checks):
        out = tuple(tf.identity(t) for t in tensors)
    return out[0] if len(out) == 1 else out


def check(condition, message: str):
    """``tf.debugging.Assert`` with only a string as data: TF then emits one Assert op, where the ``assert_*``
    helpers (which also print the tensors) wrap it in a ``cond`` -- measurably slower on every call."""
    return tf.debugging.Assert(condition, [message])


def size_checks(limits: Limits, what: str, size) -> list:
    """``1 <= size <= max_outputs`` for a request size (int64, so a product of inputs cannot wrap)."""
    size = tf.cast(size, tf.int64)
    return [check(size >= 1, f"{what} must be >= 1"),
            check(size <= limits.max_outputs, f"{what} must be <= {limits.max_outputs} (max_outputs of this export; "
                   "split the request, or re-export with a larger max_outputs)")]


def value_checks(limits: Limits, **inputs) -> list:
    """Every float input finite and within +-max_abs_value (NaN fails the comparison too)."""
    return [check(tf.reduce_all(tf.abs(x) <= limits.max_abs_value), f"input {name} must be finite and within "
                   f"+-{limits.max_abs_value:g} (max_abs_value of this export)") for name, x in inputs.items()]


def batch_checks(limits: Limits, **inputs) -> list:
    """The batch (leading dimension) of each batched input within ``1..max_outputs``."""
    return [c for name, x in inputs.items() for c in size_checks(limits, f"the batch of input {name}",
                                                                   tf.shape(x)[0])]


@dataclasses.dataclass
class Signature:
    """A serving signature: the traced function, ``example(batch, rng) -> {input name: np.ndarray}`` (TF Serving's
    warmup requests and the tests use it), and ``reference(model, inputs) -> {output: np.ndarray}``, the same
    request answered through the model's public Python API (what the export tests compare the SavedModel with)."""

    fn: Callable
    example: Callable
    reference: Callable


def to_outputs(samples) -> dict:
    """Generator samples of any leading shape -> ``images`` and ``images_uint8``, or ``points`` (2-D generators)."""
    samples = tf.cast(samples, tf.float32)
    if samples.shape.rank < 4:
        return {"points": samples}
    uint8 = tf.cast(tf.clip_by_value(tf.round((samples + 1.0) * 127.5), 0.0, 255.0), tf.uint8)
    return {"images": samples, "images_uint8": uint8}


def render(model, latents):
    """G over latents ``[..., D]`` (inference mode), keeping the leading shape."""
    lead = tf.shape(latents)[:-1]
    out = model.generator(tf.reshape(latents, [-1, model.latent_dim]), training=False)
    return tf.reshape(out, tf.concat([lead, tf.shape(out)[1:]], axis=0))


def stream_seed(seed, second):
    return tf.stack([tf.cast(seed, tf.int32), tf.constant(second, tf.int32)])


def spec(shape, dtype, name):
    return tf.TensorSpec(shape, dtype, name=name)


def image_spec(model):
    return spec([None, model.image_size, model.image_size, model.channels], tf.float32, "images")


def images_example(model):
    return lambda b, rng: {"images": rng.uniform(-1, 1, (b, model.image_size, model.image_size, model.channels))
                           .astype(np.float32)}


def normal(rng, *shape):
    return rng.normal(size=shape).astype(np.float32)


def scalars(**values):
    return {k: np.asarray(v, np.int64 if k == "seed" else np.int32) for k, v in values.items()}


def checked_images(limits, images):
    return guarded(batch_checks(limits, images=images) + value_checks(limits, images=images), images)



# --------------------------------------------------------------------------------------------- every model
def common_signatures(model, limits: Limits) -> dict[str, Signature]:
    """``serving_default``, ``generate_from_seed`` and ``interpolate``: every generator's."""
    d = model.latent_dim

    @tf.function(input_signature=[spec([None, d], tf.float32, "latent")])
    def serving_default(latent):
        latent = guarded(batch_checks(limits, latent=latent) + value_checks(limits, latent=latent), latent)
        return to_outputs(model.generator(latent, training=False))

    @tf.function(input_signature=[spec([], tf.int64, "seed"), spec([], tf.int32, "count")])
    def generate_from_seed(seed, count):
        count = guarded(size_checks(limits, "count", count), count)
        latents = model.sample_latent(count, stream_seed(seed, SEED_STREAMS["sample"]))
        return to_outputs(model.generator(latents, training=False))

    def seed_example(b, rng):
        return scalars(seed=0, count=b)

    @tf.function(input_signature=[spec([None, d], tf.float32, "latent_a"), spec([None, d], tf.float32, "latent_b"),
                                  spec([], tf.int32, "steps")])
    def interpolate(latent_a, latent_b, steps):
        """``(1 - t) a + t b`` for t = linspace(0, 1, steps) (both ends included)."""
        checks = batch_checks(limits, latent_a=latent_a) + size_checks(limits, "steps", steps) + size_checks(
            limits, "images asked for (batch x steps)", tf.cast(tf.shape(latent_a)[0], tf.int64) * tf.cast(
                steps, tf.int64)) + value_checks(limits, latent_a=latent_a, latent_b=latent_b)
        checks.append(check(tf.shape(latent_a)[0] == tf.shape(latent_b)[0],
                            "latent_a and latent_b must have the same batch size"))
        latent_a, latent_b, steps = guarded(checks, latent_a, latent_b, steps)
        t = tf.linspace(0.0, 1.0, steps)[None, :, None]
        latents = (1.0 - t) * latent_a[:, None] + t * latent_b[:, None]
        return {"latents": latents, **to_outputs(render(model, latents))}

    return {
        "serving_default": Signature(serving_default, lambda b, rng: {"latent": normal(rng, b, d)}, lambda m, x: (
            image_outputs(m.generator(x["latent"], training=False)))),
        "generate_from_seed": Signature(generate_from_seed, seed_example, lambda m, x: image_outputs(
            m.generate(int(x["count"]), int(x["seed"])))),
        "interpolate": Signature(interpolate, lambda b, rng: {"latent_a": normal(rng, b, d),
                                                              "latent_b": normal(rng, b, d), **scalars(steps=3)},
                                 _interpolate_reference),
    }


def image_outputs(samples) -> dict:
    """`to_outputs` in numpy, for references computed through the Python API."""
    x = np.asarray(samples, np.float32)
    return {"points": x} if x.ndim < 4 else {"images": x, "images_uint8": to_uint8(x)}


def _interpolate_reference(model, x):
    latents = np.stack([walks.interpolate(a, b, int(x["steps"])) for a, b in zip(x["latent_a"], x["latent_b"])])
    return {"latents": latents, **image_outputs(walks.render(model, latents))}


class ServingSignatures:
    """``serving_signatures(limits)``: the model's signatures. Models add theirs by overriding it and extending
    ``super().serving_signatures(limits)``."""

    def serving_signatures(self, limits: Limits | None = None) -> dict[str, Signature]:
        return common_signatures(self, limits or Limits())
