"""Layers of the growing CNN GANs (thesis 6.2.6 to 6.2.8), each carrying its own fade factor.

Every fading layer owns one non-trainable scalar weight (``beta``, ``alpha`` or ``tau``): it is saved with the
network, exported with the generator, restored with a backup's weights, and ``.assign()``-ed by
`trainers.growing.GrowthSchedule` between steps, so the compiled step reads the new value without retracing.
A freshly built layer has its fade at the end value (1, or tau = 1/2): it is a finished network. Growth sets it to 0.
"""
from __future__ import annotations

import contextlib
import math
import threading

import keras
import numpy as np
from keras import layers, ops

LEAK = 0.2  # thesis 6.2.8: leaky ReLU, c = 0.2, everywhere but the output layers


def he_normal(fan_in: int, seed=None):
    """He initialisation for fan-in `fan_in` (thesis 6.2.8), whatever the kernel's layout."""
    return keras.initializers.TruncatedNormal(stddev=math.sqrt(2.0 / fan_in) / 0.87962566103423978, seed=seed)


def _activate(x, activation):
    if activation == "lrelu":
        return ops.leaky_relu(x, LEAK)
    if activation == "tanh":
        return ops.tanh(x)
    return x


_SCOPE = threading.local()  # per thread: `trainers.growth_ahead` traces the next stage's step in another one


@contextlib.contextmanager
def settled_fades(settled=True):
    """Trace-time switch: inside it, every `FadedLayer` computes with its weights themselves (the caller guarantees
    that every beta is 1). `zoo.growing.GrowingConvGAN.train_step` enters it once the stage's fade is over, so that
    only the train step drops the masks; what is traced elsewhere (an export, a walk) keeps reading beta."""
    previous = getattr(_SCOPE, "settled", False)
    _SCOPE.settled = settled
    try:
        yield
    finally:
        _SCOPE.settled = previous


class FadedLayer(layers.Layer):
    """A layer whose weights outside the carried block are multiplied by ``beta`` at run time (thesis 6.2.7).

    The carried block is ``[:old_in, ..., :old_out]`` of the kernel and ``[:old_out]`` of the bias; ``old_in`` and
    ``old_out`` of None mean "all carried" (no mask). The runtime kernel is ``w_hat = w * (m + beta * (1 - m))`` with
    ``m`` the 0/1 indicator of the carried block: new input slices, new output filters and their new biases are all
    scaled by beta, so at beta = 0 the layer computes exactly its previous function (new channels are
    ``act(0) = 0``).
    """

    def __init__(self, filters, old_in=None, old_out=None, activation="lrelu", **kwargs):
        super().__init__(**kwargs)
        self.filters, self.old_in, self.old_out, self.activation = int(filters), old_in, old_out, activation

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "old_in": self.old_in, "old_out": self.old_out,
                "activation": self.activation}

    def _build_weights(self, kernel_shape, n_in, fan_in):
        self.kernel = self.add_weight(shape=kernel_shape, initializer=he_normal(fan_in), name="kernel")
        self.bias = self.add_weight(shape=(self.filters,), initializer="zeros", name="bias")
        self.beta = self.add_weight(shape=(), initializer="ones", trainable=False, name="beta")
        n_out = self.filters
        old_in = n_in if self.old_in is None else int(self.old_in)
        old_out = n_out if self.old_out is None else int(self.old_out)
        self.masked = (old_in, old_out) != (n_in, n_out)
        if self.masked:
            kernel_mask = np.zeros(kernel_shape, np.float32)
            bias_mask = np.zeros((n_out,), np.float32)
            bias_mask[:old_out] = 1.0
            if self._latent:
                kernel_mask[:old_in, ..., :old_out] = 1.0
            else:
                kernel_mask[..., :old_in, :old_out] = 1.0
            self.kernel_mask, self.bias_mask = kernel_mask, bias_mask

    _latent = False  # True: the kernel is [in, h, w, out] (LatentProject), else [h, w, in, out]

    def set_fade(self, fade):
        """beta = f (only layers with new weights have a beta that matters)."""
        if self.masked:
            self.beta.assign(fade)

    def faded(self):
        """``(w_hat, b_hat)``: the runtime kernel and bias; inside `settled_fades` (a train step traced once the
        stage's fade is over, beta = 1) the weights themselves: the factor ``m + 1 * (1 - m)`` is exactly 1 in every
        dtype, so outputs and gradients are the same bit for bit, without the multiplies."""
        if not self.masked or getattr(_SCOPE, "settled", False):
            return self.kernel, self.bias
        beta = ops.cast(self.beta, self.kernel.dtype)
        return (self.kernel * (self.kernel_mask + beta * (1.0 - self.kernel_mask)),
                self.bias * (self.bias_mask + beta * (1.0 - self.bias_mask)))


class FadeConv2D(FadedLayer):
    """Convolution, stride 1, 'same' padding (or 'valid' for the critic's 4x4 to 1x1 layer d2), He-initialised."""

    def __init__(self, filters, kernel_size=3, padding="same", old_in=None, old_out=None, activation="lrelu",
                 **kwargs):
        super().__init__(filters, old_in, old_out, activation, **kwargs)
        self.kernel_size, self.padding = int(kernel_size), padding

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size, "padding": self.padding}

    def build(self, input_shape):
        k, n_in = self.kernel_size, int(input_shape[-1])
        self._build_weights((k, k, n_in, self.filters), n_in, k * k * n_in)

    def call(self, x):
        kernel, bias = self.faded()
        return _activate(ops.conv(x, kernel, padding=self.padding) + bias, self.activation)


class LatentProject(FadedLayer):
    """g1: the latent ``[B, k]`` to ``4 x 4 x C`` (a 4x4 convolution with full padding of a 1x1 input, 6.2.8).

    Equal to a bias-free dense layer, a reshape and a per-channel bias; the kernel is kept as ``[k, 4, 4, C]`` so
    that growing the latent (rows) and the channels (last axis) are both leading-slice copies. Fan-in is k.
    """

    _latent = True

    def build(self, input_shape):
        n_in = int(input_shape[-1])
        self._build_weights((n_in, 4, 4, self.filters), n_in, n_in)

    def call(self, z):
        kernel, bias = self.faded()
        return _activate(ops.einsum("bk,khwc->bhwc", z, kernel) + bias, self.activation)


class MinibatchStd(layers.Layer):
    """Minibatch standard deviation with the thesis' tau mixing (6.2.6, eq. 15), prepended as channel 0.

    ``s[h, w, c] = std over the batch``; with the first ``old_channels`` channels carried from the previous
    stage, ``std_f = (1 - tau) * mean(s[..., :old]) + tau * mean(s[..., old:])`` (tau 0 -> 1/2 during the fade;
    at 1/2 with as many new as old channels it is the plain mean). Without a split it is ``mean(s)``.

    The thesis concatenates the map last and restores d3's filter for it at growth; putting it first is the same
    network up to a permutation of d3's input slices, and makes that restore a leading-slice copy like every other.
    Under a distribution strategy the std is taken over each replica's batch (as PGGAN's groups), so a mirrored run
    is not bit-equal to a one-device run of the same global batch.
    """

    def __init__(self, old_channels=None, **kwargs):
        super().__init__(**kwargs)
        self.old_channels = old_channels

    def get_config(self):
        return {**super().get_config(), "old_channels": self.old_channels}

    def build(self, input_shape):
        self.tau = self.add_weight(shape=(), initializer=keras.initializers.Constant(0.5), trainable=False,
                                   name="tau")
        self.split = self.old_channels is not None and int(self.old_channels) < int(input_shape[-1])

    def set_fade(self, fade):
        """tau = f / 2 (thesis 7.2.3: 0 -> 1/2 while alpha and beta go 0 -> 1)."""
        self.tau.assign(fade / 2)

    def call(self, x):
        std = ops.sqrt(ops.var(ops.cast(x, "float32"), axis=0) + 1e-8)
        if self.split:
            tau = ops.cast(self.tau, "float32")
            old = int(self.old_channels)
            value = (1.0 - tau) * ops.mean(std[..., :old]) + tau * ops.mean(std[..., old:])
        else:
            value = ops.mean(std)
        fill = ops.ones_like(x[..., :1]) * ops.cast(value, x.dtype)
        return ops.concatenate([fill, x], axis=-1)


class AlphaBlend(layers.Layer):
    """``(1 - alpha) * old + alpha * new`` (thesis figure 6): alpha 0 -> 1 fades a new layer in."""

    def build(self, input_shape):
        self.alpha = self.add_weight(shape=(), initializer="ones", trainable=False, name="alpha")

    def set_fade(self, fade):
        self.alpha.assign(fade)

    def call(self, inputs):
        old, new = inputs
        alpha = ops.cast(self.alpha, old.dtype)
        return (1.0 - alpha) * old + alpha * new


def downsample(x, factor: int):
    """Average pooling by `factor` (thesis 6.2.8)."""
    return x if factor == 1 else ops.average_pool(x, factor, factor, padding="valid")


def upsample(x, factor: int):
    """Nearest-neighbour upsampling: every pixel into a factor x factor block (thesis 6.2.8)."""
    return x if factor == 1 else ops.repeat(ops.repeat(x, factor, axis=1), factor, axis=2)
