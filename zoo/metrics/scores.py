"""The metric formulas, as pure numpy functions on features, labels, images or points.

Sources: Fréchet distance (Heusel et al. 2017, eq. 6 of the TTUR paper); KID (Bińkowski et al. 2018,
unbiased MMD^2 with the cubic polynomial kernel); improved precision/recall (Kynkäänniemi et al. 2019,
k = 3); sharpness (LSR-GAN paper 2.2, after San Pedro & Siersdorfer 2009, 3.1.2); clustering error with
one-to-one Hungarian matching and purity (REFERENCE_NOTES); k-NN same-class rates (Durall et al.,
table 2); modes captured and high-quality rate (VEEGAN / PacGAN protocol).
"""
from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg
from scipy.optimize import linear_sum_assignment


def frechet_distance(feat_a, feat_b) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) of two feature sets ``[N, d]``."""
    a, b = np.asarray(feat_a, np.float64), np.asarray(feat_b, np.float64)
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(s_a @ s_b)
        if not np.isfinite(covmean).all():  # singular product: regularise as the TTUR reference does
            eye = np.eye(len(s_a)) * 1e-6
            covmean = linalg.sqrtm((s_a + eye) @ (s_b + eye))
    covmean = np.real(covmean)  # imaginary parts are numerical noise of a near-singular product
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(s_a) + np.trace(s_b) - 2 * np.trace(covmean))


def kernel_inception_distance(feat_a, feat_b, n_subsets=100, subset_size=1000, seed=0):
    """Mean and std over subsets of the unbiased MMD^2 with k(x, y) = (x.y / d + 1)^3."""
    a, b = np.asarray(feat_a, np.float64), np.asarray(feat_b, np.float64)
    d = a.shape[1]
    m = min(subset_size, len(a), len(b))
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(n_subsets):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        kxx, kyy, kxy = (x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3
        mmd = ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
               - 2 * kxy.mean())
        vals.append(mmd)
    return float(np.mean(vals)), float(np.std(vals))


def _pairwise(a, b, metric="l2", block=2048):
    out = np.empty((len(a), len(b)), np.float32)
    if metric != "l2":  # the L1 block holds rows x len(b) x dims floats: keep it near 64 MB
        block = max(1, min(block, 16_000_000 // max(1, len(b) * a.shape[1])))
    for i in range(0, len(a), block):
        x = a[i:i + block]
        if metric == "l2":
            d2 = (x ** 2).sum(1)[:, None] + (b ** 2).sum(1)[None] - 2 * x @ b.T
            out[i:i + block] = np.sqrt(np.maximum(d2, 0))
        else:
            out[i:i + block] = np.abs(x[:, None, :] - b[None]).sum(-1)
    return out


def _kth_radius(feats, k):
    d = _pairwise(feats, feats)
    return np.partition(d, k, axis=1)[:, k]  # index 0 is the point itself (distance 0)


def precision_recall(real_feats, fake_feats, k=3):
    """Improved precision (fakes inside the real manifold) and recall (reals inside the fake manifold).

    A manifold is the union of balls around each sample with radius its distance to its k-th nearest
    neighbour in the same set.
    """
    real, fake = np.asarray(real_feats, np.float32), np.asarray(fake_feats, np.float32)
    r_real, r_fake = _kth_radius(real, k), _kth_radius(fake, k)
    precision = float(np.mean((_pairwise(fake, real) <= r_real[None]).any(1)))
    recall = float(np.mean((_pairwise(real, fake) <= r_fake[None]).any(1)))
    return precision, recall


LAPLACIAN = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float32)


def sharpness(images):
    """Luminance-normalised Laplacian per image: mean |Laplacian(Y)| / mean(Y), Y in [0, 1].

    Y is the luminance 0.299 R + 0.587 G + 0.114 B of images in [-1, 1] mapped to [0, 1] (grey images: the
    channel itself); the Laplacian is the 4-neighbour 3x3 kernel on the interior pixels. San Pedro &
    Siersdorfer normalise the Laplacian sum by the mean luminance; we normalise the mean |Laplacian| by the
    image's mean luminance, so the score does not depend on image size. Returns ``(mean, std, per_image)``.
    """
    x = (np.asarray(images, np.float32) + 1.0) / 2.0
    y = x[..., 0] if x.shape[-1] == 1 else x[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
    lap = (y[:, :-2, 1:-1] + y[:, 2:, 1:-1] + y[:, 1:-1, :-2] + y[:, 1:-1, 2:] - 4 * y[:, 1:-1, 1:-1])
    per = np.abs(lap).mean((1, 2)) / np.maximum(y.mean((1, 2)), 1e-6)
    return float(per.mean()), float(per.std()), per


def conditional_accuracy(predicted, requested, num_classes=None):
    """Share of samples whose predicted class is the requested one; also per class."""
    predicted, requested = np.asarray(predicted), np.asarray(requested)
    num_classes = num_classes or int(max(predicted.max(), requested.max()) + 1)
    per_class = {int(c): float(np.mean(predicted[requested == c] == c)) for c in range(num_classes)
                 if np.any(requested == c)}
    return float(np.mean(predicted == requested)), per_class


def clustering_scores(labels, clusters):
    """Unsupervised classification error with one-to-one Hungarian matching, and purity.

    error = 1 - (samples on matched (cluster, class) pairs) / N, with the one-to-one assignment that
    maximises the matches (scipy.optimize.linear_sum_assignment); clusters left unmatched (K > classes)
    count as errors. purity = sum over clusters of its majority-class count / N (many-to-one).
    """
    labels, clusters = np.asarray(labels), np.asarray(clusters)
    cl_ids, cluster_idx = np.unique(clusters, return_inverse=True)
    lab_ids, label_idx = np.unique(labels, return_inverse=True)
    table = np.zeros((len(cl_ids), len(lab_ids)), np.int64)
    np.add.at(table, (cluster_idx, label_idx), 1)
    rows, cols = linear_sum_assignment(table, maximize=True)
    matched = table[rows, cols].sum()
    return {"error": float(1 - matched / len(labels)), "purity": float(table.max(1).sum() / len(labels)),
            "mapping": {int(cl_ids[r]): int(lab_ids[c]) for r, c in zip(rows, cols)}}


def kmeans_scores(features, labels, k, seed=0, n_init=10):
    """The honest baseline beside a clustering error: k-means (scikit-learn, k-means++ init, `n_init` restarts,
    `seed`) on `features` ``[N, d]`` with `k` clusters, scored by `clustering_scores` (Hungarian error, purity)."""
    from sklearn.cluster import KMeans

    features = np.asarray(features, np.float64).reshape(len(features), -1)
    clusters = KMeans(int(k), n_init=n_init, random_state=seed).fit_predict(features)
    return {**clustering_scores(labels, clusters), "protocol": f"sklearn KMeans k={k} n_init={n_init} "
            f"seed={seed} on {features.shape[1]}-d features of {len(features)} samples"}


def knn_same_class_rates(latents, labels, ks=(1, 2, 5), metric="l1"):
    """For each k, the share of points whose k-th nearest neighbour (self excluded) has the same label.

    L1 distance by default, as Algorithm 1 of Durall et al. (whose table 2 does not name its distance).
    """
    z = np.asarray(latents, np.float32).reshape(len(latents), -1)
    labels = np.asarray(labels)
    d = _pairwise(z, z, metric)
    np.fill_diagonal(d, np.inf)
    order = np.argsort(d, axis=1)[:, :max(ks)]
    return {int(k): float(np.mean(labels[order[:, k - 1]] == labels)) for k in ks}


def mode_coverage(points, centers, std, n_sigma=3.0, min_samples=1):
    """2-D mixtures: a sample is high quality when within ``n_sigma * std`` of its nearest mode; a mode is
    captured when at least `min_samples` high-quality samples land on it."""
    points, centers = np.asarray(points, np.float32), np.asarray(centers, np.float32)
    d = _pairwise(points, centers)
    nearest, dist = d.argmin(1), d.min(1)
    hq = dist <= n_sigma * std
    counts = np.bincount(nearest[hq], minlength=len(centers))
    return {"modes_captured": int((counts >= min_samples).sum()), "n_modes": len(centers),
            "high_quality_rate": float(hq.mean()), "counts": counts.tolist()}
