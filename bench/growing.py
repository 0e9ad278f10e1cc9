"""Growth overhead and throughput per stage of the growing CNN GANs: writes bench/results/growing.json.

    python bench/growing.py [--steps 40] [--models bggan,cggan,lggan,clggan] [--precision auto]

Each model runs its ``fashion32`` config on Fashion-MNIST 32x32 (batch 32) with every stage shortened to one epoch
of ``--steps`` steps (fade 1 epoch), inside ONE ``model.fit``. Per stage: the median step time over the stage's
steps after its first, images per second (batch / median step), and for each growth the wall-clock from the
trigger (the epoch begins; `GrowthSchedule` builds, transfers, rebuilds the optimizers, retraces) to the end of
the new stage's first step, split into ``grow()`` (build, transfer, optimizers) and the first step (trace,
TensorFlow's graph optimisation, oneDNN primitive creation and the step). Overhead = that time minus the stage's median step. Fractions = overhead / the time of
one full stage at the measured median step: of the ``fashion32`` config (4 epochs x 200 steps), and of the thesis'
CelebA schedule (8 epochs x 10,174 steps of 16; a 32x32 step is cheaper than a 128x128 one, so this fraction is an
upper bound). Target < 2%.
"""
import argparse
import json
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
from trainers.precision import resolve_precision  # noqa: E402


THESIS_STAGE_STEPS = 8 * -(-162_770 // 16)  # thesis 7.2.3: 8 epochs per grown stage, CelebA train split, batch 16


class StepTimes(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.times, self._t = {}, 0.0

    def on_train_batch_begin(self, batch, logs=None):
        self._t = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.times.setdefault(self.model.stage, []).append(time.perf_counter() - self._t)


def bench(name, steps, precision):
    cfg = zoo.get_config(name, "fashion32")
    n = len(cfg["model"]["stage_epochs"]) + 1
    model, _ = build_compiled(name, "fashion32", stage_epochs=(1,) * (n - 1), fade_epochs=1, precision=precision)
    batch = cfg["train"]["batch_size"]
    ds = zoo.load_dataset("fashion_mnist", "train", batch, image_size=32, repeat=True, seed=0)
    schedule, times = GrowthSchedule(), StepTimes()
    model.fit(ds, epochs=n, steps_per_epoch=steps, verbose=0, callbacks=[schedule, times])
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
        stages.append(row)
    return stages


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--models", default="bggan,cggan,lggan,clggan")
    p.add_argument("--precision", default="auto", help="trainers.precision: auto (zoo train's default) or a policy")
    args = p.parse_args()
    out = {"protocol": __doc__.strip().split("\n\n", 1)[1], "machine": f"{platform.platform()}, "
           f"{platform.processor() or platform.machine()}, CPU only", "steps_per_stage": args.steps,
           "precision": resolve_precision(args.precision).record(), "models": {}}
    for name in args.models.split(","):
        out["models"][name] = bench(name, args.steps, args.precision)
        print(name, json.dumps(out["models"][name], indent=1), flush=True)
    path = Path(__file__).parent / "results" / "growing.json"
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
