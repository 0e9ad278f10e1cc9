"""Metrics in one registry. Every call returns a :class:`MetricRecord` whose ``protocol`` says how the number
was measured (feature network and its sha256, number of real and fake samples, split, seed, machine); a
record can be appended to a JSONL file with ``record.append_jsonl(path)``.

=====================  ======================================================================
name                   what
=====================  ======================================================================
fd_classifier          Fréchet distance in the project classifier's 128-d features
                       (``zoo-cnn-<dataset>``; NOT Inception FID)
kid_classifier         KID (x 1000 is NOT applied) in the same features
fd_inception           Fréchet distance in InceptionV3 pool features (user's ImageNet weights)
kid_inception          KID in InceptionV3 features
precision_recall       improved precision and recall, k = 3, project classifier features
conditional_accuracy   share of generated images the classifier labels as the requested class
clustering             unsupervised classification error (one-to-one Hungarian) and purity
sharpness              luminance-normalised Laplacian (LSR-GAN 2.2)
knn_same_class         same-class rate of the 1st/2nd/5th nearest neighbour in a latent space
mode_coverage          2-D mixtures: modes captured and high-quality-sample rate (3 sigma)
point_distance         2-D point sets (Swiss roll): symmetric nearest-neighbour (Chamfer) distance, sliced W1
lsc_attribute_accuracy LSC models: G(z), z ~ N(n_c, I), labelled c (`zoo.metrics.attribute_control`)
lsc_edit               LSC models: eq. 8's G(z_i - n_i + n_j) labelled j
lsc_block_probe        LSC models: the attribute read from the encoder's blocks on real images
lsc_block_swap         LSC models: G(mu(x) - n_i + n_j) of real images labelled j
=====================  ======================================================================

The ``lsc_*`` metrics take the model (``compute(name, model=m, dataset=...)``); `evaluate_generator` passes it.

Example:
    >>> from zoo import metrics
    >>> rec = metrics.compute("fd_classifier", real=x_test, fake=samples, dataset="fashion_mnist",
    ...                       split="test", seed=0)
    >>> rec.append_jsonl("runs/metrics.jsonl"); print(rec)
"""
from __future__ import annotations

import difflib
from typing import Callable

import numpy as np

from zoo.metrics import attribute_control, scores
from zoo.metrics.features import ClassifierFeatures, InceptionFeatures, WeightsHashError, feature_network
from zoo.metrics.record import MetricRecord, protocol

METRICS: dict[str, Callable] = {}
MODEL_METRICS = attribute_control.MODEL_METRICS


def register_metric(name: str):
    def decorate(fn):
        METRICS[name] = fn
        return fn

    return decorate


def list_metrics() -> list[str]:
    return sorted(METRICS)


def compute(name: str, **kwargs) -> MetricRecord:
    """Compute metric `name`; kwargs as the metric's function (see its docstring)."""
    if name not in METRICS:
        close = difflib.get_close_matches(name, METRICS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"Unknown metric {name!r}.{hint} Known metrics: {', '.join(list_metrics())}.")
    return METRICS[name](**kwargs)


_FEATURE_CACHE: dict = {}


def _net(kind, dataset):
    key = (kind, dataset)
    if key not in _FEATURE_CACHE:
        _FEATURE_CACHE[key] = feature_network(kind, dataset)
    return _FEATURE_CACHE[key]


def _proto(net, real, fake, split, seed, **extra):
    return protocol(net.name if net else None, net.sha256 if net else None,
                    None if real is None else len(real), None if fake is None else len(fake), split, seed, **extra)


def _fd(kind, metric_name):
    def fd(real, fake, dataset=None, split=None, seed=None, net=None) -> MetricRecord:
        net = net or _net(kind, dataset)
        value = scores.frechet_distance(net.features(real), net.features(fake))
        return MetricRecord(metric_name, value, _proto(net, real, fake, split, seed))

    fd.__doc__ = (f"Fréchet distance between `real` and `fake` images ([-1, 1], NHWC) in {kind} features.")
    return fd


def _kid(kind, metric_name):
    def kid(real, fake, dataset=None, split=None, seed=0, net=None, n_subsets=100, subset_size=1000):
        net = net or _net(kind, dataset)
        mean, std = scores.kernel_inception_distance(net.features(real), net.features(fake), n_subsets,
                                                     subset_size, seed)
        return MetricRecord(metric_name, mean, _proto(net, real, fake, split, seed, n_subsets=n_subsets,
                                                      subset_size=min(subset_size, len(real), len(fake))),
                            {"std": std})

    kid.__doc__ = f"KID (unbiased MMD^2, cubic kernel) between `real` and `fake` in {kind} features."
    return kid


register_metric("fd_classifier")(_fd("classifier", "fd_classifier"))
register_metric("kid_classifier")(_kid("classifier", "kid_classifier"))
register_metric("fd_inception")(_fd("inception", "fd_inception"))
register_metric("kid_inception")(_kid("inception", "kid_inception"))


@register_metric("precision_recall")
def precision_recall(real, fake, dataset=None, split=None, seed=None, k=3, net=None) -> MetricRecord:
    """Improved precision (value) and recall (details) with k nearest neighbours in classifier features."""
    net = net or _net("classifier", dataset)
    p, r = scores.precision_recall(net.features(real), net.features(fake), k)
    return MetricRecord("precision_recall", p, _proto(net, real, fake, split, seed, k=k),
                        {"precision": p, "recall": r})


@register_metric("conditional_accuracy")
def conditional_accuracy(fake, requested, dataset, seed=None, net=None) -> MetricRecord:
    """Share of `fake` images that the project classifier labels as `requested` (and per class)."""
    net = net or _net("classifier", dataset)
    acc, per_class = scores.conditional_accuracy(net.predict_labels(fake), requested)
    return MetricRecord("conditional_accuracy", acc, _proto(net, None, fake, None, seed), {"per_class": per_class})


@register_metric("clustering")
def clustering(labels, clusters, split=None, seed=None) -> MetricRecord:
    """Hungarian-matched unsupervised classification error (value) and purity (details)."""
    s = scores.clustering_scores(labels, clusters)
    return MetricRecord("clustering_error", s["error"],
                        protocol(None, None, len(labels), None, split, seed, matching="one-to-one Hungarian"),
                        {"purity": s["purity"], "mapping": s["mapping"]})


@register_metric("sharpness")
def sharpness(images, split=None, seed=None) -> MetricRecord:
    """Mean luminance-normalised Laplacian of `images` (std in details)."""
    mean, std, _ = scores.sharpness(images)
    return MetricRecord("sharpness", mean, protocol(None, None, None, len(images), split, seed), {"std": std})


@register_metric("knn_same_class")
def knn_same_class(latents, labels, ks=(1, 2, 5), metric="l1", split=None, seed=None) -> MetricRecord:
    """Same-class rate of the k-th nearest neighbour in a latent space (value: k = first of `ks`)."""
    rates = scores.knn_same_class_rates(latents, labels, ks, metric)
    return MetricRecord("knn_same_class", rates[ks[0]], protocol(None, None, len(latents), None, split, seed,
                                                                 distance=metric), {"rates": rates})


@register_metric("mode_coverage")
def mode_coverage(points, dataset, seed=None, n_sigma=3.0, min_samples=1) -> MetricRecord:
    """Modes of `dataset` (``ring8``/``grid25``) captured by generated `points` (value), and HQ rate."""
    from zoo.data import toy2d

    s = scores.mode_coverage(points, toy2d.mode_centers(dataset), toy2d.TOY_STD[dataset], n_sigma, min_samples)
    return MetricRecord("mode_coverage", float(s["modes_captured"]),
                        protocol(None, None, None, len(points), None, seed, dataset=dataset, n_sigma=n_sigma), s)


@register_metric("point_distance")
def point_distance(real, fake, dataset=None, split=None, seed=0, directions=64) -> MetricRecord:
    """2-D point sets: the symmetric mean nearest-neighbour distance (value; Chamfer, scipy's cKDTree)

        0.5 * (mean_f min_r |f - r| + mean_r min_f |r - f|)

    and the sliced Wasserstein-1 distance over `directions` random unit directions (seeded by `seed`) in
    ``details["sliced_w1"]``. Lower is better; 0 for identical sets."""
    from scipy.spatial import cKDTree
    from scipy.stats import wasserstein_distance

    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    if real.ndim != 2 or real.shape[1] != 2 or fake.shape[1:] != (2,):
        raise ValueError(f"point_distance takes 2-D points [n, 2]; got {real.shape} and {fake.shape}.")
    chamfer = 0.5 * (cKDTree(real).query(fake)[0].mean() + cKDTree(fake).query(real)[0].mean())
    dirs = np.random.default_rng(seed).normal(size=(directions, 2))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    swd = float(np.mean([wasserstein_distance(real @ d, fake @ d) for d in dirs]))
    return MetricRecord("point_distance", float(chamfer), _proto(None, real, fake, split, seed, dataset=dataset,
                                                                  directions=directions), {"sliced_w1": swd})


def sanity_sets(n=5000, seed=0):
    """The real-data sanity protocol: `n` random Fashion-MNIST train images, the first `n` test images, and `n`
    uniform-noise images in [-1, 1] (one generator, `seed`). Returns ``(train, test, noise)``."""
    import zoo

    x, _ = zoo.load_arrays("fashion_mnist", "train")
    xt, _ = zoo.load_arrays("fashion_mnist", "test")
    rng = np.random.default_rng(seed)
    train = x[rng.choice(len(x), n, replace=False)]
    noise = rng.uniform(-1, 1, size=(n,) + x.shape[1:]).astype(np.float32)
    return train, xt[:n], noise


def evaluate_generator(model, dataset: str, names=("fd_classifier", "kid_classifier", "precision_recall"),
                       n_fake=5000, n_real=5000, split="test", seed=0, jsonl=None) -> list[MetricRecord]:
    """Unconditional metrics of `model`'s samples against `split` of `dataset`.

    Real images are loaded at the model's image size (the pipeline it was trained on) and, like the fakes,
    resized to the classifier's 28x28 inside the feature network.
    """
    import zoo

    x, _ = zoo.load_arrays(dataset, split, image_size=getattr(model, "image_size", None))
    rng = np.random.default_rng(seed)
    real = x[rng.choice(len(x), min(n_real, len(x)), replace=False)]
    fake = np.concatenate([model.generate(min(500, n_fake - i), seed=seed * 100003 + i).numpy()
                           for i in range(0, n_fake, 500)])
    records = []
    for name in names:
        if name in MODEL_METRICS:
            rec = compute(name, model=model, dataset=dataset, split=split, seed=seed)
        elif name == "sharpness":
            rec = compute(name, images=fake, split="generated", seed=seed)
        elif name == "mode_coverage":
            rec = compute(name, points=fake, dataset=dataset, seed=seed)
        else:
            rec = compute(name, real=real, fake=fake, dataset=dataset, split=split, seed=seed)
        rec.details.setdefault("model", getattr(model, "zoo_name", type(model).__name__))
        if jsonl:
            rec.append_jsonl(jsonl)
        records.append(rec)
    return records


METRICS.update(MODEL_METRICS)

__all__ = ["METRICS", "MODEL_METRICS", "ClassifierFeatures", "InceptionFeatures", "MetricRecord", "WeightsHashError", "compute",
           "evaluate_generator", "list_metrics", "register_metric", "sanity_sets", "scores"]
