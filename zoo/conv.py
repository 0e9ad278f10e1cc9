"""Strided convolutions whose weight gradient runs as one dilated forward convolution, and whose transposed
convolutions to one channel run as one matmul and an overlap-add.

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

**One-channel transposed convolutions.** A transposed convolution ``y = x *^T W`` (a `Conv2DTranspose`'s forward
pass; a `Conv2D`'s input gradient) adds, for every input pixel ``m``, the patch ``x[m] . W[a, b, :, :]`` into the
output at ``s*m + (a, b) - pad``. oneDNN's kernel for it (``Conv2DBackpropInput``) ran at 18 GFLOP/s when the output
has one channel (the image side of a grayscale GAN: G's last layer, D's first), against 380-490 for the step's other
convolutions (bench/results/step_conv_floor.json): three such ops took 11.5 ms of the dcgan bf16 step's 140 ms of
convolutions. `matmul_conv_transpose` computes all patches as one matmul, ``P = x @ W`` (``[n*h*w, c] x [c,
kh*kw*o]``), then adds them up phase by phase: the outputs ``s*m + r`` (``r``: the phase, ``0 <= r < s`` per axis)
take ``P[m + d, a]`` for the taps ``a = r + pad - s*d`` that exist, a few shifted slices each; `depth_to_space`
interleaves the phases. ``narrow_transpose="auto"`` takes that form on a CPU where the output has exactly one
channel: at 3 channels and more the overlap-add's slices cost what the matmul saves
(bench/results/conv_narrow_transpose.json). The other gradients of such a layer stay TF's kernels.

`Conv2D` and `Conv2DTranspose` keep Keras' class names, variables and config keys (plus `OPTIONS`), so
weights saved from Keras' layers load into them and back (`zoo.layers.BatchNormalization` does the same). Every form
computes the same sums as TF's kernels (exact in float64: tests/test_conv.py).
"""
from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

OPTIONS = {"weight_gradient": ("auto", "native", "dilated"), "narrow_transpose": ("auto", "native", "matmul")}
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


def matmul_conv_transpose(x, kernel, stride, pad):
    """``conv2d_transpose(x, kernel, stride)`` with ``pad`` rows cropped before each spatial axis and ``stride * h``
    outputs per axis (TF's ``SAME``: ``_window``'s ``before``), as one matmul and an overlap-add.

    ``x``: ``[n, h, w, c]`` (static ``h, w``), ``kernel``: ``[k, k, o, c]`` (a transposed convolution's layout).
    ``y[s*m + r] = sum_a P[m + d, a]`` over the taps ``a = r + pad - s*d`` in ``[0, k)`` (per axis), with ``P = x @
    W`` every input pixel's patch (module docstring)."""
    k, o, c = kernel.shape[0], kernel.shape[2], kernel.shape[3]
    h, w = x.shape[1:3]
    patches = tf.matmul(tf.reshape(x, [-1, c]), tf.reshape(tf.transpose(kernel, (3, 0, 1, 2)), [c, k * k * o]))
    patches = tf.reshape(patches, [-1, h, w, k, k, o])
    low, high = -((k - 1 - pad) // stride), (stride - 1 + pad) // stride  # the offsets d any phase reads
    patches = tf.pad(patches, [[0, 0], [-low, high], [-low, high], [0, 0], [0, 0], [0, 0]])
    taps = [[(d - low, r + pad - stride * d) for d in range(low, high + 1) if 0 <= r + pad - stride * d < k]
            for r in range(stride)]
    phases = []
    for rows in taps:
        for cols in taps:
            terms = [patches[:, i:i + h, j:j + w, a, b, :] for i, a in rows for j, b in cols]
            phases.append(tf.add_n(terms) if terms else tf.zeros_like(patches[:, :h, :w, 0, 0, :]))
    return tf.nn.depth_to_space(tf.concat(phases, -1), stride)


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


def _narrow(layer, inputs, channels) -> bool:
    """Whether this call's transposed convolution (to ``channels`` channels) takes `matmul_conv_transpose`: a
    ``same`` layer with a square kernel, on input sides a `Conv2D`'s stride divides (so the transposed convolution
    gives them back)."""
    if (layer.narrow_transpose == "native" or not _supported(layer, inputs) or layer.padding != "same"
            or layer.kernel_size[0] != layer.kernel_size[1]):
        return False
    if isinstance(layer, layers.Conv2D) and any(side % layer.strides[0] for side in inputs.shape[1:3]):
        return False
    return layer.narrow_transpose == "matmul" or (channels == 1 and not _gpu())


class _Options:
    """The `OPTIONS` of both layers: checked when built and kept in the config."""

    def __init__(self, *args, weight_gradient="auto", narrow_transpose="auto", **kwargs):
        for name, value in (("weight_gradient", weight_gradient), ("narrow_transpose", narrow_transpose)):
            if value not in OPTIONS[name]:
                raise ValueError(f"Unknown {name} {value!r}. Known: {', '.join(OPTIONS[name])}.")
        super().__init__(*args, **kwargs)
        self.weight_gradient, self.narrow_transpose = weight_gradient, narrow_transpose

    def get_config(self):
        return {**super().get_config(), "weight_gradient": self.weight_gradient,
                "narrow_transpose": self.narrow_transpose}


def configure(networks, **options):
    """Set `OPTIONS` (``weight_gradient="native"``, ...) on every `Conv2D` / `Conv2DTranspose` among the layers of
    ``networks`` (Keras models), before their steps are traced (the choice is read when a step is traced)."""
    for name, value in options.items():
        if value not in OPTIONS.get(name, ()):
            raise ValueError(f"Unknown zoo.conv option {name}={value!r}. Known: {OPTIONS}.")
    for net in networks:
        for layer in net.layers:
            if isinstance(layer, (Conv2D, Conv2DTranspose)):
                for name, value in options.items():
                    setattr(layer, name, value)


def _replace_gradients(y, gradients):
    """``y`` (computed from ``stop_gradient`` of the tensors in ``gradients``), whose gradient reaches each such
    tensor ``t`` as ``gradient(dy)``, for the ``(t, gradient)`` pairs in ``gradients``; every other gradient through
    ``y``'s op stays TF's."""
    scope = tf.get_current_name_scope()  # the gradient's ops go where TF puts the layer's own
    tensors, functions = zip(*gradients)

    @tf.custom_gradient
    def attach(y, *tensors):
        def grad(dy):
            with tf.name_scope("/".join(filter(None, ("gradient_tape", scope, "zoo_conv"))) + "/"):
                return (dy, *(gradient(dy) for gradient in functions))
        return tf.identity(y), grad

    return attach(y, *tensors)


@keras.saving.register_keras_serializable(package="zoo")
class Conv2D(_Options, layers.Conv2D):
    """`keras.layers.Conv2D` with `OPTIONS`: ``weight_gradient`` ``"auto"`` (module docstring's rule), ``"native"``
    (TF's ``Conv2DBackpropFilter``) or ``"dilated"`` (always, where the layer allows it: stride > 1, equal in both
    dimensions, no dilation or groups, channels-last, static spatial shape); ``narrow_transpose`` (the input
    gradient) ``"auto"`` (`matmul_conv_transpose` for a 1-channel input on a CPU), ``"native"`` or ``"matmul"``
    (where the layer allows it, and is ``same`` with a square kernel, on inputs its stride divides)."""

    def convolution_op(self, inputs, kernel):
        dilated, narrow = _dilated(self, inputs, inputs.shape[-1]), _narrow(self, inputs, inputs.shape[-1])
        if not (dilated or narrow):
            return super().convolution_op(inputs, kernel)
        kernel, s = tf.convert_to_tensor(kernel), self.strides[0]
        y = super().convolution_op(tf.stop_gradient(inputs) if narrow else inputs,
                                   tf.stop_gradient(kernel) if dilated else kernel)
        gradients = [(kernel, lambda dy: dilated_weight_gradient(inputs, dy, self.kernel_size, s, self.padding))
                     ] if dilated else []
        if narrow:  # the input gradient is the transposed convolution of dy, cropped as the input was padded
            pad = _window(inputs.shape[1], y.shape[1], self.kernel_size[0], s, self.padding)[0]
            gradients.append((inputs, lambda dy: matmul_conv_transpose(dy, kernel, s, pad)))
        return _replace_gradients(y, gradients)


@keras.saving.register_keras_serializable(package="zoo")
class Conv2DTranspose(_Options, layers.Conv2DTranspose):
    """`keras.layers.Conv2DTranspose` with `OPTIONS` (as `Conv2D`; ``narrow_transpose``: the forward pass, for 1
    filter). A transposed convolution ``y = x *^T W`` is the input gradient of ``conv2d(y, W)``, so its weight
    gradient is `dilated_weight_gradient` with the roles swapped, ``dW = dilated_weight_gradient(dy, x)`` (``dy``:
    the gradient at ``y``), and its input gradient is ``conv2d(dy, W)``."""

    def call(self, inputs):
        dilated, narrow = _dilated(self, inputs, self.filters), _narrow(self, inputs, self.filters)
        if not (dilated or narrow):
            return super().call(inputs)
        kernel, s = tf.convert_to_tensor(self.kernel), self.strides[0]
        if dilated:
            weight = lambda dy: dilated_weight_gradient(dy, inputs, self.kernel_size, s, self.padding)  # noqa: E731
        else:  # TF's kernel, which the matmul form's graph no longer has an op to take it from
            weight = lambda dy: tf.raw_ops.Conv2DBackpropFilter(  # noqa: E731
                input=dy, filter_sizes=tf.shape(kernel), out_backprop=inputs, strides=[1, s, s, 1], padding="SAME")
        if narrow:  # the output is cropped by the rows `same` pads before the convolution this transposes
            pad = _window(inputs.shape[1] * s, inputs.shape[1], self.kernel_size[0], s, self.padding)[0]
            y = matmul_conv_transpose(tf.stop_gradient(inputs), tf.stop_gradient(kernel), s, pad)
            gradients = [(inputs, lambda dy: tf.nn.conv2d(dy, kernel, s, "SAME")), (kernel, weight)]
        else:
            y = keras.ops.conv_transpose(inputs, tf.stop_gradient(kernel), strides=self.strides, padding=self.padding)
            gradients = [(kernel, weight)]
        outputs = _replace_gradients(y, gradients)
        if self.use_bias:  # as Keras' `call` after its convolution
            outputs = outputs + self.bias
        return self.activation(outputs) if self.activation is not None else outputs
