"""Swiss roll study of the growing MLP GAN (thesis 7.1, figures 8 vs 9; issue 3), over 3 seeds.

    python scripts/growing_swiss_roll.py [--seeds 0,1,2] [--out runs/swiss_roll]

For each seed it trains ``growing_mlp_gan`` with config ``default`` (latent 1 -> 2 at half-time) and ``scratch``
(2 latent dims from the start), same loss, optimizer and number of steps, then measures on the final generator:

* variance ratio: 64 reference latents; for each, 256 latents varying z1 alone (z2 fixed) and 256 varying z2 alone;
  the total variance (trace of the covariance) of the generated points, averaged over references; ratio z1 / z2.
* distance to the data: 2,000 generated points vs 2,000 fresh Swiss-roll points (noise 0.5, seed 10,000 + seed):
  the symmetric mean nearest-neighbour distance (Chamfer) and the sliced Wasserstein-1 over 64 random directions.

Writes docs/results/growing_swiss_roll.json and docs/results/growing/swiss_roll_seed0.png.
"""
from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def variance_ratio(model, refs=64, n=256, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.uniform(-1, 1, (refs, 2)).astype(np.float32)
    sweep = rng.uniform(-1, 1, (refs, n)).astype(np.float32)
    spread = {}
    for axis in (0, 1):
        z = np.repeat(base[:, None], n, axis=1)
        z[:, :, axis] = sweep
        pts = np.asarray(model.generator(z.reshape(-1, 2), training=False)).reshape(refs, n, 2)
        spread[axis] = float(np.mean(pts.var(axis=1).sum(-1)))
    return spread[0], spread[1], spread[0] / spread[1]


def distances(model, seed):
    """``(chamfer, sliced W1)`` of 2,000 samples against a fresh Swiss roll (`zoo.metrics.point_distance`)."""
    from zoo import metrics
    from zoo.data import toy2d

    real = toy2d.swiss_roll(2000, seed=10_000 + seed)[0]
    rec = metrics.compute("point_distance", real=real, fake=np.asarray(model.generate(2000, seed=seed)), seed=seed)
    return rec.value, rec.details["sliced_w1"]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--out", default="runs/swiss_roll")
    args = p.parse_args(argv)
    import keras

    from zoo_app.fit import train

    results = []
    for seed in map(int, args.seeds.split(",")):
        for config in ("default", "scratch"):
            run = Path(args.out) / f"{config}_seed{seed}"
            if (run / "model.keras").exists():
                model = keras.saving.load_model(run / "model.keras", compile=False)
            else:
                model, _ = train("growing_mlp_gan", "swiss_roll", config=config, out=run, seed=seed, verbose=0, precision="float32")
            v1, v2, ratio = variance_ratio(model, seed=seed)
            chamfer, swd = distances(model, seed)
            row = {"config": config, "seed": seed, "var_z1": v1, "var_z2": v2, "ratio_z1_over_z2": ratio,
                   "chamfer": chamfer, "sliced_w1": swd}
            print(json.dumps(row), flush=True)
            results.append(row)
            if seed == 0:
                plot(model, ROOT / "docs" / "results" / "growing" / f"swiss_roll_{config}_seed0.png", config)
    summary = {}
    for config in ("default", "scratch"):
        rows = [r for r in results if r["config"] == config]
        summary[config] = {k: [float(np.mean([r[k] for r in rows])), float(np.std([r[k] for r in rows]))]
                           for k in ("ratio_z1_over_z2", "chamfer", "sliced_w1")}
    out = {"protocol": __doc__.split("\n\n", 2)[2].strip(), "machine": platform.platform(), "runs": results,
           "mean_std_over_seeds": summary}
    (ROOT / "docs" / "results" / "growing_swiss_roll.json").write_text(json.dumps(out, indent=1))
    print(json.dumps(summary, indent=1))


def plot(model, path, config):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = np.linspace(-1, 1, 21, dtype=np.float32)
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    for ax, axis in zip(axes, (0, 1)):
        for v in grid:  # a line of points per value of the OTHER coordinate, coloured by the swept one
            z = np.stack([np.linspace(-1, 1, 200, dtype=np.float32), np.full(200, v, np.float32)], 1)
            z = z if axis == 0 else z[:, ::-1]
            pts = np.asarray(model.generator(np.ascontiguousarray(z), training=False))
            ax.scatter(pts[:, 0], pts[:, 1], c=np.linspace(-1, 1, 200), s=2, cmap="viridis")
        ax.set_title(f"{config}: colour = z{axis + 1} (swept), lines = fixed z{2 - axis}")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    main()
