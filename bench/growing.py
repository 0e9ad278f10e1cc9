"""Growth overhead and throughput per stage of the growing CNN GANs: writes bench/results/growing.json.

    python bench/growing.py [--steps 40] [--models bggan,cggan,lggan,clggan] [--precision auto] [--repeats 1]
                            [--out bench/results/growing.json]
    python bench/growing.py --steps 100 --models cggan --repeats 3 --out bench/results/growing_cggan_100.json
    python bench/growing.py --full --modes ahead --models lggan,clggan --out bench/results/growing_fashion32.json
    python bench/growing.py --models clggan,clggan:copy --modes synchronous --repeats 3 \
                            --out bench/results/growing_copy_bf16.json    # channel_growth="copy" beside "fade"
    python bench/growing.py --markdown bench/results/growing.json --fill growth40   # the table into growing.md

Each model runs its ``fashion32`` config on Fashion-MNIST 32x32 (batch 32) with every stage shortened to one epoch
of ``--steps`` steps (fade 1 epoch), inside ONE ``model.fit``. Per stage: the median step time over the stage's
steps after its first, images per second (batch / median step), and for each growth the wall-clock from the
trigger (the epoch begins; `GrowthSchedule` builds, transfers, rebuilds the optimizers, retraces) to the end of
the new stage's first step, split into ``grow()`` (build, transfer, optimizers) and the first step (trace,
TensorFlow's graph optimisation, oneDNN primitive creation and the step). Overhead = that time minus the stage's
median step. Fractions = overhead / the time of
one full stage at the measured median step: of the ``fashion32`` config (4 epochs x 200 steps), and of the thesis'
CelebA schedule (8 epochs x 10,174 steps of 16; a 32x32 step is cheaper than a 128x128 one, so this fraction is an
upper bound). Target < 2%.

Each model runs twice per repeat, one right after the other: growth prepared ahead (`trainers.growth_ahead`: the
next stage's networks, optimizers and traced step made in a background thread from the first batch of the stage
before, and the step run there once on stand-ins so that TensorFlow instantiates it, ``GrowthSchedule(ahead=True)``;
results under ``models``) and synchronous growth (``GrowthSchedule(ahead=False)``; under
``synchronous``). For both: the fit's wall clock, and for the prepared runs the background preparation's own wall
clock (``ahead_s``; it overlaps the previous stage's steps, which it slows: the fits' wall clocks show the net).
"""
import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import numpy as np  # noqa: E402

import zoo  # noqa: E402
from zoo_app.fit import build_compiled  # noqa: E402
from trainers.growing import GrowthSchedule  # noqa: E402
from trainers.precision import cpu_model, resolve_precision  # noqa: E402


THESIS_STAGE_STEPS = 8 * -(-162_770 // 16)  # thesis 7.2.3: 8 epochs per grown stage, CelebA train split, batch 16


class StepTimes(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.times, self._t = {}, 0.0

    def on_train_batch_begin(self, batch, logs=None):
        self._t = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.times.setdefault(self.model.stage, []).append(time.perf_counter() - self._t)


def bench(name, steps, precision, ahead=True, full=False):
    """One fit; `full`: ``fashion32``'s own schedule (its stage epochs and fades, 200 steps an epoch) up to one epoch
    into the last stage, else every stage one epoch of `steps`. ``MODEL:copy`` is MODEL with
    ``channel_growth="copy"`` (`zoo.growing.widen`)."""
    name, _, variant = name.partition(":")
    cfg = zoo.get_config(name, "fashion32")
    n = len(cfg["model"]["stage_epochs"]) + 1
    shortened = {} if full else {"stage_epochs": (1,) * (n - 1), "fade_epochs": 1}
    if variant:
        shortened["channel_growth"] = variant
    model, _ = build_compiled(name, "fashion32", precision=precision, **shortened)
    epochs, steps = (sum(cfg["model"]["stage_epochs"]) + 1, cfg["train"]["steps_per_epoch"]) if full else (n, steps)
    batch = cfg["train"]["batch_size"]
    ds = zoo.load_dataset("fashion_mnist", "train", batch, image_size=32, repeat=True, seed=0)
    schedule, times = GrowthSchedule(ahead=ahead), StepTimes()
    start = time.perf_counter()
    model.fit(ds, epochs=epochs, steps_per_epoch=steps, verbose=0, callbacks=[schedule, times])
    fit_seconds = time.perf_counter() - start
    stage_steps = cfg["model"]["stage_epochs"][1] * cfg["train"]["steps_per_epoch"]  # a grown stage: 4 x 200
    stages = []
    for s in range(n):
        median = float(np.median(times.times[s][1:]))
        row = {"stage": s, "latent": model.plan[s].latent, "resolution": model.plan[s].resolution,
               "median_step_s": median, "images_per_s": batch / median}
        if s:
            overhead = schedule.growth_seconds[s - 1] - median
            row.update(trigger_to_first_step_s=schedule.growth_seconds[s - 1], growth_overhead_s=overhead,
                       build_transfer_optimizer_s=schedule.build_seconds[s - 1],
                       trace_and_first_run_s=schedule.growth_seconds[s - 1] - schedule.build_seconds[s - 1],
                       fraction_of_fashion32_stage=overhead / (stage_steps * median),
                       fraction_of_thesis_celeba_stage_upper_bound=overhead / (THESIS_STAGE_STEPS * median))
            if ahead:
                row["ahead_s"] = schedule.ahead_seconds[s - 1]
                row["instantiated_ahead"] = schedule.ahead_warmed[s - 1]
        stages.append(row)
    return stages, fit_seconds


def markdown(result: dict) -> str:
    """The docs' table of a result JSON: ``python bench/growing.py --markdown bench/results/growing.json``."""
    rows = ["| model | stage (res, latent) | img/s | growth, synchronous: trigger -> first step (grow / trace + first "
            "run) | growth, prepared ahead: trigger -> first step (grow / first run) | preparation, in the background |"
            " fit wall clock, synchronous -> ahead |", "|---|---|---|---|---|---|---|"]
    for name, stages in result["models"].items():
        sync, fits = result["synchronous"].get(name) or [None] * len(stages), result["fit_seconds"][name]
        for s, (a, b) in enumerate(zip(sync, stages)):
            cells = [name, f"{s} ({b['resolution']}, {b['latent']})", f"{b['images_per_s']:.0f}"]
            if s:
                cells += [f"{a['trigger_to_first_step_s']:.2f} s ({a['build_transfer_optimizer_s']:.2f} / "
                          f"{a['trace_and_first_run_s']:.2f})" if a else "not run",
                          f"**{b['trigger_to_first_step_s']:.2f} s** ({b['build_transfer_optimizer_s']:.2f} / "
                          f"{b['trace_and_first_run_s']:.2f})", f"{b['ahead_s']:.2f} s"]
            else:
                cells += ["", "", ""]
            both = not s and len(fits) == 2
            cells.append(f"{np.median(fits['synchronous']):.1f} -> {np.median(fits['ahead']):.1f} s" if both else "")
            rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--models", default="bggan,cggan,lggan,clggan")
    p.add_argument("--precision", default="auto", help="trainers.precision: auto (zoo train's default) or a policy")
    p.add_argument("--repeats", type=int, default=1, help="pairs of runs per model (the median growth is kept)")
    p.add_argument("--full", action="store_true", help="fashion32's own stage lengths (see `bench`), not --steps")
    p.add_argument("--modes", default="ahead,synchronous", help="ahead, synchronous or both")
    p.add_argument("--markdown", help="print the docs' table of this result JSON and exit")
    p.add_argument("--fill", help="with --markdown: write the table into docs/results/growing.md's block KEY")
    p.add_argument("--out", default=str(Path(__file__).parent / "results" / "growing.json"))
    args = p.parse_args()
    if args.markdown:
        table = markdown(json.loads(Path(args.markdown).read_text()))
        if args.fill:  # docs/results/growing.md's block between <!-- begin:KEY --> and <!-- end:KEY -->
            from scripts.markdown_tables import fill
            fill(Path(__file__).resolve().parents[1] / "docs/results/growing.md", {args.fill: table})
        return print(table)
    out = {"protocol": __doc__.strip().split("\n\n", 1)[1], "machine": f"{platform.platform()}, "
           f"{cpu_model()}, {os.cpu_count()} CPUs, CPU only", "steps_per_stage": args.steps,
           "schedule": "fashion32 as configured (200 steps an epoch), up to one epoch into the last stage" if args.full
           else f"every stage one epoch of {args.steps} steps",
           "precision": resolve_precision(args.precision).record(), "models": {}, "synchronous": {},
           "fit_seconds": {}}
    if not set(args.modes.split(",")) <= {"ahead", "synchronous"}:
        p.error(f"--modes takes ahead, synchronous or both (comma-separated); got {args.modes!r}")
    modes, names = [m == "ahead" for m in args.modes.split(",")], args.models.split(",")
    runs = {name: {ahead: [] for ahead in modes} for name in names}
    for r in range(args.repeats):  # interleaved: every model and mode once per repeat, the order alternating
        for name in (names[::-1] if r % 2 else names):
            for ahead in (modes[::-1] if r % 2 else modes):
                runs[name][ahead].append(bench(name, args.steps, args.precision, ahead, args.full))
    for name in names:
        for ahead, key in ((True, "models"), (False, "synchronous")):
            if ahead not in runs[name]:
                continue
            fits = [f for _, f in runs[name][ahead]]
            best = sorted(runs[name][ahead], key=lambda run: run[1])[len(fits) // 2][0]  # the median fit's stages
            out[key][name] = best
            out["fit_seconds"].setdefault(name, {})["ahead" if ahead else "synchronous"] = fits
        print(name, json.dumps({k: out[k].get(name) for k in ("models", "synchronous", "fit_seconds")}, indent=1),
              flush=True)
    path = Path(args.out)
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
