"""Does an exponential moving average of the generator help, and at what momentum? (issue 20; docs/results/ema.md)

    python scripts/ema_study.py train  [--runs NAME,...] [--out /work/runs/ema]   # trains what is missing
    python scripts/ema_study.py report [--out /work/runs/ema]                     # docs/results/ema.json + ema.md

Paired by construction: each run trains a model with its registered config and recipe (``zoo_app.fit.train``,
precision named in RUNS) and, beside the training, keeps in numpy the averages

    w_ema_t = m * w_ema_{t-1} + (1 - m) * w_t,   w_ema_1 = w_1

of the generator's trainable weights for every m in MOMENTA (what ``g_optimizer`` with ``use_ema=True,
ema_momentum=m`` computes inside the step, `tests/test_ema.py`; the training itself is unchanged). A growth carries
each average into the grown variable's leading slice and starts the new entries at the variable, as
`trainers.growing.rebuild_optimizer` does. At the end the generator is measured with its raw weights (m = 0) and
with each average: fd_classifier and improved precision / recall (k = 3) in the features of ``zoo-cnn-<dataset>-v1``
(not Inception), 2,000 ``generate`` samples against 2,000 test images drawn with seed 0. BatchNorm statistics are
the raw run's in every row (they are not trainable weights). Seeds 0, 1, 2; mean +- sample std.
"""
from __future__ import annotations

import json
import platform
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MOMENTA = (0.99, 0.995, 0.998, 0.999)
SEEDS = (0, 1, 2)
# name: (model, config, dataset, precision, epochs (None: the config's)); "_long" (one seed: a preset candidate): the
# growing models 3x their config's steps, the extra ones at the last stage; dcgan the same 8,400 steps
MODELS = {"lggan": ("lggan", "fashion32", "fashion_mnist", "float32", None),
          "clggan": ("clggan", "fashion32", "fashion_mnist", "float32", None),
          "cggan": ("cggan", "fashion32", "fashion_mnist", "auto", None),
          "dcgan": ("dcgan", "quick", "fashion_mnist", "auto", None),
          **{f"{m}_long": (m, "fashion32", "fashion_mnist", "auto", 42) for m in ("bgan", "bggan", "cggan", "lggan",
                                                                                 "clggan")},
          "dcgan_long": ("dcgan", "quick", "fashion_mnist", "auto", 56)}
RUNS = {f"{name}_s{seed}": (*spec, seed) for name, spec in MODELS.items() for seed in SEEDS}
# thesis section 8 (clggan vs lggan), which docs/results/growing.md reports (the summary and ema.md keep MODELS x
# SEEDS): name: (spec, seeds). At the presets' budget three more seeds; at the presets' length in the thesis' stage
# proportions (fashion32_thesis_long: 6 + 3 x 12 epochs, a budget chosen before it was run; its config's own moving
# average runs beside the sweep and is not measured) seeds 0-5. Seeds 3-5 were added in both after seeds 0-2 left
# clggan's gap inside lggan's seed spread
SECTION8 = {**{f"{m}_long": (MODELS[f"{m}_long"], (3, 4, 5)) for m in ("lggan", "clggan")},
            **{f"{m}_thesis_long": ((m, "fashion32_thesis_long", "fashion_mnist", "auto", None), SEEDS + (3, 4, 5))
               for m in ("lggan", "clggan")},
            "clggan_thesis_long_copy": (("clggan", "fashion32_thesis_long_copy", "fashion_mnist", "auto", None),
                                        SEEDS + (3, 4, 5))}
RUNS.update({f"{name}_s{seed}": (*spec, seed) for name, (spec, seeds) in SECTION8.items() for seed in seeds})


def sweep_callback(momenta=MOMENTA):
    import keras

    class MomentumSweep(keras.callbacks.Callback):
        """numpy EMAs of the generator's trainable weights, keyed by variable path, one per momentum."""

        def __init__(self):
            super().__init__()
            self.ema = {m: {} for m in momenta}
            self.raw = {}

        def on_train_batch_begin(self, batch, logs=None):
            """After a growth, before the new stage's first step: each average of a grown or new variable starts
            at the variable, with its old average in the leading slice (`trainers.growing.rebuild_optimizer`), or,
            for channels grown by copying, at ``w' + widen(avg - w)`` (`zoo.growing.widen.widen_averages`)."""
            from zoo.growing.widen import weight_axes, widen

            if self.model.steps_per_execution != 1:
                raise ValueError("the sweep follows one optimizer step per batch: steps_per_execution must be 1")
            variables = {v.path: v for v in self.model.generator.trainable_variables}
            grew = {path for path, v in variables.items() if self.raw.get(path, np.empty(0)).shape != tuple(v.shape)}
            if not self.raw or not grew and set(self.raw) == set(variables):
                return  # before the first step (Keras' average is w_1, set after it), or no growth since the last
            axes = {w.path: weight_axes(layer, i) for layer in self.model.generator.layers
                    for i, w in enumerate(layer.weights) if w.path in grew}
            copy = getattr(self.model, "channel_growth", "fade") == "copy"
            for ema in self.ema.values():
                for path in set(ema) - set(variables):  # a layer that faded out
                    del ema[path]
                for path, v in variables.items():
                    old = ema.get(path)
                    if old is None or old.shape != tuple(v.shape):
                        new = v.numpy().copy()
                        if old is not None and copy:
                            new += widen(old - self.raw[path], tuple(v.shape), **axes[path])
                        elif old is not None:
                            new[tuple(slice(0, d) for d in old.shape)] = old
                        ema[path] = new

        def on_train_batch_end(self, batch, logs=None):
            weights = {v.path: v.numpy() for v in self.model.generator.trainable_variables}
            for m, ema in self.ema.items():
                for path, w in weights.items():
                    ema[path] = w.copy() if path not in ema else m * ema[path] + (1 - m) * w
            self.raw = weights

    return MomentumSweep()


def train_one(name, out: Path) -> Path:
    from zoo_app.fit import train

    model_name, config, dataset, precision, epochs, seed = RUNS[name]
    run = out / name
    if (run / "weights.npz").exists():
        return run
    shutil.rmtree(run, ignore_errors=True)  # the sweep lives in memory: an unfinished run starts over
    sweep = sweep_callback()
    start = time.perf_counter()
    train(model_name, dataset, config=config, out=run, seed=seed, verbose=2, precision=precision, epochs=epochs,
          callbacks=[sweep])
    wall = time.perf_counter() - start
    arrays = {f"raw|{p}": w for p, w in sweep.raw.items()}
    arrays.update({f"{m}|{p}": w for m, ema in sweep.ema.items() for p, w in ema.items()})
    np.savez(run / "weights.npz", **arrays)
    (run / "wall_seconds.txt").write_text(f"{wall:.1f}")
    return run


def measure(name, out: Path) -> dict:
    import keras

    from zoo import metrics

    model_name, config, dataset, precision, epochs, seed = RUNS[name]
    run = out / name
    model = keras.saving.load_model(run / "model.keras", compile=False)
    arrays = np.load(run / "weights.npz")
    rows = {}
    for key in ("raw",) + tuple(str(m) for m in MOMENTA):
        for v in model.generator.trainable_variables:
            v.assign(arrays[f"{key}|{v.path}"])
        fd, pr = metrics.evaluate_generator(model, dataset, ("fd_classifier", "precision_recall"), n_fake=2000,
                                            n_real=2000, split="test", seed=0)
        rows[key] = {"fd_classifier": fd.value, "precision": pr.value, "recall": pr.details["recall"]}
        protocol = fd.protocol
    return {"model": model_name, "config": config, "dataset": dataset, "precision": precision, "seed": seed,
            "epochs": epochs,
            "wall_seconds": float((run / "wall_seconds.txt").read_text()), "by_momentum": rows, "protocol": protocol}


def report(out: Path):
    from markdown_tables import seed_stats, stats_text

    path = ROOT / "docs" / "results" / "ema.json"
    done = json.loads(path.read_text())["runs"] if path.exists() else {}
    for name in RUNS:
        if name not in done and (out / name / "weights.npz").exists():
            done[name] = measure(name, out)
            print(name, json.dumps(done[name]["by_momentum"]), flush=True)
    summary = {}
    for model in MODELS:
        runs = [done[f"{model}_s{s}"] for s in SEEDS if f"{model}_s{s}" in done]
        if not runs:
            continue
        summary[model] = {"seeds": [r["seed"] for r in runs], "by_momentum": {}}
        for key in runs[0]["by_momentum"]:
            summary[model]["by_momentum"][key] = {metric: seed_stats([r["by_momentum"][key][metric] for r in runs])
                                                   for metric in ("fd_classifier", "precision", "recall")}
    result = {"protocol": __doc__.split("\n\n", 2)[2].strip(), "momenta": MOMENTA,
              "machine": f"{platform.machine()}, 2 CPU cores, no GPU", "summary": summary, "runs": done}
    path.write_text(json.dumps(result, indent=1, default=str))
    lines = ["# The generator's moving average", "", "Written by `python scripts/ema_study.py report` from "
             "`docs/results/ema.json`. " + result["protocol"].replace("\n", " "), "",
             "| model | config | seeds | raw (m = 0) | " + " | ".join(f"m = {m}" for m in MOMENTA) + " |",
             "|---|---|---|---|" + "---|" * len(MOMENTA)]
    for model, s in summary.items():
        cells = []
        for key in ("raw",) + tuple(str(m) for m in MOMENTA):
            fd, rec = s["by_momentum"][key]["fd_classifier"], s["by_momentum"][key]["recall"]
            cells.append(f"{stats_text(fd)} (recall {rec['mean']:.2f})")
        lines.append(f"| {model} | {MODELS[model][1]} | {len(s['seeds'])} | " + " | ".join(cells) + " |")
    lines += ["", "Cells: fd_classifier mean ± std over the seeds (lower is better), and the mean recall."]
    (ROOT / "docs" / "results" / "ema.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main():
    from markdown_tables import train_report_cli

    train_report_cli(__doc__, RUNS, train_one, report, "/work/runs/ema")


if __name__ == "__main__":
    main()
