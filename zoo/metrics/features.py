"""Feature networks for distribution metrics: the shipped project classifiers, and InceptionV3 when the user
has its ImageNet weights (none can be downloaded here).

Both expose ``name``, ``sha256`` (of the weights file), ``features(images)`` and, for classifiers,
``predict_labels(images)``. Images are float in [-1, 1], NHWC.
"""
from __future__ import annotations

import os
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from zoo.batching import batched
from zoo.metrics import classifier as clf


class WeightsHashError(ValueError):
    """A weights file whose sha256 is not the one recorded for it."""


def verify_sha256(path, expected: str, *, error=WeightsHashError,
                  advice="reinstall the package or retrain it (python -m zoo.metrics.classifier).") -> str:
    """The file's sha256, or `error` naming both hashes when it is not `expected`."""
    actual = clf.sha256_file(path)
    if actual != expected:
        raise error(f"{path}: sha256 {actual} does not match the recorded {expected}. The file is corrupted or was "
                    f"replaced; {advice}")
    return actual


def _batched(fn, images, batch_size=500):
    return batched(fn, np.asarray(images, np.float32), batch_size)


class ClassifierFeatures:
    """The project's CNN for `dataset` (``fashion_mnist`` or ``mnist``), hash-checked on load."""

    def __init__(self, dataset: str, weights_dir=None):
        manifest = clf.read_manifest(weights_dir)
        if dataset not in manifest:
            raise ValueError(f"No evaluation classifier for {dataset!r}. Shipped: {', '.join(sorted(manifest))}. "
                             f"Train one with: python -m zoo.metrics.classifier --dataset {dataset}")
        entry = manifest[dataset]
        self.dataset = dataset
        path = Path(weights_dir or clf.WEIGHTS_DIR) / entry["file"]
        self.sha256 = verify_sha256(path, entry["sha256"])
        self.name = entry["name"]
        self.entry = entry
        self.model = clf.build_classifier()
        self.model.load_weights(path)
        self._feature_model = keras.Model(self.model.input, self.model.get_layer(clf.FEATURE_LAYER).output)

    @staticmethod
    def _prepare(images):
        images = tf.convert_to_tensor(images, tf.float32)
        if images.shape[1] != clf.INPUT_SIZE:
            images = tf.image.resize(images, (clf.INPUT_SIZE, clf.INPUT_SIZE), "bilinear", antialias=True)
        return images

    def features(self, images) -> np.ndarray:
        return _batched(lambda b: self._feature_model(self._prepare(b), training=False).numpy(), images)

    def logits(self, images) -> np.ndarray:
        return _batched(lambda b: self.model(self._prepare(b), training=False).numpy(), images)

    def predict_labels(self, images) -> np.ndarray:
        return self.logits(images).argmax(-1)

    def test_accuracy(self) -> tuple[float, int]:
        """``(accuracy, n)`` on the test split of the classifier's dataset."""
        from zoo.data import load_arrays

        x, y = load_arrays(self.dataset, "test")
        return float(np.mean(self.predict_labels(x) == y)), int(len(y))


INCEPTION_WEIGHTS = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"


class InceptionFeatures:
    """InceptionV3 pool3 (2048-d) features from the user's ImageNet weights file.

    Looks in `weights_path`, ``$ZOO_INCEPTION_WEIGHTS``, then Keras' cache ``~/.keras/models/``. Images are
    resized to 299x299 (bilinear) and grey images repeated to 3 channels; [-1, 1] is InceptionV3's own input
    range. Scores from it are named ``fid_inception`` only when the weights are the ImageNet ones: the record
    carries the file's sha256 so a reader can check.
    """

    def __init__(self, weights_path=None):
        candidates = [weights_path, os.environ.get("ZOO_INCEPTION_WEIGHTS"),
                      Path.home() / ".keras/models" / INCEPTION_WEIGHTS]
        path = next((Path(c) for c in candidates if c and Path(c).exists()), None)
        if path is None:
            raise FileNotFoundError(
                f"InceptionV3 ImageNet weights ({INCEPTION_WEIGHTS}) not found; they cannot be downloaded here. Put "
                "the file in ~/.keras/models/, set ZOO_INCEPTION_WEIGHTS, or use the project classifier "
                "features (fd_classifier).")
        self.sha256 = clf.sha256_file(path)
        self.name = f"inception_v3:{path.name}"
        self.model = keras.applications.InceptionV3(include_top=False, pooling="avg", weights=str(path),
                                                    input_shape=(299, 299, 3))

    def features(self, images) -> np.ndarray:
        def run(b):
            b = tf.convert_to_tensor(b, tf.float32)
            if b.shape[-1] == 1:
                b = tf.repeat(b, 3, axis=-1)
            b = tf.image.resize(b, (299, 299), "bilinear")
            return self.model(b, training=False).numpy()

        return _batched(run, images, batch_size=64)


def feature_network(name: str, dataset: str | None = None):
    """``"classifier"`` (the project CNN of `dataset`) or ``"inception"``."""
    if name == "classifier":
        if dataset is None:
            raise ValueError("The classifier feature network needs the dataset it was trained on.")
        return ClassifierFeatures(dataset)
    if name == "inception":
        return InceptionFeatures()
    raise ValueError(f"Unknown feature network {name!r}. Known: classifier, inception.")
