"""ResNet encoder and decoder of LSR-GAN's VAE (Wang et al., appendix D, table 3; shared/REFERENCE_NOTES.md).

Residual block: conv3x3-BN-ReLU-conv3x3-BN plus a conv1x1-BN shortcut, added, ReLU. Encoder: per block a residual
block then 2x2 average pooling (channels 64, 128, 32: 32x32 -> 4x4), flatten (512), Dense(128, no bias)-BN-ReLU,
then two Dense heads, mu and log-variance. Decoder: Dense(512)-BN-ReLU, reshape 4x4x32, per block nearest
upsampling x2 then a residual block (channels 128, 64, 32), conv1x1 to the image channels, tanh (images in [-1, 1];
the paper's sigmoid is for [0, 1] images). The image side is 4 * 2^len(widths).
"""
from __future__ import annotations

import keras
from keras import layers

from zoo.layers import batch_norm


def res_block(x, filters, name):
    """``ReLU(BN(conv3(ReLU(BN(conv3(x))))) + BN(conv1(x)))``."""
    h = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv1")(x)
    h = layers.ReLU(name=f"{name}_relu1")(batch_norm(f"{name}_bn1")(h))
    h = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv2")(h)
    h = batch_norm(f"{name}_bn2")(h)
    s = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_shortcut")(x)
    s = batch_norm(f"{name}_shortcut_bn")(s)
    return layers.ReLU(name=f"{name}_out")(layers.Add(name=f"{name}_add")([h, s]))


def check_widths(image_size, widths):
    if 4 * 2 ** len(widths) != image_size:
        raise ValueError(f"image_size={image_size} needs log2({image_size}/4) residual blocks but widths has "
                         f"{len(widths)} ({tuple(widths)}); the paper's 32x32 uses widths (64, 128, 32).")


def build_encoder(image_size, channels, latent_dim, widths=(64, 128, 32), hidden=128, name="encoder"):
    """x -> (mu, logvar), each ``[B, latent_dim]``."""
    check_widths(image_size, widths)
    x0 = keras.Input((image_size, image_size, channels), name="image")
    x = x0
    for i, w in enumerate(widths):
        x = layers.AveragePooling2D(2, name=f"down{i}_pool")(res_block(x, w, f"down{i}"))
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(hidden, use_bias=False, name="fc")(x)
    x = layers.ReLU(name="fc_relu")(batch_norm("fc_bn")(x))
    mu = layers.Dense(latent_dim, dtype="float32", name="mu")(x)
    logvar = layers.Dense(latent_dim, dtype="float32", name="logvar")(x)
    return keras.Model(x0, [mu, logvar], name=name)


def build_decoder(image_size, channels, latent_dim, widths=(128, 64, 32), base=32, name="decoder"):
    """z -> image in [-1, 1]."""
    check_widths(image_size, widths)
    z = keras.Input((latent_dim,), name="latent")
    x = layers.Dense(16 * base, use_bias=False, name="fc")(z)
    x = layers.ReLU(name="fc_relu")(batch_norm("fc_bn")(x))
    x = layers.Reshape((4, 4, base), name="reshape")(x)
    for i, w in enumerate(widths):
        x = res_block(layers.UpSampling2D(2, name=f"up{i}_upsample")(x), w, f"up{i}")
    out = layers.Conv2D(channels, 1, activation="tanh", dtype="float32", name="to_image")(x)
    return keras.Model(z, out, name=name)
