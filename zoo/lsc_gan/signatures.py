"""Serving signatures of the LSC models (``lsc_vae``, ``lsc_gan``; attribute-conditioned prior N(n_S, I), LSC-GAN
eq. 8): ``generate_with_attributes`` noise ``[B, D]``, attributes ``[B, A]`` -> G(mu_S + noise); ``edit`` latent
``[B, D]``, add, remove ``[B, A]`` -> ``latent`` z + n_add - n_remove and its images; ``generate_from_seed`` takes
the ``attributes`` strengths ``[A]`` as its condition."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from trainers.steps import SEED_STREAMS
from zoo.signatures import (Limits, Signature, batch_checks, check, guarded, image_outputs, normal, scalars,
                            size_checks, spec, stream_seed, to_outputs, value_checks)


def attribute_signatures(model, limits: Limits) -> dict[str, Signature]:
    """``generate_with_attributes``, ``edit`` and the attribute-conditioned ``generate_from_seed``."""
    d, size = model.latent_dim, model.attributes.size

    @tf.function(input_signature=[spec([], tf.int64, "seed"), spec([], tf.int32, "count"),
                                  spec([size], tf.float32, "attributes")])
    def generate_from_seed(seed, count, attributes):
        """z ~ N(n_S, I): n_S = attributes repeated over each attribute's block (LSC-GAN eq. 8)."""
        count, attributes = guarded(size_checks(limits, "count", count) + value_checks(
            limits, attributes=attributes), count, attributes)
        offset = model.attributes.mean(attributes[None])
        noise = tf.random.stateless_normal([count, d], stream_seed(seed, SEED_STREAMS["sample"]))
        return to_outputs(model.generator(offset + noise, training=False))

    def seed_example(b, rng):
        return {**scalars(seed=0, count=b), "attributes": np.eye(size, dtype=np.float32)[0]}

    @tf.function(input_signature=[spec([None, d], tf.float32, "noise"), spec([None, size], tf.float32, "attributes")])
    def generate_with_attributes(noise, attributes):
        checks = batch_checks(limits, noise=noise) + value_checks(limits, noise=noise, attributes=attributes)
        checks.append(check(tf.shape(noise)[0] == tf.shape(attributes)[0],
                            "noise and attributes must have the same batch size"))
        noise, attributes = guarded(checks, noise, attributes)
        return to_outputs(model.generator(model.attributes.mean(attributes) + noise, training=False))

    @tf.function(input_signature=[spec([None, d], tf.float32, "latent"), spec([None, size], tf.float32, "add"),
                                  spec([None, size], tf.float32, "remove")])
    def edit(latent, add, remove):
        """Eq. 8: z' = z + n_add - n_remove."""
        latent, add, remove = guarded(batch_checks(limits, latent=latent) + value_checks(
            limits, latent=latent, add=add, remove=remove), latent, add, remove)
        edited = latent + model.attributes.mean(add) - model.attributes.mean(remove)
        return {"latent": edited, **to_outputs(model.generator(edited, training=False))}

    def one_hot(rng, b):
        return np.eye(size, dtype=np.float32)[rng.integers(0, size, b)]

    def seed_reference(m, x):
        return image_outputs(m.generate_attributes(_strengths(x["attributes"]), int(x["count"]), int(x["seed"])))

    def attributes_reference(m, x):
        z = np.stack([m.attributes.offset(_strengths(a)) for a in x["attributes"]]) + x["noise"]
        return image_outputs(m.generator(z, training=False))

    def edit_reference(m, x):
        z = np.concatenate([m.edit(z[None], add=_strengths(a), remove=_strengths(r))
                            for z, a, r in zip(x["latent"], x["add"], x["remove"])])
        return {"latent": z, **image_outputs(m.generator(z, training=False))}

    return {
        "generate_from_seed": Signature(generate_from_seed, seed_example, seed_reference),
        "generate_with_attributes": Signature(generate_with_attributes, lambda b, rng: {
            "noise": normal(rng, b, d), "attributes": one_hot(rng, b)}, attributes_reference),
        "edit": Signature(edit, lambda b, rng: {"latent": normal(rng, b, d), "add": one_hot(rng, b),
                                                "remove": one_hot(rng, b)}, edit_reference),
    }


def _strengths(row):
    return {i: float(v) for i, v in enumerate(row) if v}
