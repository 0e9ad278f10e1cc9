"""SNGAN's "standard CNN" (Miyato et al. 2018, table 3) for 32x32 images, with a width knob.

Generator: z -> Dense 4x4x(8w) -> three [4x4 stride-2 transposed conv, BatchNorm, ReLU] halving the channels
(8w -> 4w -> 2w -> w) -> conv3x3 to the image channels -> tanh. The transposed convolutions are
`zoo.conv.Conv2DTranspose` (Keras' layer; its weight gradient a dilated forward convolution in bfloat16 on a CPU).

Discriminator, every layer wrapped in `keras.layers.SpectralNormalization` (one power iteration per training
call, the paper's setting): conv3x3 w, conv4x4/2 w, conv3x3 2w, conv4x4/2 2w, conv3x3 4w, conv4x4/2 4w,
conv3x3 8w, each followed by LeakyReLU(0.1), then Dense(1) logits. ``w = 64`` is the paper's width.

Two ways to normalise (``spectral=``):

* ``"projection"`` (the default; what the presets so far were trained with): Keras' `SpectralNormalization`, which
  writes W / sigma(W) back into the wrapped kernel at every ``training=True`` call (as tensorflow-addons did), so the
  stored kernel is the normalised one and the optimizer steps the normalised kernel.
* ``"reparam"``: Miyato et al.'s reparametrisation (their eq. 8 and appendix A): the layer runs with
  W_SN = W / sigma(W) for the raw W it stores, u and v held fixed in the gradient, so

      dL/dW = (dL/dW_SN - <dL/dW_SN, W_SN> u1 v1^T) / sigma(W)    (their eq. 12; u1, v1: W's top singular pair)

  is orthogonal to W: no optimizer step goes into W's scale, which W_SN does not see. The projection hands the
  optimizer dL/dW_SN itself, whose part along W (for a critic short of the hinge's margins, scaling every logit up)
  the next call divides away.
"""
from __future__ import annotations

import keras
from keras import layers, ops

from zoo.conv import Conv2DTranspose
from zoo.layers import batch_norm
from zoo.shapes import check_image_size

SPECTRAL = ("projection", "reparam")


def _sigma(kernel, u, training):
    """One power iteration (Miyato et al., Algorithm 1) on ``kernel`` reshaped to ``[-1, n_out]``: sigma(W) =
    v^T W u with v = W u / |W u|, u' = W^T v / |W^T v| held constant in the gradient; u' is kept when training."""
    w = ops.reshape(kernel, (-1, ops.shape(u)[-1]))
    v = ops.stop_gradient(ops.normalize(ops.matmul(u, ops.transpose(w)), axis=-1))
    vw = ops.matmul(v, w)  # v^T W, once: the next u and (with the gradient through W) sigma
    u_new = ops.stop_gradient(ops.normalize(vw, axis=-1))
    if training:
        u.assign(u_new)
    return ops.sum(vw * u_new)


class _Reparam:
    """Mixin of `SNConv2D` / `SNDense`: a non-trainable power-iteration vector u beside the kernel, one entry per
    output unit (the kernel's last axis in both layouts)."""

    def build(self, input_shape):
        super().build(input_shape)
        self.u = self.add_weight(shape=(1, self.kernel.shape[-1]), initializer="random_normal", trainable=False,
                                 name="u")

    def _normalized_kernel(self, training):
        return self.kernel / ops.cast(_sigma(self.kernel, self.u, training), self.kernel.dtype)

    # Conv2D and Dense save only their kernel and bias (in a quantization-aware order); u is saved too
    def save_own_variables(self, store):
        layers.Layer.save_own_variables(self, store)

    def load_own_variables(self, store):
        layers.Layer.load_own_variables(self, store)


@keras.saving.register_keras_serializable(package="zoo")
class SNConv2D(_Reparam, layers.Conv2D):
    """`keras.layers.Conv2D` (channels last) run with W / sigma(W) (``spectral="reparam"``)."""

    def call(self, inputs, training=False):
        out = self.convolution_op(inputs, self._normalized_kernel(training))
        return self.activation(ops.add(out, ops.reshape(self.bias, (1, 1, 1, self.filters))))


@keras.saving.register_keras_serializable(package="zoo")
class SNDense(_Reparam, layers.Dense):
    """`keras.layers.Dense` run with W / sigma(W) (``spectral="reparam"``)."""

    def call(self, inputs, training=False):
        return self.activation(ops.add(ops.matmul(inputs, self._normalized_kernel(training)), self.bias))


def spectral(layer, power_iterations=1, kind="projection"):
    """``layer`` (a Conv2D or Dense with a bias), spectrally normalised the ``kind`` way (see the module)."""
    if kind == "projection":
        return layers.SpectralNormalization(layer, power_iterations=power_iterations)
    if kind != "reparam" or power_iterations != 1:
        raise ValueError(f"spectral={kind!r} with {power_iterations} power iterations: use one of {SPECTRAL} "
                         "(reparam runs one iteration per training call, the paper's setting).")
    return (SNConv2D if isinstance(layer, layers.Conv2D) else SNDense).from_config(layer.get_config())


def sngan_generator(input_dim, image_size=32, channels=1, width=64, name="generator", conditional_norm=None):
    """``[B, input_dim]`` -> images ``[B, image_size, image_size, channels]`` in [-1, 1].

    ``conditional_norm=(dim, layer_factory)`` replaces each up-block's BatchNorm by ``layer_factory(name)([x, c])``
    with c the last `dim` entries of the input (`zoo.lsc_conditioned.networks`' conditional BatchNorm)."""
    n_up = check_image_size(image_size) - 2
    z = keras.Input((input_dim,), name="latent")
    c = width * 2 ** n_up
    x = layers.Dense(4 * 4 * c, name="project")(z)
    x = layers.Reshape((4, 4, c))(x)
    for i in range(n_up):
        c //= 2
        x = Conv2DTranspose(c, 4, strides=2, padding="same", use_bias=False, name=f"up{i}")(x)
        if conditional_norm:
            dim, factory = conditional_norm
            x = factory(f"up{i}_cbn")([x, z[:, input_dim - dim:]])
        else:
            x = batch_norm(f"up{i}_bn")(x)
        x = layers.ReLU()(x)
    x = layers.Conv2D(channels, 3, padding="same", name="to_image")(x)
    out = layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(z, out, name=name)


def sngan_discriminator(image_size=32, channels=1, width=64, name="discriminator", spectral_kind="projection"):
    """Images ``[B, H, W, channels]`` -> logits ``[B, 1]``; every kernel spectrally normalised (``spectral_kind``:
    one of `SPECTRAL`)."""
    n_down = check_image_size(image_size) - 2
    img = keras.Input((image_size, image_size, channels), name="image")
    x = img
    c = width
    for i in range(n_down):
        x = spectral(layers.Conv2D(c, 3, padding="same", name=f"conv{i}a"), kind=spectral_kind)(x)
        x = layers.LeakyReLU(0.1)(x)
        x = spectral(layers.Conv2D(c, 4, strides=2, padding="same", name=f"conv{i}b"), kind=spectral_kind)(x)
        x = layers.LeakyReLU(0.1)(x)
        c *= 2
    x = spectral(layers.Conv2D(c, 3, padding="same", name="conv_last"), kind=spectral_kind)(x)
    x = layers.LeakyReLU(0.1)(x)
    x = layers.Flatten()(x)
    out = spectral(layers.Dense(1, dtype="float32", name="logit"), kind=spectral_kind)(x)
    return keras.Model(img, out, name=name)
