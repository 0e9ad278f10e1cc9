"""Fashion-MNIST 32x32 study of the five growing CNN GANs (issue 3; docs/results/growing.md).

    python scripts/growing_fashion.py train  [--models bgan,...] [--out runs/growing]   # trains what is missing
    python scripts/growing_fashion.py report [--out runs/growing]                      # table, grids, plot
    python scripts/growing_fashion.py fidelity   # clggan vs lggan over 3 seeds (thesis section 8), from ema.json

Each model: ``zoo train NAME --dataset fashion_mnist --config fashion32`` (seed 547, the thesis' seed), then
fd_classifier / precision-recall (project classifier features, 2,000 generated vs 2,000 test images, seed 0),
the per-block variability (`zoo.walks.block_variability`, blocks 1-8 .. 33-64, 32 images x 8 references),
and block random-walk grids for blocks 1-8 and 33-64.
"""
from __future__ import annotations

import argparse
import csv
import json
import platform
import sys
from pathlib import Path

MODELS = ("bgan", "bggan", "cggan", "lggan", "clggan")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def train_one(name, out: Path):
    import keras

    from zoo_app.fit import train
    from zoo import metrics, walks

    run = out / name
    if (run / "model.keras").exists():
        model = keras.saving.load_model(run / "model.keras", compile=False)
    else:
        model, _ = train(name, "fashion_mnist", config="fashion32", out=run, seed=547, verbose=2, precision="float32")
    recs = metrics.evaluate_generator(model, "fashion_mnist", ("fd_classifier", "precision_recall"), n_fake=2000,
                                      n_real=2000, split="test", seed=0, jsonl=run / "metrics.jsonl")
    result = {"model": name, "fd_classifier": recs[0].value, "precision": recs[1].details["precision"],
              "recall": recs[1].details["recall"], "protocol": recs[0].protocol,
              "block_variability": walks.block_variability(model, n=32, refs=8, seed=0)}
    for block in ((0, 8), (32, 64)):
        walk = walks.render(model, walks.block_walk_latents(model, block, rows=4, seed=0))
        walks.save_walk(walk, run / f"walk_{walks.block_label(block)}.png")
    walks.save_walk(walks.render(model, walks.block_walk_latents(model, (0, 8), rows=6, seed=0)),
                    run / "walk_1-8.gif", gif=True)
    (run / "result.json").write_text(json.dumps(result, indent=1, default=str))
    return result


def history(run: Path) -> list[dict]:
    with open(run / "history.csv") as f:
        return [{k: float(v) for k, v in row.items() if v not in ("", "NA")} for row in csv.DictReader(f)]


def report(out: Path, docs: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, fig = [], plt.figure(figsize=(6, 4))
    for name in MODELS:
        run = out / name
        if not (run / "result.json").exists():
            continue
        res, hist = json.loads((run / "result.json").read_text()), history(run)
        params = [h["g_params"] + h["d_params"] for h in hist]
        plt.plot(range(1, len(params) + 1), params, marker="o", label=name)
        per_stage = {}
        for h in hist:
            per_stage[int(h["stage"])] = per_stage.get(int(h["stage"]), 0.0) + h["epoch_seconds"]
        rows.append((name, res, params, per_stage))
        for f in run.glob("walk_*.png"):
            (docs / "growing").mkdir(parents=True, exist_ok=True)
            (docs / "growing" / f"{name}_{f.name}").write_bytes(f.read_bytes())
    plt.xlabel("epoch")
    plt.ylabel("trainable parameters (G + D)")
    plt.yscale("log")
    plt.legend()
    plt.title("Parameters per epoch, fashion32 configs (thesis figure 27)")
    plt.tight_layout()
    (docs / "growing").mkdir(parents=True, exist_ok=True)
    fig.savefig(docs / "growing" / "parameters_per_epoch.png", dpi=100)
    return rows


FIDELITY = ("lggan", "clggan")


def stage_seconds(bench: dict, name: str, stage_epochs, steps_per_epoch: int) -> float:
    """Seconds of steps of a full ``fashion32`` schedule from `bench/growing.py`'s per-stage median step (the
    idle machine), plus its growth overheads (synchronous growth, the CPU default, where the bench has both)."""
    stages = bench.get("synchronous", bench["models"])[name]
    steps = sum(stage_epochs[s["stage"]] * steps_per_epoch * s["median_step_s"] for s in stages)
    return steps + sum(s.get("growth_overhead_s", 0.0) for s in stages)


def fidelity(docs: Path) -> dict:
    """clggan vs lggan at equal steps (thesis section 8: clgGAN trains faster with quality no worse): the raw
    generators of scripts/ema_study.py's ``lggan_s*`` / ``clggan_s*`` runs (``fashion32``, float32, seeds 0-2; the
    same recipe as the table above but seeds 0-2 instead of 547), fd_classifier / precision / recall from
    docs/results/ema.json, and the wall clock of the schedule from bench/results/growing.json (measured alone)
    beside the runs' own (taken while other jobs shared the 2 cores: indicative only)."""
    import numpy as np

    import zoo
    from markdown_tables import fill

    ema = json.loads((docs / "ema.json").read_text())
    bench = json.loads((ROOT / "bench" / "results" / "growing.json").read_text())
    rows = {}
    for name in FIDELITY:
        runs = [r for k, r in sorted(ema["runs"].items()) if k.rsplit("_s", 1)[0] == name]
        cfg = zoo.get_config(name, "fashion32")
        epochs = list(cfg["model"]["stage_epochs"])  # the last stage runs to the end of training
        epochs.append(cfg["train"]["epochs"] - sum(epochs))
        row = {"seeds": [r["seed"] for r in runs],
               "bench_schedule_seconds": stage_seconds(bench, name, epochs, cfg["train"]["steps_per_epoch"]),
               "stage_epochs": epochs}
        for key in ("fd_classifier", "precision", "recall"):
            v = np.array([r["by_momentum"]["raw"][key] for r in runs])
            row[key] = {"mean": float(v.mean()), "std": float(v.std(ddof=1)), "values": v.tolist()}
        w = np.array([r["wall_seconds"] for r in runs])
        row["run_wall_seconds"] = {"mean": float(w.mean()), "std": float(w.std(ddof=1)), "values": w.tolist()}
        rows[name] = row
    out = {"protocol": fidelity.__doc__.split("\n\n", 1)[0].replace("\n", " "), "fd_protocol": ema["protocol"],
           "rows": rows}
    (docs / "growing_fidelity.json").write_text(json.dumps(out, indent=1))
    table = ["| model | seeds | fd_classifier | precision | recall | schedule seconds (bench, alone) | run wall "
             "clock (shared machine) |", "|---|---|---|---|---|---|---|"]
    for name, r in rows.items():
        fd = r["fd_classifier"]
        table.append(f"| {name} | {len(r['seeds'])} | {fd['mean']:.2f} ± {fd['std']:.2f} "
                     f"| {r['precision']['mean']:.2f} ± {r['precision']['std']:.2f} | {r['recall']['mean']:.2f} ± "
                     f"{r['recall']['std']:.2f} | {r['bench_schedule_seconds']:.0f} s | "
                     f"{r['run_wall_seconds']['mean']:.0f} ± {r['run_wall_seconds']['std']:.0f} s |")
    fill(docs / "growing.md", {"fidelity": "\n".join(table)})
    print("\n".join(table))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=("train", "report", "fidelity"))
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--out", default="runs/growing")
    args = p.parse_args(argv)
    out = Path(args.out)
    if args.command == "fidelity":
        return fidelity(ROOT / "docs" / "results")
    if args.command == "train":
        for name in args.models.split(","):
            print(json.dumps(train_one(name, out), default=str), flush=True)
    else:
        rows = report(out, ROOT / "docs" / "results")
        print(json.dumps({"machine": platform.platform(), "rows": [
            {"model": n, "fd_classifier": r["fd_classifier"], "block_variability": r["block_variability"],
             "params_per_epoch": p, "seconds_per_stage": s} for n, r, p, s in rows]}, indent=1))


if __name__ == "__main__":
    main()
