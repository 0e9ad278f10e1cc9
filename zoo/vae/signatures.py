"""Serving signatures of the VAE-type models (``vae``, ``lsr_gan``, ``lsc_vae``, ``lsc_gan``)."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from zoo.signatures import (Limits, Signature, checked_images, image_outputs, image_spec, images_example, to_outputs)


def encoder_signatures(model, limits: Limits) -> dict[str, Signature]:
    """``encode`` (images -> ``mean``, ``log_variance`` of q(z|x)) and ``reconstruct`` (images -> G(mu(x)), LSR-GAN's
    "seeded" image; the decoder's mean for a VAE)."""
    @tf.function(input_signature=[image_spec(model)])
    def encode(images):
        images = checked_images(limits, images)
        mean, log_variance = model.encode(images, training=False)
        return {"mean": mean, "log_variance": log_variance}

    @tf.function(input_signature=[image_spec(model)])
    def reconstruct(images):
        images = checked_images(limits, images)
        return to_outputs(model.reconstruct(images, training=False))

    def encode_reference(m, x):
        mean, log_variance = m.encode(x["images"])
        return {"mean": np.asarray(mean), "log_variance": np.asarray(log_variance)}

    return {"encode": Signature(encode, images_example(model), encode_reference),
            "reconstruct": Signature(reconstruct, images_example(model),
                                     lambda m, x: image_outputs(m.reconstruct(x["images"])))}
