"""Pure VAE loss terms, per example (``[B]``); the model averages them over the batch.

* ``sse``: sum of squared errors, ``sum_d (x_d - y_d)^2``.
* ``bernoulli``: binary cross-entropy of pixels mapped to [0, 1], ``-sum_d [p_d log q_d + (1 - p_d) log(1 - q_d)]``
  with ``p = (x + 1) / 2``, ``q = clip((y + 1) / 2, eps, 1 - eps)``. ``eps = 1e-6`` because float32 rounds
  ``1 - 1e-8`` to 1 (a saturated tanh then gave ``0 * log 0 = NaN``), and ``xlogy`` makes ``0 * log q`` exactly 0.
* ``optimal_variance`` (LSR-GAN appendix A): a Gaussian likelihood whose shared variance is set to its optimum,
  sigma^2 = MSE, gives ``-log p(x|z) = D/2 log(MSE) + const``, i.e. ``0.5 * D * log(mean_d (x_d - y_d)^2)``.
* KL of N(mu, exp(logvar)) from N(m, I): ``0.5 * sum_k ((mu_k - m_k)^2 + exp(logvar_k) - 1 - logvar_k)``; m = 0 is the
  VAE's prior, m = mu_S the LSC-VAE's (LSC-GAN eq. 1).
* Gaussian negative log-likelihood of z under q(z|x) = N(mu, exp(logvar)), per dimension
  ``0.5 * (log 2 pi + logvar_k + (z_k - mu_k)^2 / exp(logvar_k))``: LSR-GAN's term -log q(z|G(z)) (eq. 4).
"""
from __future__ import annotations

import math

import tensorflow as tf

RECONSTRUCTIONS = ("sse", "bernoulli", "optimal_variance")


def reconstruction_loss(x, y, kind="optimal_variance", eps=1e-6):
    """Per-example reconstruction term of images `x` (target) and `y` (decoded), both in [-1, 1]."""
    x, y = tf.cast(x, tf.float32), tf.cast(y, tf.float32)
    axes = list(range(1, x.shape.rank))
    if kind == "sse":
        return tf.reduce_sum(tf.square(x - y), axes)
    if kind == "bernoulli":
        p, q = (x + 1.0) / 2.0, tf.clip_by_value((y + 1.0) / 2.0, eps, 1.0 - eps)
        return -tf.reduce_sum(tf.math.xlogy(p, q) + tf.math.xlogy(1.0 - p, 1.0 - q), axes)
    if kind == "optimal_variance":
        dims = tf.cast(tf.reduce_prod(tf.shape(x)[1:]), tf.float32)
        return 0.5 * dims * tf.math.log(tf.reduce_mean(tf.square(x - y), axes) + 1e-8)
    raise ValueError(f"Unknown reconstruction {kind!r}. Known: {', '.join(RECONSTRUCTIONS)}.")


def kl_standard_normal(mu, logvar, prior_mean=None):
    """Per-example KL(N(mu, diag(exp(logvar))) || N(prior_mean, I)); ``prior_mean=None`` is N(0, I)."""
    mu, logvar = tf.cast(mu, tf.float32), tf.cast(logvar, tf.float32)
    if prior_mean is not None:
        mu = mu - tf.cast(prior_mean, tf.float32)
    return 0.5 * tf.reduce_sum(tf.square(mu) + tf.exp(logvar) - 1.0 - logvar, axis=-1)


REDUCTIONS = ("mean", "sum")


def gaussian_nll(z, mu, logvar, reduction="mean"):
    """Per-example ``-log N(z | mu, diag(exp(logvar)))``, averaged (``mean``, the LSR-GAN reference code) or summed
    (``sum``, the exact log-density) over the latent dimensions."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"Unknown reduction {reduction!r}. Known: {', '.join(REDUCTIONS)}.")
    z, mu, logvar = (tf.cast(t, tf.float32) for t in (z, mu, logvar))
    per_dim = 0.5 * (math.log(2.0 * math.pi) + logvar + tf.square(z - mu) * tf.exp(-logvar))
    return tf.reduce_mean(per_dim, -1) if reduction == "mean" else tf.reduce_sum(per_dim, -1)
