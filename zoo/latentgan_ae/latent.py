"""The standardised latent of LatentGAN-AE (a deviation from the paper, whose encoder output is linear and
unnormalised: its scale drifted ~6x over 12 epochs, and G's output at initialisation was ~20x the real latents',
so D told real from fake by the norm).

`LatentScale` holds the latent's per-dimension mean mu and variance sigma^2 as non-trainable weights (saved with
the model). D, Q and `cluster` see the standardised latent u = (z - mu) / sigma; G outputs standardised latents,
and the decoder receives z = G(lc) * sigma + mu (``LatentScale.__call__``, inside the ``generator`` model). The
statistics follow the encoder as exponential moving averages of the batch moments,

    mu <- m mu + (1 - m) mean_B(z),   sigma^2 <- m sigma^2 + (1 - m) var_B(z),

while the encoder trains, and stay fixed once it is frozen. With ``standardize=False`` (the paper) they stay
(0, 1), so u = z.
"""
from __future__ import annotations

import keras
import tensorflow as tf

EPSILON = 1e-6


class LatentScale(keras.layers.Layer):
    """``call(u)`` = u * sigma + mu (standardised -> encoder latent); `standardize(z)` the inverse."""

    def __init__(self, dim, momentum=0.99, **kwargs):
        super().__init__(**kwargs)
        self.dim, self.momentum = int(dim), float(momentum)
        self.mean = self.add_weight(shape=(self.dim,), initializer="zeros", trainable=False, name="mean",
                                    aggregation="mean")
        self.variance = self.add_weight(shape=(self.dim,), initializer="ones", trainable=False,
                                        name="variance", aggregation="mean")

    def std(self):
        return tf.sqrt(tf.cast(self.variance, tf.float32) + EPSILON)

    def call(self, u):
        return tf.cast(u, tf.float32) * self.std() + tf.cast(self.mean, tf.float32)

    def standardize(self, z):
        return (tf.cast(z, tf.float32) - tf.cast(self.mean, tf.float32)) / self.std()

    def update(self, z):
        """One moving-average step towards the moments of the batch `z` ``[B, dim]`` (all replicas' batch under a
        strategy: the moments are all-reduced, so every replica holds the same statistics)."""
        z = tf.cast(z, tf.float32)
        mean, mean_sq = tf.reduce_mean(z, 0), tf.reduce_mean(tf.square(z), 0)
        ctx = tf.distribute.get_replica_context()
        if ctx is not None and ctx.num_replicas_in_sync > 1:
            mean, mean_sq = ctx.all_reduce("mean", [mean, mean_sq])
        m = self.momentum
        self.mean.assign(m * self.mean + (1.0 - m) * mean)
        self.variance.assign(m * self.variance + (1.0 - m) * tf.maximum(mean_sq - tf.square(mean), 0.0))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "momentum": self.momentum}
