"""The wall clock of the presets whose cards have none (issue 20: every card gives recipe, steps, wall clock, machine).

    python scripts/preset_wall_clock.py train  [--runs NAME,...] [--out /work/runs/wall_clock]  # reruns what is missing
    python scripts/preset_wall_clock.py report [--out /work/runs/wall_clock]   # writes the cards' wall clock

Six presets were built from runs whose fit time was not recorded (no ``wall_seconds.txt``, no TensorBoard event
files left). Four (PRESETS) are trained again here from scratch with their card's recipe: the same model, dataset,
registered config, seed and precision, through ``zoo_app.fit.train`` as ``zoo train`` runs it, timed from the call
to the end of ``fit`` (the run's backups, checkpoints and sample grids included, as in the original run). If
training is deterministic, the rerun is the preset's run again; ``report`` checks that: every weight of the rerun,
stored in the preset's dtype, against the shipped file's, and writes the largest difference beside the wall clock in
the card's ``training`` section (``wall_clock``: seconds, how they were taken, the machine, the load average and
whether the rerun's weights equal the preset's). A rerun whose weights differ is still reported, with its
difference. The two conditioning presets are not rerun: scripts/preset_seeds.py trains their recipe at seeds 1 and
2, and their cards give the mean of those two runs' wall clocks (OTHER_SEEDS).
"""
from __future__ import annotations

import json
import os
import platform
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PRESETS = ("latentgan_ae_mnist", "latentgan_ae_fashion_mnist", "lsc_gan_mnist", "lsc_gan_fashion_mnist")
# presets whose recipe scripts/preset_seeds.py trains at seeds 1 and 2 (its group): their card gives the mean fit
# wall clock of those two runs instead of a third run at seed 0
OTHER_SEEDS = {"lsc_conditioned_gan_mnist": "lscc_mnist", "lsc_conditioned_gan_fashion_mnist": "lscc_fashion"}
# the precision of the preset's run where its recipe line does not name one: scripts/latentgan_ae_study.py trains
# in float32 (``train_runs(..., precision="float32")``); the others ran ``zoo train``'s default
STUDY_PRECISION = {"latentgan_ae_mnist": "float32", "latentgan_ae_fashion_mnist": "float32"}
RUNS = {name: name for name in PRESETS}


def recipe(name: str) -> dict:
    """model, dataset, config, seed and precision of preset `name`'s run, read from its card."""
    from zoo.pretrained import find_preset, read_card

    card = read_card(find_preset(name))
    named = re.search(r"--precision (\S+?)`", card["training"]["recipe"])
    precision = named.group(1) if named else STUDY_PRECISION.get(name, "auto")
    model = name.removesuffix("_" + card["dataset"])  # presets are named <registered model>_<dataset>
    return {"model": model, "dataset": card["dataset"], "config": card["config"],
            "seed": card["training"]["seed"], "precision": precision, "epochs": card["training"]["epochs"]}


def train_one(name: str, out: Path) -> Path:
    from zoo_app.fit import train

    run = out / name
    if (run / "wall_clock.json").exists():
        return run
    r = recipe(name)
    start = time.perf_counter()
    model, _ = train(r["model"], r["dataset"], config=r["config"], epochs=r["epochs"], out=run / "run", seed=r["seed"],
                     precision=r["precision"], verbose=2)
    wall = time.perf_counter() - start
    model.save_weights(run / "rerun.weights.h5")
    load = os.getloadavg()  # 2 cores: about 2 alone, about 4 beside one other training run
    (run / "wall_clock.json").write_text(json.dumps({**r, "wall_seconds": wall, "load_average_1_5_15min": load},
                                                    indent=1))
    return run


def rerun_check(name: str, run: Path) -> dict:
    """Largest |rerun - preset| over every weight, the rerun's rounded to the preset's storage dtype (float16 for the
    half-size presets) as `zoo.pretrained.store_weights_as` rounds them; where they differ, the card's metrics (and
    clustering error) measured on the rerun with the card's protocol, beside the card's."""
    import numpy as np
    import zoo
    from zoo.pretrained import reproduce_metrics

    shipped = zoo.from_preset(name)
    card = shipped.preset_card
    rerun = zoo.from_preset(name)
    rerun.load_weights(run / "rerun.weights.h5")
    stored = card.get("weights_dtype", "float32")
    rounded = [b.astype(stored) if b.dtype == np.float32 else b for b in map(np.asarray, rerun.get_weights())]
    diff = float(max(np.max(np.abs(np.asarray(a, np.float64) - b.astype(np.float64)), initial=0.0)
                     for a, b in zip(shipped.get_weights(), rounded)))
    check = {"rerun_max_abs_weight_difference": diff, "rerun_is_the_preset": diff == 0.0}
    if diff:
        for i, b in enumerate(rounded):  # measure what would ship: the rerun in the preset's storage dtype
            rerun.weights[i].assign(b.astype(rerun.weights[i].dtype))
        check["rerun_metrics"] = {r["metric"]: {"card": r["card"], "rerun": r["measured"]}
                                  for r in reproduce_metrics(rerun, card)}
        if "clustering" in card:
            x, y = zoo.load_arrays(card["dataset"], "test", image_size=rerun.image_size)
            check["rerun_metrics"]["clustering_error"] = {"card": card["clustering"]["error"],
                                                          "rerun": rerun.clustering_record(x, y, split="test")["error"]}
    return check


def report(out: Path) -> dict:
    from zoo.pretrained import find_preset, read_card

    machine = f"{platform.machine()}, 2 CPU cores, no GPU"
    clocks = {}
    for name in PRESETS:
        run = out / name
        if (run / "wall_clock.json").exists():
            timed = json.loads((run / "wall_clock.json").read_text())
            clocks[name] = {
                "seconds": round(timed["wall_seconds"], 1),
                "how": "the preset's run was not timed; its recipe (model, dataset, config, seed, precision) was "
                       "trained again with zoo_app.fit.train and timed from the call to the end of fit, by "
                       "scripts/preset_wall_clock.py",
                "machine": machine, "load_average_1_5_15min_at_end": timed["load_average_1_5_15min"],
                "date": time.strftime("%Y-%m-%d", time.gmtime((run / "wall_clock.json").stat().st_mtime)),
                **rerun_check(name, run)}
    seeds = json.loads((ROOT / "docs" / "results" / "preset_seeds.json").read_text())["rows"]
    for name, group in OTHER_SEEDS.items():
        runs = [r for r in seeds.get(group, {}).get("per_seed", []) if "wall_seconds" in r]
        if len(runs) == 2:
            clocks[name] = {"seconds": round(sum(r["wall_seconds"] for r in runs) / 2, 1),
                            "how": "the preset's run (seed 0) was not timed; the mean fit wall clock of its recipe "
                                   f"at seeds 1 and 2 (scripts/preset_seeds.py {group}_s1, {group}_s2: "
                                   f"{runs[0]['wall_seconds']:.0f} and {runs[1]['wall_seconds']:.0f} s, "
                                   "zoo_app.fit.train's call, as for a rerun)", "machine": machine}
    for name, clock in clocks.items():
        preset = find_preset(name)
        card = read_card(preset)
        card["training"].update(wall_seconds=clock["seconds"], wall_clock=clock)
        (preset / "model_card.json").write_text(json.dumps(card, indent=1, default=str))  # as save_preset writes it
        print(name, json.dumps(clock))
    return clocks


def main():
    from markdown_tables import train_report_cli

    train_report_cli(__doc__, RUNS, train_one, report, "/work/runs/wall_clock")


if __name__ == "__main__":
    main()
