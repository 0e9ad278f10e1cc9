"""Adversarial losses as small pure functions, chosen by name from one table.

Every function takes the critic's raw outputs (logits, float32) and returns a scalar mean over the
per-replica batch. Pairs follow StudioGAN's ``d_<name>`` / ``g_<name>`` convention.

=================  ==================================================  ==========================
name               discriminator loss                                   generator loss
=================  ==================================================  ==========================
non_saturating     -log D(x) - log(1 - D(G(z)))   (Goodfellow 2014)      -log D(G(z))
minimax            same as non_saturating                               log(1 - D(G(z)))
least_squares      1/2 (D(x) - 1)^2 + 1/2 D(G(z))^2  (Mao 2017, a=0,b=c=1)  1/2 (D(G(z)) - 1)^2
wasserstein        D(G(z)) - D(x)   (Arjovsky 2017)                      -D(G(z))
hinge              max(0, 1 - D(x)) + max(0, 1 + D(G(z)))  (Lim 2017)     -D(G(z))
=================  ==================================================  ==========================

With D(.) = sigmoid(logit): -log D = softplus(-logit) and -log(1 - D) = softplus(logit), which is
the numerically stable form used below. ``wasserstein`` is used with :func:`gradient_penalty`
(WGAN-GP, Gulrajani 2017), enabled by the model's ``gp_weight``.
"""
from __future__ import annotations

import difflib
from typing import Callable, NamedTuple

import tensorflow as tf


def d_non_saturating(real_logits, fake_logits):
    return tf.reduce_mean(tf.nn.softplus(-real_logits)) + tf.reduce_mean(tf.nn.softplus(fake_logits))


def g_non_saturating(fake_logits):
    return tf.reduce_mean(tf.nn.softplus(-fake_logits))


def g_minimax(fake_logits):
    # log(1 - sigmoid(l)) = -softplus(l); G minimises it.
    return -tf.reduce_mean(tf.nn.softplus(fake_logits))


def d_least_squares(real_logits, fake_logits):
    return 0.5 * tf.reduce_mean(tf.square(real_logits - 1.0)) + 0.5 * tf.reduce_mean(tf.square(fake_logits))


def g_least_squares(fake_logits):
    return 0.5 * tf.reduce_mean(tf.square(fake_logits - 1.0))


def d_wasserstein(real_logits, fake_logits):
    return tf.reduce_mean(fake_logits) - tf.reduce_mean(real_logits)


def g_wasserstein(fake_logits):
    return -tf.reduce_mean(fake_logits)


def d_hinge(real_logits, fake_logits):
    return tf.reduce_mean(tf.nn.relu(1.0 - real_logits)) + tf.reduce_mean(tf.nn.relu(1.0 + fake_logits))


g_hinge = g_wasserstein


def gradient_penalty(critic: Callable, real, fake, epsilon):
    """WGAN-GP penalty, per sample: mean_i (||grad_x D(x_hat_i)||_2 - 1)^2.

    x_hat_i = eps_i * x_i + (1 - eps_i) * G(z)_i with one eps_i ~ U(0, 1) per sample, broadcast over
    that sample's features only, and the gradient norm taken over each sample's own features (not over
    the whole batch, the bug REFERENCE_NOTES records in the thesis code).

    Args:
        critic: callable mapping a batch to logits.
        real, fake: same-shape batches ``[B, ...]``.
        epsilon: ``[B]`` interpolation coefficients in [0, 1].
    """
    real = tf.cast(real, tf.float32)
    fake = tf.cast(fake, tf.float32)
    eps = tf.reshape(tf.cast(epsilon, tf.float32), [-1] + [1] * (real.shape.rank - 1))
    x_hat = eps * real + (1.0 - eps) * fake
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        out = tf.cast(critic(x_hat), tf.float32)
    grads = tape.gradient(out, x_hat)
    norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=tf.range(1, tf.rank(grads))) + 1e-12)
    return tf.reduce_mean(tf.square(norms - 1.0))


def r1_penalty(critic: Callable, real):
    """R1 (Mescheder et al. 2018): ``E_x ||grad_x D(x)||^2`` on real images; returns ``(D(real), penalty)``.

    D's output is averaged over its non-batch entries (a patch map's logits, as the losses average them) before
    the gradient, so the penalty is that of the per-image logit the loss sees. The caller weights it by gamma / 2.
    """
    real = tf.cast(real, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(real)
        logits = tf.cast(critic(real), tf.float32)
        total = tf.reduce_sum(tf.reduce_mean(tf.reshape(logits, [tf.shape(logits)[0], -1]), -1))
    grads = tape.gradient(total, real)
    return logits, tf.reduce_mean(tf.reduce_sum(tf.reshape(tf.square(grads), [tf.shape(grads)[0], -1]), -1))


class LossPair(NamedTuple):
    d: Callable
    g: Callable


LOSSES: dict[str, LossPair] = {
    "non_saturating": LossPair(d_non_saturating, g_non_saturating),
    "minimax": LossPair(d_non_saturating, g_minimax),
    "least_squares": LossPair(d_least_squares, g_least_squares),
    "wasserstein": LossPair(d_wasserstein, g_wasserstein),
    "hinge": LossPair(d_hinge, g_hinge),
}


def get_loss(name: str) -> LossPair:
    """The (discriminator, generator) loss pair registered under `name`."""
    if name not in LOSSES:
        close = difflib.get_close_matches(str(name), LOSSES, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"Unknown loss {name!r}.{hint} Known losses: {', '.join(sorted(LOSSES))}.")
    return LOSSES[name]
