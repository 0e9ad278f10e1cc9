"""The augmentation of the clustering term (`losses.cluster_loss`): a random affine map per image, drawn from a
stateless seed so that one device and n replicas draw the same (`trainers.steps.replica_sample`).

Each image is rotated by theta ~ U(-r, r) radians, scaled by s ~ U(1 - a, 1 + a) and shifted by
(tx, ty) ~ U(-t, t)^2 pixels about its centre, with the background value (-1) filled in. The map from output
pixel (x, y) to input pixel is the inverse of that similarity:

    [x_in, y_in] = R(-theta) / s ([x, y] - c - t) + c,     c = ((W - 1) / 2, (H - 1) / 2)

which is the ``[a0, a1, a2, b0, b1, b2, 0, 0]`` row `keras.ops.image.affine_transform` takes.
"""
from __future__ import annotations

import keras
import tensorflow as tf


def affine_draws(n, seed):
    """``[n, 4]`` U(-1, 1) draws (rotation, scale, x shift, y shift) of `random_affine` from a ``[2]`` int seed."""
    return tf.random.stateless_uniform([n, 4], seed=tf.cast(seed, tf.int32), minval=-1.0, maxval=1.0)


def random_affine(images, u, shift=3.0, rotation=0.2, scale=0.1, fill_value=-1.0):
    """`images` ``[B, H, W, C]`` in [-1, 1] through one similarity each (see the module docstring), drawn by `u`
    ``[B, 4]`` (`affine_draws`)."""
    images = tf.convert_to_tensor(images)
    theta, s = rotation * u[:, 0], 1.0 + scale * u[:, 1]
    tx, ty = shift * u[:, 2], shift * u[:, 3]
    cos, sin = tf.cos(theta) / s, tf.sin(theta) / s
    cx = (tf.cast(tf.shape(images)[2], tf.float32) - 1.0) / 2.0
    cy = (tf.cast(tf.shape(images)[1], tf.float32) - 1.0) / 2.0
    # x_in = cos (x - cx - tx) + sin (y - cy - ty) + cx;  y_in = -sin (x - cx - tx) + cos (y - cy - ty) + cy
    a2 = cx - cos * (cx + tx) - sin * (cy + ty)
    b2 = cy + sin * (cx + tx) - cos * (cy + ty)
    zeros = tf.zeros_like(cos)
    transform = tf.stack([cos, sin, a2, -sin, cos, b2, zeros, zeros], axis=1)
    out = keras.ops.image.affine_transform(tf.cast(images, tf.float32), transform, interpolation="bilinear",
                                           fill_mode="constant", fill_value=fill_value)
    return tf.cast(out, images.dtype)
