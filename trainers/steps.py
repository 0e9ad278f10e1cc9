"""Pieces every zoo train step shares: what of a batch is the input, loss scaling under a strategy, the
gradient update, and the Gaussian prior of a generator.
"""
from __future__ import annotations

import tensorflow as tf

from trainers import strategy as strategy_lib


def first_input(data):
    """The sample of a batch: the batch itself, the first element of a tuple/list, or ``data["image"]``."""
    if isinstance(data, dict):
        return data["image"]
    if isinstance(data, (tuple, list)):
        return data[0]
    return data


def scaled_loss(optimizer, loss):
    """Inside the tape: loss / replicas (SUM all-reduce), times the loss scale under mixed float16."""
    return optimizer.scale_loss(strategy_lib.replica_scale(loss))


def apply_gradients(optimizer, tape, loss, variables):
    """One optimizer update of `variables` from the (scaled) `loss` recorded on `tape`."""
    grads = tape.gradient(loss, variables)
    optimizer.apply_gradients(zip(grads, variables))


class GaussianPrior:
    """``sample_latent`` (z ~ N(0, I) from a ``[2]`` int seed) and ``generate`` for a model with ``generator`` and
    ``latent_dim``; models with another prior override ``sample_latent``."""

    def sample_latent(self, batch_size, seed):
        """Draw ``[batch_size, latent_dim]`` from the prior, deterministically from a ``[2]`` int seed."""
        return tf.random.stateless_normal([batch_size, self.latent_dim], seed=seed)

    def generate(self, n, seed=0):
        """``n`` samples from latents drawn with integer `seed` (inference mode)."""
        return self.generator(self.sample_latent(n, tf.constant([seed, 0], tf.int32)), training=False)
