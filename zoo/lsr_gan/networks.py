"""LSR-GAN's discriminator (Wang et al., appendix D, table 3): DCGAN-like.

conv4x4 stride 2 (padding 1) 32 - LeakyReLU; conv 64 - BN - LeakyReLU; conv 128 - BN - LeakyReLU; conv4x4 stride 2
to ``out_channels`` (table 3: 3) with a sigmoid. The sigmoid lives in the loss (`trainers.losses` takes logits),
so the network returns logits: a ``[B, s/16, s/16, out_channels]`` patch map (2x2 at 32x32) whose every entry is
a real/fake logit, averaged by the loss. LeakyReLU slope 0.2 (DCGAN; the table does not say).
"""
from __future__ import annotations

import keras
from keras import layers

from zoo.conv import Conv2D
from zoo.layers import batch_norm


def trunk(x, widths):
    """conv4x4 stride 2 per width (`zoo.conv.Conv2D`), BatchNorm after all but the first, LeakyReLU 0.2."""
    for i, w in enumerate(widths):
        x = Conv2D(w, 4, strides=2, padding="same", use_bias=i == 0, name=f"conv{i}")(x)
        if i:
            x = batch_norm(f"bn{i}")(x)
        x = layers.LeakyReLU(0.2, name=f"lrelu{i}")(x)
    return x


def build_discriminator(image_size=32, channels=1, widths=(32, 64, 128), out_channels=3, name="discriminator"):
    """image -> patch logits."""
    if image_size % 2 ** (len(widths) + 1):
        raise ValueError(f"image_size={image_size} must be divisible by {2 ** (len(widths) + 1)} for "
                         f"{len(widths) + 1} stride-2 convolutions; the paper uses 32.")
    x0 = keras.Input((image_size, image_size, channels), name="image")
    x = trunk(x0, widths)
    out = layers.Conv2D(out_channels, 4, strides=2, padding="same", dtype="float32", name="logits")(x)
    return keras.Model(x0, out, name=name)
