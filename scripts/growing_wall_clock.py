"""clggan vs lggan, the presets' recipe as `zoo train` runs it, each run ALONE on the machine (issue 20, thesis
section 8: clgGAN trains faster with quality no worse; docs/results/growing.md)

    python scripts/growing_wall_clock.py train  [--runs NAME,...] [--out /work/runs/growing_alone_settled]
    python scripts/growing_wall_clock.py report   # growing_wall_clock.json + growing.md's table, both GROUPS

Runs, in this order (interleaved, the first model alternating per seed): lggan s0, clggan s0, clggan s1, lggan s1,
lggan s2, clggan s2; each ``zoo_app.fit.train(MODEL, "fashion_mnist", config="fashion32_long", seed=SEED)``, the
presets' recipe as a user runs it (8,400 steps of 32 in stages of 2 / 4 / 4 / 32 epochs of 200, `zoo train`'s
default precision ``auto``, the generator's moving average at 0.998 in the optimizer, written into the generator
when fit ends, with backups, checkpoints and sample grids as `zoo train` writes them). No other training, test or
bench job ran on the machine during a run: the 1-minute load average before each run is in the JSON. Wall clock: the
whole ``train`` call (build, data, fit, growths, saving), and per stage the seconds from its first epoch's start to
its last epoch's end (``EpochClock``). Quality: fd_classifier and improved precision / recall (k = 3) in the
features of ``zoo-cnn-fashion_mnist-v1`` (not Inception), 2,000 ``generate`` samples against 2,000 test images drawn
with seed 0. Mean +- sample std over seeds 0, 1, 2, and the per-seed ratio of clggan's wall clock to lggan's. The
six runs ran twice, at two versions of the code (GROUPS), one version after the other.
"""
from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODELS, SEEDS, CONFIG = ("lggan", "clggan"), (0, 1, 2), "fashion32_long"
# interleaved at equal settings: the model that runs first alternates from seed to seed
RUNS = {f"{m}_s{s}": (m, s) for s in SEEDS for m in (MODELS if s % 2 == 0 else MODELS[::-1])}
OUT = ROOT / "docs" / "results" / "growing_wall_clock.json"
# the same six runs at two versions of the code: key -> (folder, what differs)
GROUPS = {"masks": ("/work/runs/growing_alone", "every fade's multiplies in the train step to the end of its stage "
                                                "(the code of commit 68d650a)"),
          "settled": ("/work/runs/growing_alone_settled", "the channel masks dropped from the train step once a "
                      "stage's fade is over, when 1,000 steps or more of it remain (commit dcee420: "
                      "`GrowthSchedule(settle_min_steps=1000)`, the default; the run is the same bit for bit)")}
CODE = {"masks": "masks kept (68d650a)", "settled": "masks dropped after the fade (dcee420)"}


def epoch_clock():
    import keras

    class EpochClock(keras.callbacks.Callback):
        """Wall-clock seconds of every epoch, keyed by the stage it ran in (``model.stage`` at its end). Not the
        logged ``epoch_seconds`` of `GrowthSchedule`: that ends before the later callbacks' end-of-epoch work
        (backups, checkpoints, sample grids), which a run's wall clock includes and this, last in the list, does."""

        def __init__(self):
            super().__init__()
            self.epochs = []

        def on_epoch_begin(self, epoch, logs=None):
            self._t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.epochs.append((int(self.model.stage), time.perf_counter() - self._t))

    return EpochClock()


def train_one(name: str, out: Path) -> Path:
    from preset_seeds import measure
    from zoo_app.fit import train

    model_name, seed = RUNS[name]
    run = out / name
    if (run / "result.json").exists():
        return run
    if (run / "backup").exists():
        raise RuntimeError(f"{run} holds an unfinished run: its wall clock would be two processes'; delete it and "
                           "train again")
    load = os.getloadavg()[0]
    clock = epoch_clock()
    start = time.perf_counter()
    model, _ = train(model_name, "fashion_mnist", config=CONFIG, out=run, seed=seed, verbose=2, callbacks=[clock])
    wall = time.perf_counter() - start
    stages = {}
    for stage, seconds in clock.epochs:
        stages[stage] = stages.get(stage, 0.0) + seconds
    result = {"model": model_name, "seed": seed, "config": CONFIG, "wall_seconds": wall,
              "stage_seconds": [stages[s] for s in sorted(stages)], "load_average_1min_before": load,
              **measure(model, "fashion_mnist"),  # the card protocol, as scripts/preset_seeds.py measures
              "precision_policy": json.loads((run / "run.json").read_text()).get("precision")}
    (run / "result.json").write_text(json.dumps(result, indent=1))
    return run


def group_result(out: Path) -> dict:
    """One code version's six runs under `out`: per model mean +- std, and clggan's wall clock over lggan's."""
    from markdown_tables import seed_stats

    runs = {n: json.loads((out / n / "result.json").read_text()) for n in RUNS if (out / n / "result.json").exists()}
    summary = {}
    for m in MODELS:
        rs = [runs[f"{m}_s{s}"] for s in SEEDS if f"{m}_s{s}" in runs]
        if rs:
            summary[m] = {"seeds": [r["seed"] for r in rs],
                          **{k: seed_stats([r[k] for r in rs]) for k in
                             ("fd_classifier", "precision", "recall", "wall_seconds")},
                          "stage_seconds": [seed_stats(v) for v in zip(*(r["stage_seconds"] for r in rs))]}
    paired = [s for s in SEEDS if all(f"{m}_s{s}" in runs for m in MODELS)]
    ratios = [runs[f"clggan_s{s}"]["wall_seconds"] / runs[f"lggan_s{s}"]["wall_seconds"] for s in paired]
    epochs = [sum(runs[f"clggan_s{s}"]["stage_seconds"]) / sum(runs[f"lggan_s{s}"]["stage_seconds"]) for s in paired]
    return {"summary": summary, "clggan_over_lggan_wall_clock_per_seed": dict(zip(paired, ratios)),
            "clggan_over_lggan_wall_clock": seed_stats(ratios) if ratios else None,
            "clggan_over_lggan_epochs_only_per_seed": dict(zip(paired, epochs)), "runs": runs}


def report(out: Path) -> dict:
    """Every group of GROUPS (`out` is the settled group's folder), into the JSON and growing.md's table."""
    from markdown_tables import fill, stats_text

    groups = {}
    for key, (folder, what) in GROUPS.items():
        folder = out if key == "settled" else Path(folder)
        if folder.exists():
            groups[key] = {"what": what, "folder": str(folder), **group_result(folder)}
    result = {"protocol": __doc__.split("\n\n", 2)[2].strip(), "machine": platform.platform(), "order": list(RUNS),
              "groups": groups}
    OUT.write_text(json.dumps(result, indent=1))
    table = ["| code | model | seeds | fd_classifier | per seed | recall | wall clock, alone | per seed | "
             "clggan / lggan, per seed (the whole call; the epochs alone) | seconds per stage (4 / 8 / 16 / 32 px) |",
             "|---" * 10 + "|"]
    for key, g in groups.items():
        ratios = g["clggan_over_lggan_wall_clock_per_seed"]
        for m, s in g["summary"].items():
            per_seed = [g["runs"][f"{m}_s{k}"] for k in s["seeds"]]
            fds, walls = (" / ".join(f"{r[k]:.{d}f}" for r in per_seed) for k, d in (("fd_classifier", 2),
                                                                                       ("wall_seconds", 0)))
            epochs = g["clggan_over_lggan_epochs_only_per_seed"].values()
            ratio = (" / ".join(f"{v:.3f}" for v in ratios.values()) + " (" +
                     stats_text(g["clggan_over_lggan_wall_clock"], 3) + "); epochs alone " +
                     " / ".join(f"{v:.3f}" for v in epochs)) if m == "clggan" and ratios else ""
            table.append(f"| {CODE[key]} | {m} | {', '.join(map(str, s['seeds']))} | "
                         f"{stats_text(s['fd_classifier'])} | {fds} | {stats_text(s['recall'])} | "
                         f"{stats_text(s['wall_seconds'], 0)} s | {walls} s | {ratio} | "
                         + " / ".join(f"{st['mean']:.1f}" for st in s["stage_seconds"]) + " |")
    fill(ROOT / "docs" / "results" / "growing.md", {"wall_clock_alone": "\n".join(table)})
    print("\n".join(table))
    return result


def main():
    from markdown_tables import train_report_cli

    train_report_cli(__doc__, RUNS, train_one, report, GROUPS["settled"][0])


if __name__ == "__main__":
    main()
