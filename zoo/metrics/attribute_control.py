"""What an LSC model (`lsc_vae`, `lsc_gan`) controls: four diagnostics a user can run on any of them, each a
`MetricRecord` with its protocol (``zoo evaluate --metrics lsc_attribute_accuracy,...``).

* ``lsc_attribute_accuracy``: for every attribute c, ``per_class`` images ``G(z)``, z ~ N(n_c, I) (section 3.1);
  the share the project classifier labels c (value), and per class.
* ``lsc_edit``: eq. 8 on latents of attribute i, ``x_ij = G(z_i - n_i + n_j)`` for every pair i != j (remove i,
  add j); the share labelled j.
* ``lsc_block_probe``: the encoder's mean mu(x) of real images, read by blocks: the attribute whose block has the
  largest mean (value: the share equal to the label), each block's balanced accuracy at "block mean > 1/2" (the
  midpoint of the prior's 0 and 1) for "has attribute i", and the mean of each example's own block (the prior: 1).
* ``lsc_block_swap``: real images of class i, ``G(mu(x) - n_i + n_j)`` with j drawn uniformly among the others
  (seeded); the share labelled j. Attribute information left outside the blocks survives the swap and shows here.

Attribute accuracy, edit and swap need a dataset whose classes are the attributes (the classifier labels them).
The probe takes any labels the model's attribute space reads (CelebA's included).
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from zoo.batching import batched
from zoo.metrics.record import MetricRecord, protocol


def _lsc(model):
    if not hasattr(model, "attributes") or not hasattr(model, "attribute_latent"):
        raise ValueError(f"{type(model).__name__} has no attribute blocks: the lsc_* metrics are for lsc_vae and "
                         "lsc_gan models.")
    return model.attributes


def _classes(model, dataset):
    space = _lsc(model)
    if not space.exclusive:
        raise ValueError(f"This metric labels images with the project classifier, so it needs attributes that are a "
                         f"dataset's classes; this model's are {space.spec!r}. Use lsc_block_probe.")
    return space.size


def _render(network, z):
    return batched(lambda b: network(b, training=False), np.asarray(z, np.float32))


def _real(model, dataset, split, n):
    import zoo

    x, y = zoo.load_arrays(dataset, split, image_size=model.image_size)
    return x[:n], y[:n]


def _net(dataset, net):
    from zoo import metrics

    return net or metrics._net("classifier", dataset)


def attribute_accuracy(model, dataset, per_class=100, seed=0, net=None, split=None, network=None) -> MetricRecord:
    """``network``: what renders the latents (default ``model.generator``; ``model.decoder`` for the LSC-VAE)."""
    k, net = _classes(model, dataset), _net(dataset, net)
    z = np.concatenate([model.attribute_latent([c], per_class, seed=seed * 1000 + c) for c in range(k)])
    requested = np.repeat(np.arange(k), per_class)
    pred = net.predict_labels(_render(network or model.generator, z))
    per = {model.attributes.names[c]: float(np.mean(pred[requested == c] == c)) for c in range(k)}
    return MetricRecord("lsc_attribute_accuracy", float(np.mean(pred == requested)),
                        protocol(net.name, net.sha256, None, len(z), None, seed, per_class=per_class,
                                 latent="z ~ N(n_c, I), latent seed = seed * 1000 + c"),
                        {"per_class": per, "min_class": min(per.values())})


def edit_rate(model, dataset, per_pair=10, seed=0, net=None, split=None) -> MetricRecord:
    k, net = _classes(model, dataset), _net(dataset, net)
    pairs = [(i, j) for i in range(k) for j in range(k) if j != i]
    z = {i: model.attribute_latent([i], per_pair, seed=seed * 1000 + 500 + i) for i in range(k)}
    edited = np.concatenate([model.edit(z[i], add=[j], remove=[i]) for i, j in pairs])
    target = np.repeat([j for _, j in pairs], per_pair)
    pred = net.predict_labels(_render(model.generator, edited))
    return MetricRecord("lsc_edit", float(np.mean(pred == target)),
                        protocol(net.name, net.sha256, None, len(target), None, seed, per_pair=per_pair,
                                 edit="G(z_i - n_i + n_j), z_i ~ N(n_i, I), every i != j (eq. 8)"))


def _mu(model, x):
    return batched(lambda b: model.encoder(b, training=False)[0], x)


def block_probe(model, dataset, n=2000, split="test", seed=0, images=None, labels=None) -> MetricRecord:
    space = _lsc(model)
    if images is None:
        images, labels = _real(model, dataset, split, n)
    attrs = space.from_labels(labels).numpy() > 0.5
    means = _mu(model, images).reshape(len(images), space.size, space.block_size).mean(-1)
    present = means > 0.5
    balanced = {}
    for i, name in enumerate(space.names):
        pos, neg = attrs[:, i], ~attrs[:, i]
        if pos.any() and neg.any():
            balanced[name] = float((present[pos, i].mean() + (~present[neg, i]).mean()) / 2)
    readout = float(np.mean(means.argmax(1) == attrs.argmax(1))) if space.exclusive else float("nan")
    own = float(means[attrs].mean())
    return MetricRecord("lsc_block_probe", readout,
                        protocol(None, None, len(images), None, split, seed,
                                 readout="argmax_i mean(mu(x) on block i) == label; balanced accuracy of "
                                         "'block mean > 1/2' per attribute"),
                        {"balanced_accuracy": balanced, "own_block_mean": own})


def block_swap(model, dataset, n=2000, split="test", seed=0, net=None, images=None, labels=None) -> MetricRecord:
    k, net = _classes(model, dataset), _net(dataset, net)
    x, y = (images, labels) if images is not None else _real(model, dataset, split, n)
    target = (y + np.random.default_rng(seed).integers(1, k, len(y))) % k
    space = model.attributes
    z = _mu(model, x) - space.mean(tf.one_hot(y, k)).numpy() + space.mean(tf.one_hot(target, k)).numpy()
    pred = net.predict_labels(_render(model.generator, z))
    return MetricRecord("lsc_block_swap", float(np.mean(pred == target)),
                        protocol(net.name, net.sha256, len(x), len(x), split, seed,
                                 edit="G(mu(x) - n_label + n_j), j uniform among the other classes"))


MODEL_METRICS = {"lsc_attribute_accuracy": attribute_accuracy, "lsc_edit": edit_rate,
                 "lsc_block_probe": block_probe, "lsc_block_swap": block_swap}
