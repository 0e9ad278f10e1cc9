"""LSC-GAN's conditional discriminator (the working config's; the paper's is unconditional, `zoo.lsr_gan.networks`).

The table-3 DCGAN trunk (conv4x4 stride 2: 16/32/64 at quarter width, BN after the first, LeakyReLU 0.2), global
average pooling to features phi(x), then a projection head (Miyato & Koyama 2018):

    D(x, S) = w . phi(x) + b + (E s) . phi(x)

with s the ``[B, #attributes]`` multi-hot attribute set and E a learned embedding. Real images are scored with
their own S and generated ones with the S their z_S was drawn from, so the discriminator rejects an image that is
realistic but of another attribute. The generator then has to show S in the image, which the unconditional
discriminator never asked of it.

With ``classifier=True`` it also has AC-GAN's auxiliary classifier (Odena et al. 2017) on the same features,
``C(x) = W_c phi(x) + b_c``, the attribute logits, as a second output (`zoo.lsc_gan.LSCGAN`'s
``classifier_weight``).
"""
from __future__ import annotations

import keras
from keras import layers

from zoo.lsr_gan.networks import trunk


def build_projection_discriminator(image_size, channels, widths, n_attributes, classifier=False, n_classes=None,
                                   name="discriminator"):
    """``[image, attributes] -> [B, 1]`` logits (and ``[B, n_classes]`` class logits with `classifier`;
    ``n_classes`` defaults to ``n_attributes``, ADC-GAN's head has twice that)."""
    if image_size % 2 ** len(widths):
        raise ValueError(f"image_size={image_size} must be divisible by {2 ** len(widths)} for {len(widths)} "
                         "stride-2 convolutions.")
    x0 = keras.Input((image_size, image_size, channels), name="image")
    s0 = keras.Input((n_attributes,), name="attributes")
    phi = layers.GlobalAveragePooling2D(dtype="float32", name="pool")(trunk(x0, widths))
    unconditional = layers.Dense(1, dtype="float32", name="logit")(phi)
    embedded = layers.Dense(widths[-1], use_bias=False, dtype="float32", name="embed")(s0)
    projection = layers.Dot(axes=1, dtype="float32", name="projection")([embedded, phi])
    logits = layers.Add(dtype="float32", name="logits")([unconditional, projection])
    if classifier:
        return keras.Model([x0, s0], [logits, layers.Dense(n_classes or n_attributes, dtype="float32",
                                                                  name="classes")(phi)],
                           name=name)
    return keras.Model([x0, s0], logits, name=name)
