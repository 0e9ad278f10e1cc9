"""TFDS without a network: read prepared datasets, and prepare `fashion_mnist` from local IDX files.

``tfds.load("fashion_mnist")`` would download; with ``DownloadConfig(manual_dir=...)`` it fails its
checksum on Debian's recompressed (content-identical) files. :func:`prepare_fashion_mnist` subclasses the
official builder and overrides only ``_split_generators`` to read local files: the official features,
class names and version are kept, and the result is an ordinary prepared TFDS dataset.
"""
from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import numpy as np


def tfds_data_dir(data_dir=None) -> Path:
    return Path(data_dir or os.environ.get("TFDS_DATA_DIR") or Path.home() / "tensorflow_datasets")


def is_prepared(name: str, data_dir=None) -> bool:
    """Cheap check (no TFDS import) for a prepared dataset directory ``DATA_DIR/name/<version>/``."""
    root = tfds_data_dir(data_dir) / name
    return root.is_dir() and any((v / "dataset_info.json").exists() for v in root.iterdir() if v.is_dir())


def builder(name: str, data_dir=None):
    import tensorflow_datasets as tfds

    b = tfds.builder(name, data_dir=str(tfds_data_dir(data_dir)))
    return b if b.is_prepared() else None


def load_prepared(name: str, split: str, data_dir=None):
    """``(images uint8 [N, H, W, C], labels int64 [N])`` from a prepared TFDS dataset, or None."""
    if not is_prepared(name, data_dir):
        return None
    import tensorflow_datasets as tfds

    b = builder(name, data_dir)
    if b is None:
        return None
    data = tfds.as_numpy(b.as_dataset(split=split, batch_size=-1))
    return data["image"].astype(np.uint8), data["label"].astype(np.int64)


def prepare_fashion_mnist(idx_dir, data_dir=None):
    """Build TFDS ``fashion_mnist`` (official builder, version and features) from local IDX ``.gz`` files."""
    import tensorflow_datasets as tfds
    from tensorflow_datasets.core import registered
    from tensorflow_datasets.image_classification import mnist as tfds_mnist

    idx_dir = Path(idx_dir)
    missing = [f for f in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                           "t10k-labels-idx1-ubyte.gz") if not (idx_dir / f).exists()]
    if missing:
        raise FileNotFoundError(f"{idx_dir} lacks {', '.join(missing)}; Debian's dataset-fashion-mnist has them.")

    # The builder reads extracted files (its download manager would have decompressed them).
    extracted = tfds_data_dir(data_dir) / "downloads" / "fashion_mnist_local"
    extracted.mkdir(parents=True, exist_ok=True)
    for gz in idx_dir.glob("*-ubyte.gz"):
        target = extracted / gz.stem
        if not target.exists():
            with gzip.open(gz, "rb") as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)

    with registered.skip_registration():

        class LocalFashionMNIST(tfds_mnist.FashionMNIST):
            name = "fashion_mnist"

            def _split_generators(self, dl_manager):
                def split(prefix, n):
                    return dict(num_examples=n, data_path=str(extracted / f"{prefix}-images-idx3-ubyte"),
                                label_path=str(extracted / f"{prefix}-labels-idx1-ubyte"))

                return [tfds.core.SplitGenerator(name=tfds.Split.TRAIN, gen_kwargs=split("train", 60000)),
                        tfds.core.SplitGenerator(name=tfds.Split.TEST, gen_kwargs=split("t10k", 10000))]

    b = LocalFashionMNIST(data_dir=str(tfds_data_dir(data_dir)))
    b.download_and_prepare(download_config=tfds.download.DownloadConfig(try_download_gcs=False))
    return b
