"""Channel growth by copying trained channels (Net2WiderNet; Chen, Goodfellow & Shlens, "Net2Net", ICLR 2016),
``channel_growth="copy"``, the alternative to the thesis' fade-in of random channels (6.2.7). On Fashion-MNIST in
the thesis' proportions it is no better than the fade (docs/results/growing.md, thesis section 8).

The thesis grows a layer from ``c`` to ``c'`` channels with new random filters whose runtime weight is
``w_hat = beta * w``, beta 0 -> 1. Under Adam a step moves ``w`` by about the learning rate whatever the gradient's
scale, so ``w_hat`` moves by ``beta`` times that: the new channels learn at ``beta`` times the rate while they fade
in (half of each grown stage in the thesis' schedule), and start from random features.

Net2WiderNet instead starts every new channel as a copy of a trained one. With ``src(j)`` the channel that new
channel ``j`` copies (``j`` itself for the carried ``j < c``, else ``j mod c``) and ``n(i)`` how many channels copy
channel ``i`` (itself included), a layer's grown kernel is

    W'[..., i, j] = W[..., src_in(i), src_out(j)] / n_in(src_in(i)),      b'[j] = b[src_out(j)]

so that each copy computes its source's activation and the next layer, dividing the weights it reads from a
channel's copies by their number, computes what it did before: the grown network equals the old one (for any
elementwise activation; these networks have no normalisation layer that a copy would change). New latent inputs
(g1's rows) start at 0, as the MLP's (thesis 6.1). Identical copies would receive identical gradients forever, so
the new channels' incoming weights get Gaussian noise of ``noise`` times the standard deviation of the layer's
kernel (Net2Net also adds noise to break the symmetry); that is the only change of function at growth. The fade
factor beta is then not used (it stays 1); alpha and tau fade as in the thesis (the minibatch std's mean over
channels is one that exact copies leave unchanged).
"""
from __future__ import annotations

import numpy as np

from zoo.growing.layers import FadedLayer, LatentProject

MBSTD_PREFIX = {"d4_conv": 1}  # layers whose input starts with channels that are not copied: the minibatch std map


def source(old: int, new: int, prefix: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(src, n)``: for each of `new` indices the old index it copies (identity below `old`, then ``prefix + (j -
    prefix) mod (old - prefix)``), and for each old index how many new ones copy it (itself included)."""
    j = np.arange(new)
    src = np.where(j < old, j, prefix + (j - prefix) % max(old - prefix, 1))
    return src, np.bincount(src, minlength=old)


def widen(value: np.ndarray, new_shape, *, in_axis=None, out_axis=None, in_prefix=0, latent_in=False) -> np.ndarray:
    """The linear part of Net2WiderNet for one weight: `value` copied along `out_axis` (``src_out``) and along
    `in_axis` divided by the copy counts (``W[..., src_in(i), :] / n_in(src_in(i))``), or, with `latent_in`, new
    input rows at 0."""
    out = np.asarray(value, np.float32)
    if out_axis is not None and new_shape[out_axis] != out.shape[out_axis]:
        out = np.take(out, source(out.shape[out_axis], new_shape[out_axis])[0], axis=out_axis)
    if in_axis is not None and new_shape[in_axis] != out.shape[in_axis]:
        old, new = out.shape[in_axis], new_shape[in_axis]
        if latent_in:
            pad = [(0, 0)] * out.ndim
            pad[in_axis] = (0, new - old)
            out = np.pad(out, pad)
        else:
            src, count = source(old, new, in_prefix)
            scale = np.expand_dims(1.0 / count[src], [a for a in range(out.ndim) if a != in_axis % out.ndim])
            out = np.take(out, src, axis=in_axis) * scale
    return out


def weight_axes(layer, weight_index: int) -> dict:
    """`widen`'s axes for weight `weight_index` of a fading layer: kernel ``[..., in, out]`` (g1's ``[latent, 4, 4,
    out]``), bias ``[out]``; anything else (the fade scalars) is not widened."""
    if weight_index == 0:
        if isinstance(layer, LatentProject):
            return {"in_axis": 0, "out_axis": -1, "latent_in": True}
        return {"in_axis": -2, "out_axis": -1, "in_prefix": MBSTD_PREFIX.get(layer.name, 0)}
    return {"out_axis": 0} if weight_index == 1 else {}


def widened_pairs(old_net, new_net) -> list:
    """``(old_variable, new_variable, widen kwargs)`` for every weight of a fading layer that grew."""
    new_layers = {layer.name: layer for layer in new_net.layers}
    out = []
    for layer in old_net.layers:
        twin = new_layers.get(layer.name)
        if twin is None or not isinstance(layer, FadedLayer):
            continue
        for i, (old, new) in enumerate(zip(layer.weights, twin.weights)):
            if tuple(old.shape) != tuple(new.shape):
                out.append((old, new, weight_axes(layer, i)))
    return out


def copy_channels(old_net, new_net, noise: float, rng: np.random.Generator) -> list:
    """Write Net2WiderNet's grown weights of `old_net` into `new_net` (after the leading-slice carry), with `noise`
    on the new channels' incoming kernel weights. Returns `widened_pairs`, for `widen_averages`."""
    pairs = widened_pairs(old_net, new_net)
    for old, new, axes in pairs:
        value = widen(old.numpy(), tuple(new.shape), **axes)
        if noise and "in_axis" in axes:  # a kernel: noise on the filters of the new output channels
            n_old = int(old.shape[-1])
            std = float(np.std(old.numpy())) or 1.0
            value[..., n_old:] += noise * std * rng.standard_normal(value[..., n_old:].shape).astype(np.float32)
        new.assign(value)
    return pairs


def widen_averages(old_averages: dict, new_averages: dict, pairs) -> None:
    """The generator's moving averages follow the copy: ``avg' = w' + widen(avg - w)`` for each widened weight, so
    the average differs from the weight as much as before growth and the copies' noise is not averaged away.
    `old_averages` / `new_averages` map a variable's id to its average variable."""
    for old, new, axes in pairs:
        if id(old) in old_averages and id(new) in new_averages:
            delta = old_averages[id(old)].numpy() - old.numpy()
            new_averages[id(new)].assign(new.numpy() + widen(delta, tuple(new.shape), **axes))
