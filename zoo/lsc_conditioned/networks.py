"""The generator of Latent Space Conditioning: SNGAN's standard CNN (`zoo.sngan.networks`) fed z ⊕ f, and, with
``conditioning="cbn"``, conditional BatchNorm in every up-sampling block.

Conditional BatchNorm (de Vries et al. 2017; Miyato & Koyama 2018 for GANs): the block's BatchNorm keeps its
statistics but its affine parameters become functions of the condition,

    CBN(h | f) = (1 + gamma(f)) * (h - mu_B) / sqrt(sigma_B^2 + eps) + beta(f)      gamma, beta: Dense(f)

so f scales and shifts every feature map of G, where the paper's bare concatenation reaches only the first
Dense layer (and G learned to ignore z: issue 15's review). gamma and beta start at zero, so at initialisation
CBN is plain BatchNorm. The discriminator is SNGAN's (on couples: 2 x channels).
"""
from __future__ import annotations

import keras
from keras import layers

from zoo.sngan.networks import sngan_generator

CONDITIONINGS = ("concat", "cbn")


@keras.saving.register_keras_serializable("latent_zoo")
class ConditionalBatchNorm(layers.Layer):
    """``[h, f]`` -> ``(1 + gamma(f)) * BN(h) + beta(f)``; BN without its own scale and offset (module docstring)."""

    def __init__(self, momentum=0.99, epsilon=1e-3, **kwargs):
        super().__init__(**kwargs)
        self.momentum, self.epsilon = momentum, epsilon
        self.norm = layers.BatchNormalization(momentum=momentum, epsilon=epsilon, center=False, scale=False,
                                              name="norm")

    def build(self, input_shape):
        h_shape, f_shape = input_shape
        channels = h_shape[-1]
        self.norm.build(h_shape)
        self.gamma = layers.Dense(channels, kernel_initializer="zeros", name="gamma")
        self.beta = layers.Dense(channels, kernel_initializer="zeros", name="beta")
        self.gamma.build(f_shape)
        self.beta.build(f_shape)

    def call(self, inputs, training=False):
        h, f = inputs
        f = keras.ops.cast(f, h.dtype)
        gamma = keras.ops.cast(self.gamma(f), h.dtype)[:, None, None, :]
        beta = keras.ops.cast(self.beta(f), h.dtype)[:, None, None, :]
        return (1.0 + gamma) * self.norm(h, training=training) + beta

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "epsilon": self.epsilon}


def conditional_generator(noise_dim, cond_dim, image_size=32, channels=1, width=64, conditioning="cbn",
                          name="generator"):
    """``[B, noise_dim + cond_dim]`` latents z ⊕ f -> images in [-1, 1]; ``concat`` is `sngan_generator` on the
    concatenation (the paper), ``cbn`` adds conditional BatchNorm on f to every up-sampling block."""
    if conditioning not in CONDITIONINGS:
        raise ValueError(f"Unknown conditioning {conditioning!r}. Known: {', '.join(CONDITIONINGS)}.")
    norm = None if conditioning == "concat" else (cond_dim, lambda name: ConditionalBatchNorm(name=name))
    return sngan_generator(noise_dim + cond_dim, image_size, channels, width, name=name, conditional_norm=norm)
