"""Pure loss terms of LSC-GAN's working config (`zoo.lsc_gan.configs`), per example (``[B]``).

``attribute_nll`` is the attribute's negative log-likelihood under the prior itself, so it adds no parameters.
The LSC prior is a mixture over attribute sets S of N(mu_S, I), ``mu_S = sum_{i in S} n_i``. Then

    log N(z; n_c, I) = -||z||^2 / 2 + z . n_c - ||n_c||^2 / 2 + const,

and ``z . n_c`` is the sum of z over attribute c's block. For one attribute per example (class datasets, uniform
classes) Bayes' rule gives ``p(c | z) = softmax_c(block_sum_c(z))``. For independent attributes (CelebA, prior
1/2 each) it gives ``logit p(s_i = 1 | z) = block_sum_i(z) - block_size / 2``. Asking the encoder's sample
(stage 1), or the frozen encoder's mean of G(z_S) (stage 2), to carry S this way puts each attribute on its own
block. Eq. 1's KL alone only weakly does that (docs/results/vae_gan.md).
"""
from __future__ import annotations

import tensorflow as tf


def block_sums(z, block_size: int):
    """``[B, latent_dim]`` -> ``[B, latent_dim / block_size]``: ``z . n_i`` for every attribute i."""
    z = tf.cast(z, tf.float32)
    return tf.reduce_sum(tf.reshape(z, [tf.shape(z)[0], -1, block_size]), -1)


def attribute_nll(z, multi_hot, block_size: int, exclusive: bool):
    """``-log p(S | z)`` under the prior's mixture (module docstring). ``exclusive``: one attribute per example
    (softmax over blocks); otherwise independent attributes (a sigmoid per block, summed)."""
    sums = block_sums(z, block_size)
    return attribute_cross_entropy(multi_hot, sums if exclusive else sums - 0.5 * block_size, exclusive)


def attribute_cross_entropy(multi_hot, logits, exclusive: bool):
    """``-log p(S)`` from per-attribute logits: a softmax over attributes when each example has one (exclusive),
    else a sigmoid per attribute, summed."""
    target = tf.cast(multi_hot, tf.float32)
    if exclusive:
        return tf.nn.softmax_cross_entropy_with_logits(target, logits)
    return tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(target, logits), -1)


def latent_mse(z, mu):
    """Stage 2's consistency ``mean_k (mu_Q(G(z))_k - z_k)^2``: Q's mean of the generated image, against the z
    it came from, averaged over the latent dimensions (O(1), the scale of the least-squares GAN loss)."""
    return tf.reduce_mean(tf.square(tf.cast(mu, tf.float32) - tf.cast(z, tf.float32)), -1)


@tf.custom_gradient
def reverse_gradient(x):
    """Identity forward, ``-grad`` backward (Ganin & Lempitsky 2015): one optimizer step then trains the adversary
    to read the attribute and the encoder to hide it."""
    return tf.identity(x), lambda dy: -dy
