"""2-D point sets: the growing-GAN thesis' Swiss roll and the standard Gaussian-mixture benchmarks.

* ``swiss_roll``: ``sklearn.datasets.make_swiss_roll``, columns x and z (indices 0 and 2), not normalised,
  as the thesis' reference code, with Gaussian noise of std 0.5 as in the thesis' experiments (7.1).
* ``ring8``: 8 Gaussians evenly on a circle of radius 2, std 0.02 (Metz et al. 2017; VEEGAN; PacGAN).
* ``grid25``: 25 Gaussians at {-4, -2, 0, 2, 4}^2, std 0.05 (VEEGAN; PacGAN).
Labels are the mixture component (swiss roll: none, the roll position t is returned instead).
"""
from __future__ import annotations

import numpy as np

TOY_STD = {"ring8": 0.02, "grid25": 0.05}


def mode_centers(name: str) -> np.ndarray:
    if name == "ring8":
        angles = np.arange(8) * (2 * np.pi / 8)
        return np.stack([2 * np.cos(angles), 2 * np.sin(angles)], 1).astype(np.float32)
    if name == "grid25":
        g = np.arange(-4, 5, 2, dtype=np.float32)
        return np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    raise ValueError(f"No mode centres for {name!r}; known: ring8, grid25.")


def gaussian_mixture(name: str, n: int, seed: int):
    rng = np.random.default_rng(seed)
    centers = mode_centers(name)
    labels = rng.integers(0, len(centers), n)
    points = centers[labels] + rng.normal(0, TOY_STD[name], (n, 2))
    return points.astype(np.float32), labels.astype(np.int64)


def swiss_roll(n: int, seed: int, noise: float = 0.5):
    from sklearn.datasets import make_swiss_roll

    x, t = make_swiss_roll(n_samples=n, noise=noise, random_state=seed)
    return x[:, [0, 2]].astype(np.float32), t.astype(np.float32)
