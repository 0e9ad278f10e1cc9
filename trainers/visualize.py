"""Sample grids: images in [-1, 1] tiled into one uint8 picture, or 2-D points as a scatter plot."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np


def image_grid(images, cols: int | None = None, pad: int = 1) -> np.ndarray:
    """``[N, H, W, C]`` floats in [-1, 1] -> ``[rows*(H+pad)+pad, cols*(W+pad)+pad, C]`` uint8."""
    images = np.asarray(images, np.float32)
    if images.ndim != 4:
        raise ValueError(f"image_grid expects [N, H, W, C] images, got shape {images.shape}.")
    n, h, w, c = images.shape
    cols = cols or int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / cols))
    grid = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), 255, np.uint8)
    pixels = to_uint8(images)
    for i in range(n):
        r, q = divmod(i, cols)
        grid[pad + r * (h + pad): pad + r * (h + pad) + h, pad + q * (w + pad): pad + q * (w + pad) + w] = pixels[i]
    return grid


def to_uint8(images) -> np.ndarray:
    """[-1, 1] floats -> uint8 with round-half-to-even of (x + 1) * 127.5, clipped."""
    return np.clip(np.round((np.asarray(images, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def save_grid(images, path, cols: int | None = None) -> Path:
    """Write a grid PNG (images ``[N, H, W, C]``) or a scatter PNG (points ``[N, 2]``); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images = np.asarray(images)
    if images.ndim == 2 and images.shape[1] == 2:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(4, 4), dpi=100)
        ax.scatter(images[:, 0], images[:, 1], s=2)
        ax.set_aspect("equal")
        fig.savefig(path)
        plt.close(fig)
        return path
    from PIL import Image

    grid = image_grid(images, cols)
    Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid).save(path)
    return path
