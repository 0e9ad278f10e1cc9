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


# table label: (model, run-name suffix after the budget's, (bench file, bench key) or None for the budget's own).
# "clggan, copy": clggan with channel_growth="copy" (Net2WiderNet, zoo.growing.widen) instead of the thesis' fade-in
# of random channels, where the study ran it; its bench ran beside clggan's in one interleaved run
FIDELITY = {"lggan": ("lggan", "", None), "clggan": ("clggan", "", None),
            "clggan, copy": ("clggan", "_copy", ("growing_copy_bf16.json", "clggan:copy"))}
STUDY_SEEDS = (0, 1, 2)  # the 3 seeds; a budget with more seeds also gets a row of all of them


def stage_seconds(bench: dict, name: str, stage_epochs, steps_per_epoch: int) -> float:
    """Seconds of steps of a full ``fashion32`` schedule from `bench/growing.py`'s per-stage median step (the
    idle machine), plus its growth overheads (synchronous growth, the CPU default, where the bench has both)."""
    stages = bench.get("synchronous", bench["models"])[name]
    steps = sum(stage_epochs[s["stage"]] * steps_per_epoch * s["median_step_s"] for s in stages)
    return steps + sum(s.get("growth_overhead_s", 0.0) for s in stages)


# (ema.json run prefix, generator weights, bench result at the budget's precision, what the budget is): the thesis'
# claim at the recipe's own budget, at the presets' (3x the steps, the extra at the last stage, mixed precision,
# the generator's moving average), and at the presets' length in the thesis' stage proportions
BUDGETS = {"fashion32": ("", "raw", "growing.json", "`fashion32`, 2,800 steps, float32, raw generator"),
           "fashion32_long": ("_long", "0.998", "growing_bf16.json", "`fashion32_long`, 8,400 steps, auto (bf16), "
                                                                     "generator EMA 0.998 (the presets' recipe)"),
           "fashion32_thesis_long": ("_thesis_long", "0.998", "growing_bf16.json",
                                     "`fashion32_thesis_long`, 8,400 steps in the thesis' proportions (6 + 3 x 12 "
                                     "epochs), auto (bf16), generator EMA 0.998")}


def fidelity(docs: Path) -> dict:
    """clggan vs lggan at equal steps (thesis section 8: clgGAN trains faster with quality no worse), at three budgets:
    ``fashion32`` (the raw generators of scripts/ema_study.py's ``lggan_s*`` / ``clggan_s*`` runs, float32),
    ``fashion32_long`` (its ``lggan_long_s*`` / ``clggan_long_s*`` runs, the presets' recipe: 42 epochs, auto
    precision, the generator's moving average at momentum 0.998; the raw generator beside it) and
    ``fashion32_thesis_long`` (``*_thesis_long_s*``: the same 42 epochs and average in the thesis' stage
    proportions, 6 + 3 x 12 epochs, half of each grown stage fading), seeds 0-2 each (and a
    row of every seed where the study ran more), fd_classifier / precision / recall from docs/results/ema.json; wall
    clock: each run's own (every run shared the 2 cores with one other training job for its whole length) and the
    schedule's: `bench/growing.py`'s per-stage median step, measured alone at the budget's precision
    (bench/results/growing.json: float32; growing_bf16.json: mixed_bfloat16), times the schedule's steps, plus the
    growths."""
    import zoo
    from markdown_tables import fill, stats_text as pm, run_group, seed_stats as stats

    ema = json.loads((docs / "ema.json").read_text())
    files = {f for _, _, f, _ in BUDGETS.values()} | {b[0] for _, _, b in FIDELITY.values() if b}
    benches = {f: json.loads((ROOT / "bench" / "results" / f).read_text()) for f in files
               if (ROOT / "bench" / "results" / f).exists()}
    rows = {}
    for budget, (suffix, weights, budget_bench, _) in BUDGETS.items():
        for label, (name, variant, own_bench) in FIDELITY.items():
            runs = [r for k, r in sorted(ema["runs"].items()) if run_group(k) == name + suffix + variant]
            if not runs:
                continue
            bench_file, bench_key = own_bench or (budget_bench, name)
            bench = benches[bench_file]
            cfg = zoo.get_config(name, runs[0]["config"])
            epochs = list(cfg["model"]["stage_epochs"])  # the last stage runs to the end of training
            epochs.append((runs[0]["epochs"] or cfg["train"]["epochs"]) - sum(epochs))
            common = {"model": label, "config": runs[0]["config"], "budget": budget, "weights": weights,
                      "stage_epochs": epochs,
                      "bench_schedule_seconds": stage_seconds(bench, bench_key, epochs,
                                                              cfg["train"]["steps_per_epoch"]),
                      "bench": {"file": f"bench/results/{bench_file}", "precision": bench["precision"]["policy"]}}
            if bench_key != name:  # a variant's own bench ran the model beside it: that run's schedule seconds too
                common["bench_schedule_seconds_of_" + name] = stage_seconds(bench, name, epochs,
                                                                            cfg["train"]["steps_per_epoch"])
            study = [r for r in runs if r["seed"] in STUDY_SEEDS]
            group = name + suffix + variant
            groups = {group: study, **({f"{group}_all_seeds": runs} if runs != study else {})}
            for key, group in groups.items():
                row = {**common, "seeds": sorted(r["seed"] for r in group),
                       "run_wall_seconds": stats([r["wall_seconds"] for r in group])}
                for metric in ("fd_classifier", "precision", "recall"):
                    row[metric] = stats([r["by_momentum"][weights][metric] for r in group])
                if weights != "raw":
                    row["raw_fd_classifier"] = stats([r["by_momentum"]["raw"]["fd_classifier"] for r in group])
                rows[key] = row
    out = {"protocol": fidelity.__doc__.split("\n\n", 1)[0].replace("\n", " "), "fd_protocol": ema["protocol"],
           "budgets": {k: v[3] for k, v in BUDGETS.items()}, "rows": rows}
    (docs / "growing_fidelity.json").write_text(json.dumps(out, indent=1))

    table = ["| budget | model | seeds | fd_classifier | precision | recall | fd_classifier, raw generator | run wall "
             "clock (shared machine) | schedule seconds (bench, alone) |", "|---" * 9 + "|"]
    def order(r):  # per budget: the study's seeds, then every seed; lggan before clggan
        return list(BUDGETS).index(r["budget"]), len(r["seeds"]) > len(STUDY_SEEDS), list(FIDELITY).index(r["model"])

    for r in sorted(rows.values(), key=order):
        raw = pm(r["raw_fd_classifier"]) if "raw_fd_classifier" in r else "(the same)"
        seeds = ", ".join(map(str, r["seeds"]))
        table.append(f"| {BUDGETS[r['budget']][3]} | {r['model']} | {seeds} | {pm(r['fd_classifier'])} | "
                     f"{pm(r['precision'])} | {pm(r['recall'])} | {raw} | {pm(r['run_wall_seconds'], 0)} s | "
                     f"{r['bench_schedule_seconds']:.0f} s ({r['bench']['precision']}) |")
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
