"""Does ``precision="auto"`` (mixed_bfloat16 on this CPU) train as well as float32? dcgan ``quick`` and one growing
model, at equal steps, 3 seeds each (issue 18).

    python scripts/precision_study.py train  [--out runs/precision] [--only a,b]   # trains what is missing
    python scripts/precision_study.py report [--out runs/precision] [--only a,b]   # measures, writes docs

Every run is `zoo_app.fit.train` on Fashion-MNIST (the official 60,000 / 10,000 split, 32x32) with a registered
config and its full recipe, so ``zoo train NAME --dataset fashion_mnist --config C --precision P --seed S`` repeats
it: dcgan ``quick`` (450 steps of batch 128) and cggan ``fashion32`` (channel growing, 4 stages, 2,800 steps of
batch 32), each in ``float32`` and ``mixed_bfloat16``, seeds 0, 1, 2. Measured on 2,000 ``generate`` samples
(seeds 100-103, 500 each) against the first 2,000 test images, classifier = the zoo's ``zoo-cnn-fashion_mnist-v1``
trained on real data: ``fd_classifier`` (Frechet distance in its 128-d features, not Inception FID) and improved
``precision`` / ``recall`` (k = 3) in the same features; ``train_seconds``: the run's wall clock (build, data, fit,
save). The runs share the machine with other work, so the times are indicative; the speed ratios are
bench/train_throughput.py's and bench/model_throughput.py's, measured alone.

Writes docs/results/precision.json and the table of docs/results/precision.md.
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
from markdown_tables import fill, git_commit, mean_std, seed_groups, study_main

ROOT = Path(__file__).resolve().parents[1]
SEEDS = (0, 1, 2)
N = 2000
STUDY = {"dcgan": "quick", "cggan": "fashion32"}
POLICIES = {"f32": "float32", "bf16": "mixed_bfloat16"}
RUNS = {f"{model}_{short}_s{seed}": (model, config, policy, seed) for model, config in STUDY.items()
        for short, policy in POLICIES.items() for seed in SEEDS}
KEYS = ("fd_classifier", "precision", "recall", "train_seconds")


def train_all(out: Path, only=None):
    from zoo_app.fit import train

    for name, (model, config, policy, seed) in RUNS.items():
        run = out / name
        if (only and name not in only) or (run / "model.keras").exists():
            continue
        print(f"== {name}: {model} {config} {policy} seed {seed}", flush=True)
        start = time.perf_counter()
        train(model, "fashion_mnist", config=config, out=run, seed=seed, precision=policy, verbose=2)
        (run / "wall_seconds.txt").write_text(f"{time.perf_counter() - start:.1f}\n")
        (run / "trained_on.json").write_text(json.dumps(_trained_on()) + "\n")
        for bulky in ("checkpoints", "backup"):
            shutil.rmtree(run / bulky, ignore_errors=True)


def _trained_on() -> dict:
    """The CPU's bfloat16 units and the commit: the runs of one table can come from different 2-core VMs (AMX-BF16,
    or AVX512-BF16 only) and commits (`zoo.conv`'s weight gradients since 518392c), which round differently."""
    from trainers.precision import BF16_CPU_FLAGS, cpu_flags

    return {"bf16_flags": sorted(set(BF16_CPU_FLAGS) & cpu_flags()), "commit": git_commit() or None}


def report(out: Path, only=None):
    import keras

    import zoo
    from zoo.metrics import ClassifierFeatures, compute
    from zoo.metrics.record import machine

    docs = ROOT / "docs" / "results"
    path = docs / "precision.json"
    saved = json.loads(path.read_text()) if path.exists() else {}
    res = saved.get("runs", {})
    x, _ = zoo.load_arrays("fashion_mnist", "test", image_size=32)
    x, net = x[:N], ClassifierFeatures("fashion_mnist")
    for name, (model_name, config, policy, seed) in RUNS.items():
        run = out / name
        if (only and name not in only) or not (run / "model.keras").exists():
            continue
        model = keras.saving.load_model(run / "model.keras")
        fake = np.concatenate([np.asarray(model.generate(500, seed=100 + i)) for i in range(N // 500)])
        fd = compute("fd_classifier", real=x, fake=fake, dataset="fashion_mnist", split=f"test[:{N}]", seed=0, net=net)
        pr = compute("precision_recall", real=x, fake=fake, dataset="fashion_mnist", split=f"test[:{N}]", seed=0,
                     net=net)
        res[name] = {"model": model_name, "config": config, "policy": policy, "seed": seed,
                     "run_precision": json.loads((run / "run.json").read_text())["precision"],
                     "fd_classifier": fd.value, "fd_protocol": fd.protocol, "pr_protocol": pr.protocol,
                     **{k: float(v) for k, v in pr.details.items()},
                     "train_seconds": float((run / "wall_seconds.txt").read_text()),
                     "trained_on": json.loads((run / "trained_on.json").read_text())
                     if (run / "trained_on.json").exists() else None}
        print(name, {k: v for k, v in res[name].items() if k in KEYS}, flush=True)
    groups = seed_groups(res, KEYS)
    for model in STUDY:
        f32, bf16 = groups.get(f"{model}_f32"), groups.get(f"{model}_bf16")
        if f32 and bf16:
            groups[f"{model}_bf16"]["fd_over_float32"] = bf16["fd_classifier"]["mean"] / f32["fd_classifier"]["mean"]
            groups[f"{model}_bf16"]["time_over_float32"] = (bf16["train_seconds"]["mean"]
                                                            / f32["train_seconds"]["mean"])
    result = {"protocol": __doc__.split("Every run is ")[1].split("Writes")[0].strip(), "machine": machine(),
              "runs": res, "groups": groups}
    path.write_text(json.dumps(result, indent=1) + "\n")
    fill(docs / "precision.md", {"precision": table(groups)})


def table(groups: dict) -> str:
    rows = ["| model, config | precision | seeds | fd_classifier | precision | recall | train seconds | "
            "fd / float32's | time / float32's |", "|---|---|---|---|---|---|---|---|---|"]
    for model, config in STUDY.items():
        for short, policy in POLICIES.items():
            g = groups.get(f"{model}_{short}")
            if not g:
                continue
            ratio = (f"{g['fd_over_float32']:.3f}", f"{g['time_over_float32']:.2f}") if "fd_over_float32" in g else \
                ("1", "1")
            rows.append(f"| {model} `{config}` | {policy} | {g['seeds']} | {mean_std(g, 'fd_classifier', False)} | "
                        f"{mean_std(g, 'precision', False)} | {mean_std(g, 'recall', False)} | "
                        f"{mean_std(g, 'train_seconds', False)} | {ratio[0]} | {ratio[1]} |")
    return "\n".join(rows)


def main(argv=None):
    study_main(__doc__, ROOT / "runs" / "precision", train_all, report, argv)


if __name__ == "__main__":
    main()
