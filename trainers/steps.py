"""Pieces every zoo train step shares: what of a batch is the input, loss scaling under a strategy, the
gradient update, and the Gaussian prior of a generator.
"""
from __future__ import annotations

import keras
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


def replica_sample(seed_generator, sample_fn, batch):
    """This replica's ``batch`` rows of ``sample_fn(global_batch, seed)``, with one ``[2]`` int seed drawn from
    `seed_generator` (`trainers.strategy.replica_slice`: the same noise on one device and on n replicas)."""
    seed = tf.cast(seed_generator.next(), tf.int32)
    return strategy_lib.replica_slice(lambda n: sample_fn(n, seed), batch)


def replica_normal(seed_generator, batch, dim):
    """This replica's ``batch`` rows of a global N(0, I) draw ``[global batch, dim]`` (`replica_sample`)."""
    return replica_sample(seed_generator, lambda n, seed: tf.random.stateless_normal([n, dim], seed=seed), batch)


def dcgan_adam():
    """DCGAN's optimizer (Radford et al.): Adam 2e-4, beta_1 0.5, the default of the zoo's GAN networks."""
    return keras.optimizers.Adam(2e-4, beta_1=0.5)


def loss_scaled(opt):
    """`opt` wrapped in a `keras.optimizers.LossScaleOptimizer` under a ``mixed_float16`` policy (Keras' ``compile``
    wraps ``model.optimizer`` only; the zoo's other named optimizers are wrapped here)."""
    if keras.config.dtype_policy().name == "mixed_float16" and not isinstance(opt, keras.optimizers.LossScaleOptimizer):
        return keras.optimizers.LossScaleOptimizer(opt)
    return opt


SEED_STREAMS = {"sample": 0, "code_noise": 1, "generate_like": 2, "walk": 7}
"""The second word of the ``[seed, stream]`` pairs that every draw from an integer seed uses, in the Python API and in
the serving signatures alike, so a SavedModel answers what the model answers: ``generate`` and sample grids
(``sample``), latentgan_ae's default noise (``code_noise``), ``generate_like`` (``generate_like``), latent walks
(``walk``)."""

class GaussianPrior:
    """``sample_latent`` (z ~ N(0, I) from a ``[2]`` int seed) and ``generate`` for a model with ``generator`` and
    ``latent_dim``; models with another prior override ``sample_latent``."""

    def sample_latent(self, batch_size, seed):
        """Draw ``[batch_size, latent_dim]`` from the prior, deterministically from a ``[2]`` int seed."""
        return tf.random.stateless_normal([batch_size, self.latent_dim], seed=seed)

    def generate(self, n, seed=0):
        """``n`` samples from latents drawn with integer `seed` (inference mode)."""
        return self.generator(self.sample_latent(n, tf.constant([seed, SEED_STREAMS["sample"]], tf.int32)),
                              training=False)
