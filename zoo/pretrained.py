"""Pretrained generators from the zoo, offline by default.

    >>> import zoo
    >>> zoo.list_presets()
    ['dcgan_fashion_mnist', 'latentgan_ae_fashion_mnist', 'latentgan_ae_mnist', 'lggan_fashion_mnist',
     'lsr_gan_fashion_mnist']
    >>> model = zoo.load_pretrained("lggan_fashion_mnist")   # the zoo model (a keras.Model)
    >>> images = model.generate(16, seed=0)                   # model.generator is the bare generator network

A preset is a directory ``NAME/`` with ``model.weights.h5`` (every weight of the model, no optimizer state; stored
as float16 when the card's ``weights_dtype`` says so, loaded into the model's float32 variables),
``model_card.json`` (method, constructor config, dataset, training, metric records with their protocol, and the
sha256 of the weights) and ``samples.png``. ``load_pretrained(spec)`` finds it, in order:

1. `spec` is a directory: that preset directory.
2. `spec` is a URL (``https://``, ``http://``, ``file://``) of a ``.tar.gz`` of a preset directory: downloaded into
   the cache with ``keras.utils.get_file`` and extracted, only with ``allow_download=True`` (or
   ``ZOO_ALLOW_DOWNLOAD=1``); nothing is fetched otherwise.
3. `spec` is a name: ``$ZOO_HOME/presets/NAME`` (default ``~/.cache/latent_zoo``), then the presets installed with the
   package (``zoo/presets/NAME``).

The weights' sha256 is checked against the card before anything is loaded; a mismatch raises
:class:`PresetHashError` and loads nothing.
"""
from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from zoo.metrics.classifier import sha256_file
from zoo.metrics.features import WeightsHashError, verify_sha256
from zoo.registry import _unknown, get_model_class, model_family
from zoo.visualize import save_grid

PACKAGE_PRESETS = Path(__file__).parent / "presets"
WEIGHTS, CARD = "model.weights.h5", "model_card.json"


class PresetHashError(WeightsHashError):
    """A preset file whose sha256 is not the one its model card records."""


def zoo_home() -> Path:
    return Path(os.environ.get("ZOO_HOME", Path.home() / ".cache" / "latent_zoo"))


def _roots() -> list[Path]:
    return [zoo_home() / "presets", PACKAGE_PRESETS]


def list_presets() -> list[str]:
    """Names of the presets in the cache and in the package."""
    return sorted({p.name for root in _roots() if root.is_dir() for p in root.iterdir() if (p / CARD).exists()})


def _is_url(spec: str) -> bool:
    return spec.startswith(("http://", "https://", "file://"))


def _download(url: str, sha256: str | None, allow_download: bool | None) -> Path:
    if allow_download is None:
        allow_download = os.environ.get("ZOO_ALLOW_DOWNLOAD", "") == "1"
    if not allow_download:
        raise ValueError(f"{url} is a URL and downloads are off (the zoo works offline by default). Pass "
                         "allow_download=True or set ZOO_ALLOW_DOWNLOAD=1 to fetch it, or download the archive and "
                         "pass its extracted directory.")
    import keras

    name = url.rstrip("/").rsplit("/", 1)[-1]
    stem = name[:-len(".tar.gz")] if name.endswith(".tar.gz") else name
    cache = zoo_home()
    cache.mkdir(parents=True, exist_ok=True)  # get_file falls back to /tmp/.keras, shared, if it cannot write here
    path = Path(keras.utils.get_file(name, url, file_hash=sha256, hash_algorithm="sha256", extract=True,
                                     cache_dir=str(cache), cache_subdir="downloads"))
    found = [p.parent for p in path.rglob(CARD)] if path.is_dir() else []
    if not found:
        raise ValueError(f"{url} holds no {CARD}: it is not a preset archive (a .tar.gz of a preset directory).")
    target = cache / "presets" / stem
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        found[0].rename(target)
    return target


def find_preset(spec, *, allow_download: bool | None = None, sha256: str | None = None) -> Path:
    """The preset directory `spec` names (see the module docstring)."""
    spec = str(spec)
    if Path(spec).is_dir():
        if not (Path(spec) / CARD).exists():
            raise FileNotFoundError(f"{spec} is a directory without {CARD}: not a preset directory.")
        return Path(spec)
    if _is_url(spec):
        return _download(spec, sha256, allow_download)
    for root in _roots():
        if (root / spec / CARD).exists():
            return root / spec
    raise _unknown("preset", spec, list_presets())


def read_card(path) -> dict:
    return json.loads((Path(path) / CARD).read_text())


def verify(path) -> dict:
    """Check every file the card lists against its sha256; returns the card."""
    path = Path(path)
    card = read_card(path)
    for name, info in card["files"].items():
        f = path / name
        if not f.exists():
            raise FileNotFoundError(f"{f} is missing from preset {card['name']}.")
        verify_sha256(f, info["sha256"], error=PresetHashError,
                      advice=f"nothing was loaded. Delete {path} and reinstall the package or fetch the preset again.")
    return card


def load_pretrained(spec, *, allow_download: bool | None = None, sha256: str | None = None):
    """The zoo model of preset `spec` (name, directory or URL), weights hash-checked (``zoo.from_preset``).

    The model is trainable, as Keras models load: ``compile()`` it to fine-tune (presets hold weights, not optimizer
    state), or set ``model.trainable = False`` to freeze it."""
    path = find_preset(spec, allow_download=allow_download, sha256=sha256)
    card = verify(path)
    cls = get_model_class(card["method"])
    model = cls.from_config(card["model_config"])
    model.load_weights(path / WEIGHTS)
    model.preset_card = card
    return model


def store_weights_as(path, dtype: str) -> None:
    """Rewrite every float32 array of the Keras weights file `path` as `dtype` (``"float16"`` halves a preset;
    ``load_weights`` casts back into the model's float32 variables). Written to a new file and renamed, since HDF5
    does not give back the space of deleted datasets."""
    import h5py

    path = Path(path)
    tmp = path.with_suffix(".tmp.h5")

    def copy(src, dst):
        dst.attrs.update(src.attrs)
        for key, obj in src.items():
            if isinstance(obj, h5py.Group):
                copy(obj, dst.create_group(key))
            else:
                data = obj[()]
                out = dst.create_dataset(key, data=data.astype(dtype) if obj.dtype == np.float32 else data)
                out.attrs.update(obj.attrs)

    with h5py.File(path, "r") as src, h5py.File(tmp, "w") as dst:
        copy(src, dst)
    tmp.replace(path)


def save_preset(model, directory, *, name: str | None = None, dataset: str | None = None, config: str | None = None,
                training: dict | None = None, metrics=(), samples: int = 64, weights_dtype: str = "float32",
                **extra) -> Path:
    """Write `model` as a preset directory (keras-hub's ``save_to_preset``): ``model.weights.h5`` (no optimizer
    state; `weights_dtype` ``"float16"`` stores it at half size), ``model_card.json`` (method, family, dataset,
    config, constructor config, `training`, the metric records with their protocols, `extra` card fields, sha256
    and size of the weights, versions) and a ``samples.png`` grid of `samples` images (``model.generate``, seed 0).
    `zoo.from_preset(directory)` loads it back, hash-checked. With float16 storage the model's metrics should be
    measured on the loaded preset (``scripts/build_presets.py`` does), not on the float32 model."""
    if weights_dtype not in ("float32", "float16"):
        raise ValueError(f"weights_dtype must be 'float32' or 'float16', got {weights_dtype!r}.")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    model.save_weights(out / WEIGHTS)
    if weights_dtype != "float32":
        store_weights_as(out / WEIGHTS, weights_dtype)
    if samples:
        save_grid(np.asarray(model.generate(samples, seed=0)), out / "samples.png")
    card = {"name": name or out.name, "method": model.zoo_name, "family": model_family(model.zoo_name),
            "dataset": dataset, "config": config, "model_config": model.get_config(), "training": training or {},
            "metrics": [r.to_dict() if hasattr(r, "to_dict") else dict(r) for r in metrics], **extra,
            "weights_dtype": weights_dtype,
            "files": {WEIGHTS: {"sha256": sha256_file(out / WEIGHTS), "bytes": (out / WEIGHTS).stat().st_size}},
            "built_with": {"tensorflow": tf.__version__, "keras": keras.__version__,
                           "python": platform.python_version()}}
    (out / CARD).write_text(json.dumps(card, indent=1, default=str))
    return out


def reproduce_metrics(model, card: dict | None = None) -> list[dict]:
    """Recompute each metric record of the card with its own protocol: ``[{metric, card, measured}]``. Records that
    share a protocol (n_fake, n_real, split, seed) are measured on one draw of samples, as they were made;
    ``precision_recall`` gives two rows, ``precision`` and ``recall``."""
    from zoo.metrics import evaluate_generator

    card = card or model.preset_card
    groups: dict = {}
    for rec in card["metrics"]:
        p = rec["protocol"]
        groups.setdefault((p["n_fake"], p["n_real"], p["split"], p["seed"]), []).append(rec)
    out = []
    for (n_fake, n_real, split, seed), recs in groups.items():
        now = evaluate_generator(model, card["dataset"], [r["metric"] for r in recs], n_fake=n_fake, n_real=n_real,
                                 split=split, seed=seed)
        for rec, new in zip(recs, now):
            if rec["metric"] == "precision_recall":
                out += [{"metric": "precision", "card": rec["value"], "measured": new.value},
                        {"metric": "recall", "card": rec["details"]["recall"], "measured": new.details["recall"]}]
            else:
                out.append({"metric": rec["metric"], "card": rec["value"], "measured": new.value})
    return out


def _method_metric(card: dict) -> str:
    """The method's own number on a card, in words (clustering, conditioning, attribute control; the distance of
    a 2-D point preset to its data)."""
    points = next((r for r in card["metrics"] if r["metric"] == "point_distance"), None)
    if points:
        return f"Chamfer {points['value']:.3f}, sliced W1 {points['details']['sliced_w1']:.3f} (to test points)"
    if "clustering" in card:
        c = card["clustering"]
        return f"clustering error {c['error']:.1%} (k-means {c['kmeans_error']:.1%})"
    if "conditioning" in card:
        return f"generate_like same class {card['conditioning']['conditional_accuracy']:.1%}"
    if "control" in card:
        c = card["control"]
        return f"requested class {c['attribute_accuracy']:.1%}, eq. 8 edit {c['edit']:.1%}"
    return ""


def preset_summary(spec) -> dict:
    """One row of the presets table (`zoo list --presets`, docs/gallery.md): the card's numbers, read, not
    recomputed."""
    path = find_preset(spec)
    card = read_card(path)
    metrics = {r["metric"]: r for r in card["metrics"]}
    pr = metrics.get("precision_recall")
    training = card.get("training", {})
    steps = training.get("optimizer_steps") or {}
    return {"name": card["name"], "method": card["method"], "dataset": card["dataset"], "config": card["config"],
            "fd_classifier": metrics["fd_classifier"]["value"] if "fd_classifier" in metrics else None,
            "precision": pr["value"] if pr else None, "recall": pr["details"]["recall"] if pr else None,
            "method_metric": _method_metric(card), "steps": max(steps.values()) if steps else None,
            "wall_seconds": training.get("wall_seconds"),
            "weights_mb": round(card["files"][WEIGHTS]["bytes"] / 1e6, 2),
            "weights_dtype": card.get("weights_dtype", "float32"),
            "recipe": training.get("recipe", "")}


def presets_table(names=None) -> str:
    """The presets as a markdown table (the numbers on their cards; fd_classifier is the Frechet distance in the
    zoo classifier's features, 2,000 samples vs 2,000 test images, not Inception FID)."""
    rows = [preset_summary(n) for n in (names or list_presets())]

    def num(v, fmt):
        return "-" if v is None else format(v, fmt)

    lines = ["| preset | method | dataset | fd_classifier | precision | recall | method's own | steps | "
             "wall clock (s) | MB |", "|---|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['name']} | {r['method']} | {r['dataset']} | {num(r['fd_classifier'], '.2f')} | "
              f"{num(r['precision'], '.2f')} | {num(r['recall'], '.2f')} | {r['method_metric'] or '-'} | "
              f"{num(r['steps'], ',')} | {num(r['wall_seconds'], ',.0f')} | {r['weights_mb']:.1f} |" for r in rows]
    return "\n".join(lines)
