"""Latent-space walks and the per-block variability score, for every generator in the zoo (thesis 7.2.1, 7.2.2, 9).

Every function takes a zoo model (anything with ``generator``, ``latent_dim`` and ``sample_latent``) and draws its
latents from the model's own prior, so the same protocol runs on a DCGAN (Gaussian), the growing MLP (uniform) and
the growing CNNs (unit-normalised 256-d, first k entries).

* Block random walk (7.2.1): a reference latent; the dimensions of one block (1-8, 9-16, 17-32, ...: `doubling_blocks`)
  are resampled ``keyframes - 1`` times from fresh prior draws; the keyframes are joined by linear interpolation.
  One row per reference latent.
* Coordinate-axis walk (7.2.2): one coordinate of a reference latent swept over ``values`` (thesis [-0.125, 0.125]).
* `interpolate`: linear or spherical interpolation between two latents.
* `block_variability` (section 9, named there as future work): for each block, n images from latents that differ
  only in that block (drawn from the prior), the rest fixed; the score is the mean over pixels of the per-pixel
  standard deviation across the n images (the minibatch-std statistic of 6.2.6), averaged over ``refs`` references.
  High means the block controls much of the image.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from trainers.steps import SEED_STREAMS


def doubling_blocks(latent_dim: int, first: int = 8) -> list:
    """``[(0, 8), (8, 16), (16, 32), ...]`` up to `latent_dim` (0-based, end exclusive; the thesis' 1-8, 9-16, ...)."""
    blocks, start, end = [], 0, min(first, latent_dim)
    while start < latent_dim:
        blocks.append((start, end))
        start, end = end, min(2 * end, latent_dim)
    return blocks


def block_label(block) -> str:
    return f"{block[0] + 1}-{block[1]}"


def _prior(model, n, seed) -> np.ndarray:
    return np.asarray(model.sample_latent(n, tf.constant([int(seed), SEED_STREAMS["walk"]], tf.int32)), np.float32)


def interpolate(z0, z1, steps: int, method: str = "lerp") -> np.ndarray:
    """``steps`` latents from z0 to z1 (both included): ``lerp`` (1 - t) z0 + t z1, or ``slerp`` along the great
    circle, ``sin((1 - t) w) / sin(w) z0 + sin(t w) / sin(w) z1`` with w the angle between them."""
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    t = np.linspace(0.0, 1.0, steps)[:, None]
    if method == "lerp":
        return ((1 - t) * z0 + t * z1).astype(np.float32)
    if method != "slerp":
        raise ValueError(f"Unknown interpolation {method!r}. Known: lerp, slerp.")
    cos = np.dot(z0, z1) / (np.linalg.norm(z0) * np.linalg.norm(z1))
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if omega < 1e-6:
        return ((1 - t) * z0 + t * z1).astype(np.float32)
    return ((np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)).astype(np.float32)


def block_walk_latents(model, block, rows: int = 4, keyframes: int = 5, steps_between: int = 4,
                       seed: int = 0) -> np.ndarray:
    """``[rows, (keyframes - 1) * steps_between + 1, latent_dim]``: per row a reference latent whose `block` is
    resampled ``keyframes - 1`` times, keyframes joined by lerp (7.2.1)."""
    lo, hi = block
    refs = _prior(model, rows, seed)
    fresh = _prior(model, rows * (keyframes - 1), seed + 1).reshape(rows, keyframes - 1, -1)
    out = []
    for r in range(rows):
        keys = [refs[r]]
        for k in range(keyframes - 1):
            key = refs[r].copy()
            key[lo:hi] = fresh[r, k, lo:hi]
            keys.append(key)
        path = [interpolate(a, b, steps_between + 1)[:-1] for a, b in zip(keys, keys[1:])] + [keys[-1][None]]
        out.append(np.concatenate(path))
    return np.stack(out)


def axis_walk_latents(model, axis: int, values=np.linspace(-0.125, 0.125, 5), rows: int = 4,
                      seed: int = 0) -> np.ndarray:
    """``[rows, len(values), latent_dim]``: coordinate `axis` (0-based) of each reference set to each value."""
    refs = _prior(model, rows, seed)
    out = np.repeat(refs[:, None], len(values), axis=1)
    out[:, :, axis] = np.asarray(values, np.float32)[None]
    return out


def interpolation_latents(model, rows: int = 4, steps: int = 8, method: str = "lerp", seed: int = 0) -> np.ndarray:
    """``[rows, steps, latent_dim]``: per row, `interpolate` between two fresh prior draws."""
    ends = _prior(model, 2 * rows, seed)
    return np.stack([interpolate(ends[2 * r], ends[2 * r + 1], steps, method) for r in range(rows)])


def render(model, latents, batch: int = 256) -> np.ndarray:
    """Generator outputs for latents of any leading shape ``[..., latent_dim]`` (inference mode)."""
    latents = np.asarray(latents, np.float32)
    flat = latents.reshape(-1, latents.shape[-1])
    outs = [np.asarray(model.generator(flat[i:i + batch], training=False)) for i in range(0, len(flat), batch)]
    out = np.concatenate(outs)
    return out.reshape(latents.shape[:-1] + out.shape[1:])


def block_variability(model, blocks=None, n: int = 32, refs: int = 8, seed: int = 0) -> dict:
    """``{"1-8": score, "9-16": score, ...}``: mean per-pixel std over n images that differ only in one block."""
    blocks = blocks or doubling_blocks(model.latent_dim)
    base = _prior(model, refs, seed)
    fresh = _prior(model, refs * n, seed + 1).reshape(refs, n, -1)
    scores = {}
    for lo, hi in blocks:
        values = []
        for r in range(refs):
            z = np.repeat(base[r][None], n, axis=0)
            z[:, lo:hi] = fresh[r, :, lo:hi]
            values.append(float(render(model, z).std(axis=0).mean()))
        scores[block_label((lo, hi))] = float(np.mean(values))
    return scores


def save_walk(images, path, gif: bool = False, duration_ms: int = 120) -> Path:
    """A walk ``[rows, steps, H, W, C]`` as a PNG grid (one row per walk) or, with `gif`, an animated GIF whose
    frame t shows step t of every row side by side."""
    from PIL import Image

    from zoo.visualize import image_grid, save_grid

    images = np.asarray(images)
    rows, steps = images.shape[:2]
    if not gif:
        return save_grid(images.reshape((rows * steps,) + images.shape[2:]), path, cols=steps)
    frames = []
    for t in range(steps):
        grid = image_grid(images[:, t], cols=rows)
        frames.append(Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=duration_ms, loop=0)
    return path
