"""SNGAN's "standard CNN" (Miyato et al. 2018, table 3) for 32x32 images, with a width knob.

Generator: z -> Dense 4x4x(8w) -> three [4x4 stride-2 transposed conv, BatchNorm, ReLU] halving the channels
(8w -> 4w -> 2w -> w) -> conv3x3 to the image channels -> tanh.

Discriminator, every layer wrapped in `keras.layers.SpectralNormalization` (one power iteration per training
call, the paper's setting): conv3x3 w, conv4x4/2 w, conv3x3 2w, conv4x4/2 2w, conv3x3 4w, conv4x4/2 4w,
conv3x3 8w, each followed by LeakyReLU(0.1), then Dense(1) logits. ``w = 64`` is the paper's width.

Keras' `SpectralNormalization` writes W / sigma(W) back into the wrapped kernel at every ``training=True`` call
(as tensorflow-addons did), so the stored kernel is the normalised one.
"""
from __future__ import annotations

import keras
from keras import layers

from zoo.layers import batch_norm
from zoo.shapes import check_image_size


def spectral(layer, power_iterations=1):
    return layers.SpectralNormalization(layer, power_iterations=power_iterations)


def sngan_generator(input_dim, image_size=32, channels=1, width=64, name="generator", conditional_norm=None):
    """``[B, input_dim]`` -> images ``[B, image_size, image_size, channels]`` in [-1, 1].

    ``conditional_norm=(dim, layer_factory)`` replaces each up-block's BatchNorm by ``layer_factory(name)([x, c])``
    with c the last `dim` entries of the input (`zoo.lsc_conditioned.networks`' conditional BatchNorm)."""
    n_up = check_image_size(image_size) - 2
    z = keras.Input((input_dim,), name="latent")
    c = width * 2 ** n_up
    x = layers.Dense(4 * 4 * c, name="project")(z)
    x = layers.Reshape((4, 4, c))(x)
    for i in range(n_up):
        c //= 2
        x = layers.Conv2DTranspose(c, 4, strides=2, padding="same", use_bias=False, name=f"up{i}")(x)
        if conditional_norm:
            dim, factory = conditional_norm
            x = factory(f"up{i}_cbn")([x, z[:, input_dim - dim:]])
        else:
            x = batch_norm(f"up{i}_bn")(x)
        x = layers.ReLU()(x)
    x = layers.Conv2D(channels, 3, padding="same", name="to_image")(x)
    out = layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(z, out, name=name)


def sngan_discriminator(image_size=32, channels=1, width=64, name="discriminator"):
    """Images ``[B, H, W, channels]`` -> logits ``[B, 1]``; every kernel spectrally normalised."""
    n_down = check_image_size(image_size) - 2
    img = keras.Input((image_size, image_size, channels), name="image")
    x = img
    c = width
    for i in range(n_down):
        x = spectral(layers.Conv2D(c, 3, padding="same", name=f"conv{i}a"))(x)
        x = layers.LeakyReLU(0.1)(x)
        x = spectral(layers.Conv2D(c, 4, strides=2, padding="same", name=f"conv{i}b"))(x)
        x = layers.LeakyReLU(0.1)(x)
        c *= 2
    x = spectral(layers.Conv2D(c, 3, padding="same", name="conv_last"))(x)
    x = layers.LeakyReLU(0.1)(x)
    x = layers.Flatten()(x)
    out = spectral(layers.Dense(1, dtype="float32", name="logit"))(x)
    return keras.Model(img, out, name=name)
