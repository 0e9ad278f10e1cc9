"""Layers the zoo's networks share.

`zoo.layers.BatchNormalization` is Keras' `BatchNormalization` run through TensorFlow's fused kernel
(``FusedBatchNormV3``) where that kernel applies. Under ``mixed_bfloat16`` (or ``mixed_float16``) Keras' layer casts
every activation to float32, takes the moments, normalises and casts back: some ten element-wise passes over the
activation per layer and as many in the backward pass, all in float32 (bench/train_throughput.py measures what that
costs the dcgan step). The fused kernel reads and writes the activations in the compute dtype and keeps the
statistics, the scale and the offset in float32 (its ``U = float``), one op forward and one backward, so the numerics
the issue asks for (BatchNorm statistics in float32) hold and the passes go.
"""
from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

CUDNN_MIN_EPSILON = 1.001e-5
"""cuDNN refuses a smaller epsilon (tf.keras 2 raised BatchNormalization's to it as well)."""


@keras.saving.register_keras_serializable(package="zoo")
class BatchNormalization(layers.BatchNormalization):
    """`keras.layers.BatchNormalization` on ``FusedBatchNormV3`` for 4-D channels-last inputs on the TensorFlow
    backend; everything else (masks, ``synchronized=True``, renorm, other ranks or axes, other backends, or
    ``fused=False``) runs Keras' own layer unchanged.

    The class keeps Keras' class name on purpose: a ``.weights.h5`` file addresses each layer by its snake-cased
    class name (``batch_normalization_1``...), so weights saved from networks built with Keras' layer (every preset
    before this layer existed) load into the zoo's and back.

    Training mode normalises with the batch statistics, ``y = gamma (x - mean_B) / sqrt(var_B + eps) + beta``, and
    moves ``moving = momentum * moving + (1 - momentum) * batch`` with the biased batch variance, as Keras' layer
    does (the kernel returns the unbiased one, times n / (n - 1) for n = B*H*W; the layer takes that factor back).
    """

    def __init__(self, fused=True, **kwargs):
        super().__init__(**kwargs)
        self.fused = bool(fused)

    def get_config(self):
        return {**super().get_config(), "fused": self.fused}

    def _fused(self, inputs, mask) -> bool:
        return (self.fused and mask is None and not self.synchronized and not getattr(self, "renorm", False)
                and keras.backend.backend() == "tensorflow" and len(inputs.shape) == 4
                and self.axis in (-1, 3))

    def call(self, inputs, training=None, mask=None):
        if not self._fused(inputs, mask):
            return super().call(inputs, training=training, mask=mask)
        x = tf.cast(inputs, self.compute_dtype)
        channels = x.shape[-1]
        scale = tf.cast(self.gamma, tf.float32) if self.scale else tf.ones([channels], tf.float32)
        offset = tf.cast(self.beta, tf.float32) if self.center else tf.zeros([channels], tf.float32)
        eps = self.epsilon
        if tf.config.list_logical_devices("GPU"):
            eps = max(eps, CUDNN_MIN_EPSILON)
        mean = tf.cast(self.moving_mean, tf.float32)
        variance = tf.cast(self.moving_variance, tf.float32)
        if training and self.trainable:
            y, batch_mean, unbiased_var, *_ = tf.raw_ops.FusedBatchNormV3(
                x=x, scale=scale, offset=offset, mean=mean, variance=variance, epsilon=eps, data_format="NHWC",
                is_training=True)
            n = tf.cast(tf.reduce_prod(tf.shape(x)[:-1]), tf.float32)
            batch_var = unbiased_var * (n - 1.0) / n  # the kernel's is Bessel-corrected; Keras' (and the
            self.moving_mean.assign(mean * self.momentum + batch_mean * (1.0 - self.momentum))  # normalisation's)
            self.moving_variance.assign(variance * self.momentum + batch_var * (1.0 - self.momentum))  # is not
        else:
            y = tf.raw_ops.FusedBatchNormV3(x=x, scale=scale, offset=offset, mean=mean, variance=variance,
                                            epsilon=eps, data_format="NHWC", is_training=False)[0]
        return y


def batch_norm(name=None, synchronized=False, **kwargs):
    """The zoo's BatchNorm: `zoo.layers.BatchNormalization` (Keras' defaults otherwise: momentum 0.99, eps 1e-3)."""
    return BatchNormalization(synchronized=synchronized, name=name, **kwargs)
