"""Serving signature of ``feature_conditioned_gan``: ``generate_like`` images, seed -> one new image per input,
G(z ⊕ f(x)), z from ``[seed, SEED_STREAMS["generate_like"]]``."""
from __future__ import annotations

import tensorflow as tf

from trainers.steps import SEED_STREAMS
from zoo.signatures import (Limits, Signature, checked_images, image_outputs, image_spec, images_example, scalars,
                            spec, stream_seed, to_outputs)


def generate_like_signatures(model, limits: Limits) -> dict[str, Signature]:
    """``generate_like``: equal to ``model.generate_like(images, seed)`` (both run `LSCConditionedGAN.like`)."""

    @tf.function(input_signature=[image_spec(model), spec([], tf.int64, "seed")])
    def generate_like(images, seed):
        images = checked_images(limits, images)
        return to_outputs(model.like(images, stream_seed(seed, SEED_STREAMS["generate_like"])))

    images = images_example(model)
    return {"generate_like": Signature(generate_like, lambda b, rng: {**images(b, rng), **scalars(seed=0)},
                                       lambda m, x: image_outputs(m.generate_like(x["images"], seed=int(x["seed"]))))}
