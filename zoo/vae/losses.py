"""Pure VAE loss terms, per example (``[B]``); the model averages them over the batch.

* ``sse``: sum of squared errors, ``sum_d (x_d - y_d)^2``.
* ``bernoulli``: binary cross-entropy of pixels mapped to [0, 1], ``-sum_d [p_d log q_d + (1 - p_d) log(1 - q_d)]``
  with ``p = (x + 1) / 2``, ``q = (y + 1) / 2``.
* ``optimal_variance`` (LSR-GAN appendix A): a Gaussian likelihood whose shared variance is set to its optimum,
  sigma^2 = MSE, gives ``-log p(x|z) = D/2 log(MSE) + const``, i.e. ``0.5 * D * log(mean_d (x_d - y_d)^2)``.
* KL of N(mu, exp(logvar)) from N(0, I): ``0.5 * sum_k (mu_k^2 + exp(logvar_k) - 1 - logvar_k)``.
"""
from __future__ import annotations

import tensorflow as tf

RECONSTRUCTIONS = ("sse", "bernoulli", "optimal_variance")


def reconstruction_loss(x, y, kind="optimal_variance", eps=1e-8):
    """Per-example reconstruction term of images `x` (target) and `y` (decoded), both in [-1, 1]."""
    x, y = tf.cast(x, tf.float32), tf.cast(y, tf.float32)
    axes = list(range(1, x.shape.rank))
    if kind == "sse":
        return tf.reduce_sum(tf.square(x - y), axes)
    if kind == "bernoulli":
        p, q = (x + 1.0) / 2.0, tf.clip_by_value((y + 1.0) / 2.0, eps, 1.0 - eps)
        return -tf.reduce_sum(p * tf.math.log(q) + (1.0 - p) * tf.math.log(1.0 - q), axes)
    if kind == "optimal_variance":
        dims = tf.cast(tf.reduce_prod(tf.shape(x)[1:]), tf.float32)
        return 0.5 * dims * tf.math.log(tf.reduce_mean(tf.square(x - y), axes) + eps)
    raise ValueError(f"Unknown reconstruction {kind!r}. Known: {', '.join(RECONSTRUCTIONS)}.")


def kl_standard_normal(mu, logvar):
    """Per-example KL(N(mu, diag(exp(logvar))) || N(0, I))."""
    mu, logvar = tf.cast(mu, tf.float32), tf.cast(logvar, tf.float32)
    return 0.5 * tf.reduce_sum(tf.square(mu) + tf.exp(logvar) - 1.0 - logvar, axis=-1)
