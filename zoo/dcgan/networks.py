"""DCGAN networks (Radford et al. 2016) for any power-of-two image size from 8 up.

Generator: Dense -> 4x4xC, then stride-2 4x4 transposed convolutions with BatchNorm + ReLU, halving the
channels at each doubling, last layer tanh. Discriminator: stride-2 4x4 convolutions with LeakyReLU(0.2)
(no normalisation on the first), down to 4x4, then Dense(1) logits. Output layers run in float32 so that
mixed precision keeps the losses in float32.

``upsample="resize"`` replaces each transposed convolution by a nearest-neighbour 2x resize and a 3x3
convolution (Odena, Dumoulin & Olah 2016, "Deconvolution and checkerboard artifacts"). A stride-2 transposed
convolution computes even and odd output pixels with different taps of its kernel; unless training makes the
taps agree, that draws a 2-pixel check. A resize-convolution computes every pixel with the same taps.

The strided convolutions are `zoo.conv`'s: Keras' layers whose weight gradient runs as a dilated forward
convolution where that is faster (bfloat16 on a CPU), and whose transposed convolutions to one channel (G's
``to_image``, D's first input gradient) run as a matmul and an overlap-add on a CPU; the same variables and sums.
"""
from __future__ import annotations

import keras
from keras import layers

from zoo.conv import Conv2D, Conv2DTranspose
from zoo.layers import batch_norm
from zoo.shapes import check_image_size

NORMS = ("batch", "layer", "none")
UPSAMPLES = ("transpose", "resize")


def _norm(kind: str, synchronized: bool, name: str):
    if kind == "batch":
        return batch_norm(name, synchronized, momentum=0.9, epsilon=1e-5)
    if kind == "layer":
        return layers.LayerNormalization(epsilon=1e-5, name=name)
    return layers.Identity(name=name)


def _up(x, width, upsample, name, use_bias=False):
    """One 2x upsampling convolution (module docstring)."""
    if upsample == "resize":
        x = layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_resize")(x)
        return layers.Conv2D(width, 3, padding="same", use_bias=use_bias, name=name)(x)
    return Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=use_bias, name=name)(x)


def dcgan_generator(latent_dim, image_size, channels, base_channels, sync_batchnorm=True, name="generator",
                    upsample="transpose"):
    if upsample not in UPSAMPLES:
        raise ValueError(f"Unknown upsample {upsample!r}. Known: {', '.join(UPSAMPLES)}.")
    n_up = check_image_size(image_size) - 2
    width = base_channels * 2 ** (n_up - 1)
    z = keras.Input((latent_dim,), name="latent")
    x = layers.Dense(4 * 4 * width, use_bias=False, name="project")(z)
    x = layers.Reshape((4, 4, width))(x)
    x = _norm("batch", sync_batchnorm, "project_bn")(x)
    x = layers.ReLU()(x)
    for i in range(n_up - 1):
        width //= 2
        x = _up(x, width, upsample, f"up{i}")
        x = _norm("batch", sync_batchnorm, f"up{i}_bn")(x)
        x = layers.ReLU()(x)
    x = _up(x, channels, upsample, "to_image", use_bias=True)
    out = layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(z, out, name=name)


def dcgan_discriminator(image_size, channels, base_channels, norm="batch", sync_batchnorm=True,
                        name="discriminator"):
    if norm not in NORMS:
        raise ValueError(f"Unknown d_norm {norm!r}. Known: {', '.join(NORMS)}.")
    n_down = check_image_size(image_size) - 2
    img = keras.Input((image_size, image_size, channels), name="image")
    x = img
    width = base_channels
    for i in range(n_down):
        x = Conv2D(width, 4, strides=2, padding="same", use_bias=(i == 0 or norm == "none"), name=f"down{i}")(x)
        if i > 0:
            x = _norm(norm, sync_batchnorm, f"down{i}_norm")(x)
        x = layers.LeakyReLU(0.2)(x)
        width *= 2
    x = layers.Flatten()(x)
    out = layers.Dense(1, dtype="float32", name="logit")(x)
    return keras.Model(img, out, name=name)
