"""Strided convolutions whose weight gradient runs as one dilated forward convolution.

For a stride-``s`` convolution ``y[n,i,j,o] = sum_{a,b,c} x_p[n, s*i + a, s*j + b, c] * W[a,b,c,o]`` (``x_p``: the
input with the layer's padding), the weight gradient is

    dW[a,b,c,o] = sum_{n,i,j} x_p[n, s*i + a, s*j + b, c] * dy[n,i,j,o],

which is itself a stride-1 convolution: of ``x_p`` transposed to ``[c, H, W, n]`` (the channels as the batch, the
batch as the channels) with ``dy`` transposed to ``[i, j, n, o]`` as its filter, dilated by ``s``; its ``[c, a, b,
o]`` output, transposed back, is ``dW``. The same arithmetic in another order, and no other op than TF's forward
convolution and three transposes.

Why: on the 2-core AVX512-BF16 VM oneDNN's bfloat16 backward-weights kernel took twice the forward kernels' time
for the same FLOPs in the dcgan step (``Conv2DBackpropFilter`` 128 ms against 64 ms, 36% of the step's kernel time:
bench/results/step_profile.json as of 0d29d1d), while the dilated forward convolution does the same sums faster:
forward + weight gradient 1.19-1.97x for layers of 32 channels and more, and the whole dcgan step 1.25x
(bench/results/conv_weight_gradient.json). For layers with few channels (the convolution's batch is then tiny) it
is slower, and in float32 it pays only at 128 channels (1.1x), so ``"auto"`` takes it only in bfloat16 on a CPU, for
layers with at least `MIN_CHANNELS` channels on the weight gradient's batch side. Measured on AVX512-BF16 without
AMX; on an AMX CPU ``"auto"`` applies the same rule, and the bench says whether it pays there.

`Conv2D` and `Conv2DTranspose` keep Keras' class names, variables and config keys (plus ``weight_gradient``), so
weights saved from Keras' layers load into them and back (`zoo.layers.BatchNormalization` does the same), and their
forward pass is Keras' own: only the backward pass changes, and only for the weights.
"""
from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

WEIGHT_GRADIENTS = ("auto", "native", "dilated")
MIN_CHANNELS = 32
"""``"auto"`` keeps TF's kernel below this many channels on the weight gradient's batch side (the layer's input
channels for `Conv2D`, its filters for `Conv2DTranspose`): in bfloat16 the dilated form measured slower at 1, 8 and
16 channels, 1.2x faster at 32 and more from 64 up (bench/results/conv_weight_gradient.json)."""


def _gpu() -> bool:
    return bool(tf.config.list_logical_devices("GPU"))


def _window(size: int, out: int, kernel: int, stride: int, padding: str) -> tuple[int, int]:
    """(before, after) padding (negative ``after``: crop) that makes ``size`` exactly the ``(out - 1) * stride +
    kernel`` input rows the ``out`` outputs read, with TF's placement (``SAME``: the smaller half before)."""
    need = (out - 1) * stride + kernel
    before = max(need - size, 0) // 2 if padding == "same" else 0
    return before, need - size - before


def dilated_weight_gradient(x, dy, kernel_size, stride, padding):
    """``dW`` of ``conv2d(x, W, stride, padding)`` for the output gradient ``dy`` (module docstring's equation).

    ``x``: ``[n, H, W, c]`` with static ``H, W``; ``dy``: ``[n, h, w, o]``; returns ``[kh, kw, c, o]`` in ``x``'s
    dtype.
    """
    (kh, kw), (h, w) = kernel_size, dy.shape[1:3]
    (t, b), (left, right) = (_window(x.shape[1], h, kh, stride, padding),
                             _window(x.shape[2], w, kw, stride, padding))
    x = x[:, :x.shape[1] + min(b, 0), :x.shape[2] + min(right, 0), :]  # crop what no output reads
    # the padding as the convolution's own (explicit) padding: one pass over x fewer than a Pad op before it
    pads = [[0, 0], [t, max(b, 0)], [left, max(right, 0)], [0, 0]]
    out = tf.nn.conv2d(tf.transpose(x, (3, 1, 2, 0)), tf.transpose(dy, (1, 2, 0, 3)), 1, pads,
                       dilations=stride)  # [c, kh, kw, o]
    return tf.transpose(out, (1, 2, 0, 3))


def _supported(layer, inputs) -> bool:
    s, d = layer.strides, layer.dilation_rate
    return (keras.backend.backend() == "tensorflow" and layer.data_format == "channels_last" and len(inputs.shape) == 4
            and s[0] == s[1] and s[0] > 1 and tuple(d) == (1, 1) and getattr(layer, "groups", 1) == 1
            and None not in inputs.shape[1:] and getattr(layer, "output_padding", None) is None)


def _dilated(layer, inputs, channels) -> bool:
    """Whether this call takes the dilated weight gradient (module docstring: ``"auto"``'s rule)."""
    if layer.weight_gradient == "native" or not _supported(layer, inputs):
        return False
    if layer.weight_gradient == "dilated":
        return True
    return layer.compute_dtype == "bfloat16" and channels >= MIN_CHANNELS and not _gpu()


class _WeightGradient:
    """The ``weight_gradient`` option of both layers: checked when built and kept in the config."""

    def __init__(self, *args, weight_gradient="auto", **kwargs):
        if weight_gradient not in WEIGHT_GRADIENTS:
            raise ValueError(f"Unknown weight_gradient {weight_gradient!r}. Known: {', '.join(WEIGHT_GRADIENTS)}.")
        super().__init__(*args, **kwargs)
        self.weight_gradient = weight_gradient

    def get_config(self):
        return {**super().get_config(), "weight_gradient": self.weight_gradient}


def set_weight_gradient(networks, weight_gradient):
    """Set ``weight_gradient`` on every `Conv2D` / `Conv2DTranspose` among the layers of ``networks`` (Keras models),
    before their steps are traced (the choice is read when a step is traced)."""
    for net in networks:
        for layer in net.layers:
            if isinstance(layer, (Conv2D, Conv2DTranspose)):
                layer.weight_gradient = weight_gradient


def _kernel_gradient(y, kernel, gradient):
    """``y`` (computed from ``stop_gradient(kernel)``) whose gradient reaches ``kernel`` as ``gradient(dy)``.

    Only the kernel's gradient is replaced: the input's stays TF's own, through ``y``'s op. (Handing the input to
    `tf.custom_gradient` as well made grappler's remapper fail on a Conv2D + BiasAdd + LeakyReLU upstream.)"""
    scope = tf.get_current_name_scope()  # the gradient's ops go where TF puts the layer's own

    @tf.custom_gradient
    def attach(y, w):
        def grad(dy):
            with tf.name_scope("/".join(filter(None, ("gradient_tape", scope, "dilated_weight_gradient"))) + "/"):
                return dy, gradient(dy)
        return tf.identity(y), grad

    return attach(y, kernel)


@keras.saving.register_keras_serializable(package="zoo")
class Conv2D(_WeightGradient, layers.Conv2D):
    """`keras.layers.Conv2D` with ``weight_gradient``: ``"auto"`` (module docstring's rule), ``"native"`` (TF's
    ``Conv2DBackpropFilter``) or ``"dilated"`` (always, where the layer allows it: stride > 1, equal in both
    dimensions, no dilation or groups, channels-last, static spatial shape)."""

    def convolution_op(self, inputs, kernel):
        if not _dilated(self, inputs, inputs.shape[-1]):
            return super().convolution_op(inputs, kernel)
        kernel = tf.convert_to_tensor(kernel)
        y = super().convolution_op(inputs, tf.stop_gradient(kernel))
        return _kernel_gradient(y, kernel, lambda dy: dilated_weight_gradient(
            inputs, dy, self.kernel_size, self.strides[0], self.padding))


@keras.saving.register_keras_serializable(package="zoo")
class Conv2DTranspose(_WeightGradient, layers.Conv2DTranspose):
    """`keras.layers.Conv2DTranspose` with ``weight_gradient`` (as `Conv2D`). A transposed convolution ``y = x *^T
    W`` is the input gradient of ``conv2d(y, W)``, so its weight gradient is `dilated_weight_gradient` with the roles
    swapped: ``dW = dilated_weight_gradient(dy, x)`` (``dy``: the gradient at ``y``)."""

    def call(self, inputs):
        if not _dilated(self, inputs, self.filters):
            return super().call(inputs)
        kernel = tf.convert_to_tensor(self.kernel)
        y = keras.ops.conv_transpose(inputs, tf.stop_gradient(kernel), strides=self.strides, padding=self.padding)
        outputs = _kernel_gradient(y, kernel, lambda dy: dilated_weight_gradient(
            dy, inputs, self.kernel_size, self.strides[0], self.padding))
        if self.use_bias:  # as Keras' `call` after its convolution
            outputs = outputs + self.bias
        return self.activation(outputs) if self.activation is not None else outputs
