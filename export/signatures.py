"""The serving signatures of each zoo method: what a TF Serving client can ask a generator for.

Every signature is a ``tf.function`` with an ``input_signature`` (TF Serving needs fixed names, dtypes and ranks)
and returns a dict of named outputs. Images come back twice: ``images`` float32 in [-1, 1] and ``images_uint8``
(``round((x + 1) * 127.5)`` clipped to 0..255); 2-D point generators return ``points``. All inputs are required
(TF Serving has no optional inputs): pass zeros where a method's docstring says so.

Every generator:
    ``serving_default``   latent ``[B, D]`` -> images of G(latent).
    ``generate_from_seed`` seed int64, count int32 (LSC models: and ``attributes`` ``[A]`` strengths) -> ``count``
                          images from latents ``model.sample_latent(count, [seed, 0])`` (LSC: N(n_S, I)); equal to
                          ``model.generate(count, seed)`` / ``model.generate_attributes(...)``, deterministic.
    ``interpolate``       latent_a, latent_b ``[B, D]``, steps int32 -> ``latents`` ``[B, steps, D]`` on the line
                          ``(1 - t) a + t b``, t = 0 .. 1, and their images ``[B, steps, ...]``.
Growing GANs (thesis 7.2.1):
    ``walk_block``        seed, rows, block_start, block_end (0-based, end exclusive), keyframes, steps_between ->
                          per row a reference latent whose block is resampled ``keyframes - 1`` times, keyframes
                          joined by lerp; equal to ``zoo.walks.block_walk_latents``.
VAE-type models (``vae``, ``lsr_gan``, ``lsc_vae``, ``lsc_gan``):
    ``encode``            images -> ``mean``, ``log_variance`` of q(z|x).
    ``reconstruct``       images -> G(mu(x)) (LSR-GAN's "seeded" image; the decoder's mean for a VAE).
LSC models (attribute-conditioned prior N(n_S, I), LSC-GAN eq. 8):
    ``generate_with_attributes`` noise ``[B, D]``, attributes ``[B, A]`` -> G(mu_S + noise).
    ``edit``              latent ``[B, D]``, add, remove ``[B, A]`` -> ``latent`` z + n_add - n_remove and its images.
``latentgan_ae``:
    ``generate_from_codes`` categorical int32 ``[B, n_codes]``, continuous ``[B, n_cont]``, noise ``[B, noise_dim]``
                          -> Dec(G(lc)); a code outside 0..K-1 is an INVALID_ARGUMENT error naming K.
    ``cluster``           images -> ``clusters`` int64 ``[B, n_codes]`` (argmax Q(c|Enc(x))) and
                          ``probabilities_k`` ``[B, K_k]`` per code.
``lsc_conditioned_gan``:
    ``generate_like``     images, seed -> one new image per input, G(z ⊕ f(x)), z from ``[seed, 2]``; equal to
                          ``model.generate_like(images, seed)``.

Each signature also has example inputs (``Signature.example``): TF Serving's warmup requests and the tests use them.

Bounds (``Limits``, recorded in the model card, set at export): every signature checks its inputs inside the graph,
before any work, so a request cannot make the SavedModel do unbounded work or answer inf/NaN -- in the dev server
and in real TF Serving alike. A violation is an ``InvalidArgument`` (HTTP 400) that names the input and the limit:
    * images generated per request (``count``; ``B * steps``; ``rows * ((keyframes - 1) * steps_between + 1)``;
      the batch ``B`` of a batched input) <= ``max_outputs``; sizes >= 1;
    * float inputs finite and within ``+-max_abs_value`` (1e39 in a JSON latent is inf in float32).
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np
import tensorflow as tf

from trainers.growing import GrowingMixin
from zoo.latentgan_ae.model import LatentGANAE
from zoo.lsc_conditioned.model import LSCConditionedGAN
from zoo.lsc_gan.attributes import AttributeSpace
from zoo.vae.model import VAE

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


def _guarded(checks, *tensors):
    """`tensors` behind `checks`: nothing downstream starts before the checks pass (TF runs independent ops in any
    order, so an assert alone would not stop a huge ``tf.random`` draw from starting)."""
    with tf.control_dependencies(checks):
        out = tuple(tf.identity(t) for t in tensors)
    return out[0] if len(out) == 1 else out


def _check(condition, message: str):
    """``tf.debugging.Assert`` with only a string as data: TF then emits one Assert op, where the ``assert_*``
    helpers (which also print the tensors) wrap it in a ``cond`` -- measurably slower on every call."""
    return tf.debugging.Assert(condition, [message])


def _size_checks(limits: Limits, what: str, size) -> list:
    """``1 <= size <= max_outputs`` for a request size (int64, so a product of inputs cannot wrap)."""
    size = tf.cast(size, tf.int64)
    return [_check(size >= 1, f"{what} must be >= 1"),
            _check(size <= limits.max_outputs, f"{what} must be <= {limits.max_outputs} (max_outputs of this export; "
                   "split the request, or re-export with a larger max_outputs)")]


def _value_checks(limits: Limits, **inputs) -> list:
    """Every float input finite and within +-max_abs_value (NaN fails the comparison too)."""
    return [_check(tf.reduce_all(tf.abs(x) <= limits.max_abs_value), f"input {name} must be finite and within "
                   f"+-{limits.max_abs_value:g} (max_abs_value of this export)") for name, x in inputs.items()]


def _batch_checks(limits: Limits, **inputs) -> list:
    """The batch (leading dimension) of each batched input within ``1..max_outputs``."""
    return [c for name, x in inputs.items() for c in _size_checks(limits, f"the batch of input {name}",
                                                                   tf.shape(x)[0])]


@dataclasses.dataclass
class Signature:
    """A serving signature: the traced function and ``example(batch, rng) -> {input name: np.ndarray}``."""

    fn: Callable
    example: Callable


def to_outputs(samples) -> dict:
    """Generator samples of any leading shape -> ``images`` and ``images_uint8``, or ``points`` (2-D generators)."""
    samples = tf.cast(samples, tf.float32)
    if samples.shape.rank < 4:
        return {"points": samples}
    uint8 = tf.cast(tf.clip_by_value(tf.round((samples + 1.0) * 127.5), 0.0, 255.0), tf.uint8)
    return {"images": samples, "images_uint8": uint8}


def _render(model, latents):
    """G over latents ``[..., D]`` (inference mode), keeping the leading shape."""
    lead = tf.shape(latents)[:-1]
    out = model.generator(tf.reshape(latents, [-1, model.latent_dim]), training=False)
    return tf.reshape(out, tf.concat([lead, tf.shape(out)[1:]], axis=0))


def _seed(seed, second):
    return tf.stack([tf.cast(seed, tf.int32), tf.constant(second, tf.int32)])


def _spec(shape, dtype, name):
    return tf.TensorSpec(shape, dtype, name=name)


def _image_spec(model):
    return _spec([None, model.image_size, model.image_size, model.channels], tf.float32, "images")


def _images_example(model):
    return lambda b, rng: {"images": rng.uniform(-1, 1, (b, model.image_size, model.image_size, model.channels))
                           .astype(np.float32)}


def _normal(rng, *shape):
    return rng.normal(size=shape).astype(np.float32)


def _scalars(**values):
    return {k: np.asarray(v, np.int64 if k == "seed" else np.int32) for k, v in values.items()}


# --------------------------------------------------------------------------------------------- every model
def generator_signatures(model, limits: Limits) -> dict[str, Signature]:
    d = model.latent_dim
    conditional = _attribute_space(model) is not None

    @tf.function(input_signature=[_spec([None, d], tf.float32, "latent")])
    def serving_default(latent):
        latent = _guarded(_batch_checks(limits, latent=latent) + _value_checks(limits, latent=latent), latent)
        return to_outputs(model.generator(latent, training=False))

    if conditional:
        size = model.attributes.size

        @tf.function(input_signature=[_spec([], tf.int64, "seed"), _spec([], tf.int32, "count"),
                                      _spec([size], tf.float32, "attributes")])
        def generate_from_seed(seed, count, attributes):
            """z ~ N(n_S, I): n_S = attributes repeated over each attribute's block (LSC-GAN eq. 8)."""
            count, attributes = _guarded(_size_checks(limits, "count", count) + _value_checks(
                limits, attributes=attributes), count, attributes)
            offset = model.attributes.mean(attributes[None])
            return to_outputs(model.generator(offset + tf.random.stateless_normal([count, d], _seed(seed, 0)),
                                              training=False))

        def seed_example(b, rng):
            return {**_scalars(seed=0, count=b), "attributes": np.eye(size, dtype=np.float32)[0]}
    else:
        @tf.function(input_signature=[_spec([], tf.int64, "seed"), _spec([], tf.int32, "count")])
        def generate_from_seed(seed, count):
            count = _guarded(_size_checks(limits, "count", count), count)
            return to_outputs(model.generator(model.sample_latent(count, _seed(seed, 0)), training=False))

        def seed_example(b, rng):
            return _scalars(seed=0, count=b)

    @tf.function(input_signature=[_spec([None, d], tf.float32, "latent_a"), _spec([None, d], tf.float32, "latent_b"),
                                  _spec([], tf.int32, "steps")])
    def interpolate(latent_a, latent_b, steps):
        """``(1 - t) a + t b`` for t = linspace(0, 1, steps) (both ends included)."""
        checks = _batch_checks(limits, latent_a=latent_a) + _size_checks(limits, "steps", steps) + _size_checks(
            limits, "images asked for (batch x steps)", tf.cast(tf.shape(latent_a)[0], tf.int64) * tf.cast(
                steps, tf.int64)) + _value_checks(limits, latent_a=latent_a, latent_b=latent_b)
        checks.append(_check(tf.shape(latent_a)[0] == tf.shape(latent_b)[0],
                             "latent_a and latent_b must have the same batch size"))
        latent_a, latent_b, steps = _guarded(checks, latent_a, latent_b, steps)
        t = tf.linspace(0.0, 1.0, steps)[None, :, None]
        latents = (1.0 - t) * latent_a[:, None] + t * latent_b[:, None]
        return {"latents": latents, **to_outputs(_render(model, latents))}

    return {
        "serving_default": Signature(serving_default, lambda b, rng: {"latent": _normal(rng, b, d)}),
        "generate_from_seed": Signature(generate_from_seed, seed_example),
        "interpolate": Signature(interpolate, lambda b, rng: {"latent_a": _normal(rng, b, d),
                                                              "latent_b": _normal(rng, b, d), **_scalars(steps=3)}),
    }


# --------------------------------------------------------------------------------------------- growing GANs
def walk_block_signatures(model, limits: Limits) -> dict[str, Signature]:
    d = model.latent_dim

    @tf.function(input_signature=[_spec([], tf.int64, "seed"), _spec([], tf.int32, "rows"),
                                  _spec([], tf.int32, "block_start"), _spec([], tf.int32, "block_end"),
                                  _spec([], tf.int32, "keyframes"), _spec([], tf.int32, "steps_between")])
    def walk_block(seed, rows, block_start, block_end, keyframes, steps_between):
        """Keyframe k > 0 = the reference with dimensions [block_start, block_end) from a fresh prior draw; frames
        between keyframes a, b are ``a + (b - a) * s / steps_between``, s = 0 .. steps_between - 1."""
        frames = tf.cast(rows, tf.int64) * ((tf.cast(keyframes, tf.int64) - 1) * tf.cast(steps_between, tf.int64) + 1)
        checks = [_check(block_end <= d, f"block_end must be <= latent_dim ({d})"),
                  _check(block_start < block_end, "block_start must be < block_end"),
                  _check(block_start >= 0, "block_start must be >= 0"),
                  _check(keyframes > 1, "keyframes must be >= 2"),
                  *_size_checks(limits, "rows", rows), *_size_checks(limits, "steps_between", steps_between),
                  *_size_checks(limits, "keyframes", keyframes),
                  *_size_checks(limits, "images asked for (rows x ((keyframes - 1) x steps_between + 1))", frames)]
        rows, keyframes, steps_between = _guarded(checks, rows, keyframes, steps_between)
        refs = model.sample_latent(rows, _seed(seed, 7))
        fresh = tf.reshape(model.sample_latent(rows * (keyframes - 1), _seed(tf.cast(seed, tf.int32) + 1, 7)),
                           [rows, keyframes - 1, d])
        dims = tf.range(d)
        in_block = tf.logical_and(dims >= block_start, dims < block_end)[None, None]
        keys = tf.concat([refs[:, None], tf.where(in_block, fresh, refs[:, None])], axis=1)  # [rows, K, D]
        t = (tf.cast(tf.range(steps_between), tf.float32) / tf.cast(steps_between, tf.float32))[None, None, :, None]
        a, b = keys[:, :-1, None], keys[:, 1:, None]
        path = tf.reshape(a + (b - a) * t, [rows, -1, d])
        latents = tf.concat([path, keys[:, -1:]], axis=1)
        return {"latents": latents, **to_outputs(_render(model, latents))}

    def example(b, rng):
        return _scalars(seed=0, rows=b, block_start=0, block_end=min(8, d), keyframes=3, steps_between=2)

    return {"walk_block": Signature(walk_block, example)}


# --------------------------------------------------------------------------------------------- VAE-type
def _checked_images(limits, images):
    return _guarded(_batch_checks(limits, images=images) + _value_checks(limits, images=images), images)


def encoder_signatures(model, limits: Limits) -> dict[str, Signature]:
    @tf.function(input_signature=[_image_spec(model)])
    def encode(images):
        images = _checked_images(limits, images)
        mean, log_variance = model.encode(images, training=False)
        return {"mean": mean, "log_variance": log_variance}

    @tf.function(input_signature=[_image_spec(model)])
    def reconstruct(images):
        images = _checked_images(limits, images)
        return to_outputs(model(images, training=False))

    return {"encode": Signature(encode, _images_example(model)),
            "reconstruct": Signature(reconstruct, _images_example(model))}


def _attribute_space(model):
    space = getattr(model, "attributes", None)
    return space if isinstance(space, AttributeSpace) else None


def attribute_signatures(model, limits: Limits) -> dict[str, Signature]:
    d, size = model.latent_dim, model.attributes.size

    @tf.function(input_signature=[_spec([None, d], tf.float32, "noise"), _spec([None, size], tf.float32, "attributes")])
    def generate_with_attributes(noise, attributes):
        checks = _batch_checks(limits, noise=noise) + _value_checks(limits, noise=noise, attributes=attributes)
        checks.append(_check(tf.shape(noise)[0] == tf.shape(attributes)[0],
                             "noise and attributes must have the same batch size"))
        noise, attributes = _guarded(checks, noise, attributes)
        return to_outputs(model.generator(model.attributes.mean(attributes) + noise, training=False))

    @tf.function(input_signature=[_spec([None, d], tf.float32, "latent"), _spec([None, size], tf.float32, "add"),
                                  _spec([None, size], tf.float32, "remove")])
    def edit(latent, add, remove):
        """Eq. 8: z' = z + n_add - n_remove."""
        latent, add, remove = _guarded(_batch_checks(limits, latent=latent) + _value_checks(
            limits, latent=latent, add=add, remove=remove), latent, add, remove)
        edited = latent + model.attributes.mean(add) - model.attributes.mean(remove)
        return {"latent": edited, **to_outputs(model.generator(edited, training=False))}

    def one_hot(rng, b):
        return np.eye(size, dtype=np.float32)[rng.integers(0, size, b)]

    return {
        "generate_with_attributes": Signature(generate_with_attributes, lambda b, rng: {
            "noise": _normal(rng, b, d), "attributes": one_hot(rng, b)}),
        "edit": Signature(edit, lambda b, rng: {"latent": _normal(rng, b, d), "add": one_hot(rng, b),
                                                "remove": one_hot(rng, b)}),
    }


# --------------------------------------------------------------------------------------------- latentgan_ae
def code_signatures(model, limits: Limits) -> dict[str, Signature]:
    codes = model.codes
    n_cat = len(codes.categorical)

    @tf.function(input_signature=[_spec([None, n_cat], tf.int32, "categorical"),
                                  _spec([None, codes.continuous], tf.float32, "continuous"),
                                  _spec([None, codes.noise_dim], tf.float32, "noise")])
    def generate_from_codes(categorical, continuous, noise):
        checks = _batch_checks(limits, categorical=categorical) + _value_checks(limits, continuous=continuous,
                                                                                 noise=noise)
        for i, (c, k) in enumerate(zip(tf.unstack(categorical, num=n_cat, axis=1), codes.categorical)):
            checks.append(_check(tf.reduce_all((c >= 0) & (c < k)),
                                 f"categorical code {i} must be in 0..{k - 1} (K={k})"))
        categorical, continuous, noise = _guarded(checks, categorical, continuous, noise)
        columns = tf.unstack(categorical, num=n_cat, axis=1)
        return to_outputs(model.generator(codes.assemble(noise, columns, continuous), training=False))

    @tf.function(input_signature=[_image_spec(model)])
    def cluster(images):
        images = _checked_images(limits, images)
        q = model.discriminator(model.encoder(images, training=False), training=False)
        logits = [q[f"categorical_{i}"] for i in range(n_cat)]
        out = {"clusters": tf.stack([tf.argmax(v, axis=-1) for v in logits], axis=1)}
        out.update({f"probabilities_{i}": tf.nn.softmax(v) for i, v in enumerate(logits)})
        return out

    def codes_example(b, rng):
        return {"categorical": np.stack([rng.integers(0, k, b) for k in codes.categorical], 1).astype(np.int32),
                "continuous": rng.uniform(-1, 1, (b, codes.continuous)).astype(np.float32),
                "noise": _normal(rng, b, codes.noise_dim)}

    return {"generate_from_codes": Signature(generate_from_codes, codes_example),
            "cluster": Signature(cluster, _images_example(model))}


# --------------------------------------------------------------------------------------------- lsc_conditioned_gan
def generate_like_signatures(model, limits: Limits) -> dict[str, Signature]:
    @tf.function(input_signature=[_image_spec(model), _spec([], tf.int64, "seed")])
    def generate_like(images, seed):
        images = _checked_images(limits, images)
        f = model.features(images)
        z = tf.random.stateless_normal([tf.shape(f)[0], model.noise_dim], seed=_seed(seed, 2))
        return to_outputs(model.generator(tf.concat([z, f], axis=-1), training=False))

    images = _images_example(model)
    return {"generate_like": Signature(generate_like, lambda b, rng: {**images(b, rng), **_scalars(seed=0)})}


# (applies to the model?, its extra signatures): the per-method table.
METHOD_SIGNATURES = [
    (lambda m: isinstance(m, GrowingMixin), walk_block_signatures),
    (lambda m: isinstance(m, VAE), encoder_signatures),
    (lambda m: _attribute_space(m) is not None, attribute_signatures),
    (lambda m: isinstance(m, LatentGANAE), code_signatures),
    (lambda m: isinstance(m, LSCConditionedGAN), generate_like_signatures),
]


def signatures_for(model, limits: Limits | None = None) -> dict[str, Signature]:
    """Every signature `model` exports, each bounded by `limits` (default ``Limits()``): the common ones, then its
    method's."""
    limits = limits or Limits()
    out = generator_signatures(model, limits)
    for applies, build in METHOD_SIGNATURES:
        if applies(model):
            out.update(build(model, limits))
    return out
