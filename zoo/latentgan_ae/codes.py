"""The generator's input lc = concat(P, c) (LatentGAN-AE, method section and figure 1): Gaussian noise
P ~ N(0, I) of ``noise_dim``, then one one-hot block per categorical code c_k ~ Cat(K_k) (uniform), then the
continuous codes c_j ~ U(-1, 1). The layout is ``[noise | one-hot(c_1) | ... | one-hot(c_m) | continuous]``.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf


class CodeSpec:
    """Sizes of the noise and of the codes.

    Args:
        noise_dim: size of P (64 for MNIST, 128 for 3D chairs and CelebA in tables 2 to 4).
        categorical: K of each categorical code (MNIST ``(10,)``, chairs ``(20, 20, 20)``, CelebA ten 10s).
        continuous: number of U(-1, 1) codes (MNIST 2, CelebA 0).
    """

    def __init__(self, noise_dim=64, categorical=(10,), continuous=2):
        self.noise_dim, self.categorical, self.continuous = int(noise_dim), tuple(int(k) for k in categorical), int(
            continuous)
        if self.noise_dim < 0 or self.continuous < 0 or any(k < 2 for k in self.categorical):
            raise ValueError(f"Bad code specification: noise_dim={noise_dim!r} and continuous={continuous!r} must be "
                             f">= 0 and every K in categorical={tuple(categorical)!r} >= 2.")
        self.dim = self.noise_dim + sum(self.categorical) + self.continuous

    def describe(self) -> str:
        return (f"noise_dim + sum(categorical) + continuous = {self.noise_dim} + "
                f"{' + '.join(map(str, self.categorical)) or '0'} + {self.continuous} = {self.dim}")

    def check_generator_input(self, generator_input):
        """Fail at build time when the generator's input size (the paper's tables: 76, 190, 228) does not fit."""
        if generator_input is not None and int(generator_input) != self.dim:
            raise ValueError(
                f"The code specification does not fit the generator: generator_input={generator_input} but "
                f"{self.describe()} (categorical={self.categorical}, continuous={self.continuous}). Change K, the "
                f"number of continuous codes or noise_dim so that they add up to {generator_input}, or pass "
                f"generator_input=None to size the generator from the codes.")

    # ---------------------------------------------------------------- sampling
    def sample(self, n, seed):
        """``[n, dim]`` latent codes from a ``[2]`` int seed (deterministic)."""
        seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int32), 2 + len(self.categorical))
        noise = tf.random.stateless_normal([n, self.noise_dim], seed=seeds[0])
        cats = [tf.random.stateless_uniform([n], seed=seeds[2 + i], minval=0, maxval=k, dtype=tf.int32)
                for i, k in enumerate(self.categorical)]
        cont = tf.random.stateless_uniform([n, self.continuous], seed=seeds[1], minval=-1.0, maxval=1.0)
        return self.assemble(noise, cats, cont)

    def assemble(self, noise, categorical, continuous=None):
        """``concat(noise, one_hot(c_1), ..., continuous)``; `categorical` is one ``[n]`` int array per code."""
        noise = tf.convert_to_tensor(noise, tf.float32)
        n = tf.shape(noise)[0]
        if len(categorical) != len(self.categorical):
            raise ValueError(f"Expected {len(self.categorical)} categorical code(s) with K = {self.categorical}, got "
                             f"{len(categorical)}.")
        if continuous is None:
            continuous = tf.zeros([n, self.continuous])
        continuous = tf.convert_to_tensor(continuous, tf.float32)
        if continuous.shape[-1] != self.continuous:
            raise ValueError(f"Expected {self.continuous} continuous code(s) per sample, got shape "
                             f"{tuple(continuous.shape)}.")
        for c, k in zip(categorical, self.categorical):
            if not isinstance(c, tf.Tensor):  # concrete codes are checked here; tensors go through one_hot as is
                c = np.asarray(c)
                if c.size and (c.min() < 0 or c.max() >= k):
                    raise ValueError(f"A categorical code has values {c.min()}..{c.max()}; this code has K={k}: "
                                     f"values 0..{k - 1}.")
        blocks = [noise] + [tf.one_hot(tf.cast(c, tf.int32), k) for c, k in zip(categorical, self.categorical)]
        return tf.concat(blocks + [continuous], axis=-1)

    def split(self, latent):
        """``(noise, [one_hot_1, ...], continuous)`` of latent codes ``[n, dim]``."""
        sizes = [self.noise_dim, *self.categorical, self.continuous]
        parts = tf.split(latent, sizes, axis=-1)
        return parts[0], parts[1:-1], parts[-1]
