"""Train-step throughput with tf.data's autotuning on and off: writes bench/results/data_autotune.json.

    python bench/data_autotune.py [--model dcgan] [--runs 6] [--steps 16] [--streams slices,repeat,epochs]

Why: on the project's 2-core VMs, a ``fit`` fed by a pipeline with tf.data's autotuning on (TensorFlow's default)
sometimes starts in a state where one core idles (CPU use ~1.2 of 2) for as long as its iterator lives: every
step stretched, dcgan ``default`` in bfloat16 at 400 img/s instead of ~640, a small model 2x slower (a probe, not
in the JSON). It hit bench/train_throughput.py's configurations at random: their exact 400 img/s readings on the
AMD VM, and, we infer without having rerun it there, those on the Intel VM. In the probes only
``tf.data.Options().autotune.enabled = False`` removed it: another autotune algorithm, a CPU budget, or no injected
prefetch did not, nor TF's inter-op parallelism 1 or oneDNN's caller-thread pool.
It showed in ``fit`` without callbacks; a fit with an epoch-end callback did not show it in these runs (which is
why bench/model_throughput.py's epoch-clocked readings look clean). We did not find the cause inside TensorFlow.

Protocol: dcgan's ``default`` config (batch 128) is built and compiled once as ``zoo train`` builds it
(`zoo_app.fit.build_compiled`, ``precision`` as given, default ``auto``) and warmed up. For each case (stream x
timing), autotune on and off take turns, `--runs` times each; each turn reads a fresh iterator of the stream:

* streams: ``slices``, ``from_tensor_slices(x).cache().repeat().batch(128).prefetch(AUTOTUNE)`` on the arrays
  (bench/train_throughput.py's pipeline until this bench, and that of many Keras examples); ``repeat``, ``zoo
  train``'s endless stream addressed by step (`zoo.load_dataset(..., repeat=True)`); ``epochs``,
  `zoo.load_dataset`'s one-pass pipeline (per-example map, cache, shuffle, batch);
* timings: ``fit``, one ``fit(ds, epochs=1, steps_per_epoch=--steps, verbose=0)`` without callbacks, timed whole
  (bench/train_throughput.py's harness); ``epochs``, a fit of 2 epochs with an epoch clock, the second timed.

Reported per case and setting: every turn's images/s and CPU use (process CPU seconds / wall seconds; 2.0 = both
cores busy), median, min, max, and the slow turns (below 0.8x the case's fastest turn). Ratio: median off / on.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import zoo  # noqa: E402
import train_throughput  # noqa: E402
from model_throughput import EpochTimes  # noqa: E402
from trainers.precision import cpu_flags  # noqa: E402
from zoo_app.fit import build_compiled  # noqa: E402

STREAMS = ("slices", "repeat", "epochs")
TIMINGS = ("fit", "epochs")


def summarize(turns: dict) -> dict:
    fastest = max(t["images_per_second"] for ts in turns.values() for t in ts)
    out = {}
    for key, ts in turns.items():
        ips = [t["images_per_second"] for t in ts]
        out[key] = {"median_images_per_second": statistics.median(ips), "min": min(ips), "max": max(ips),
                    "slow_turns": sum(v < 0.8 * fastest for v in ips), "turns": len(ips),
                    "median_cpu_use": statistics.median(t["cpu_use"] for t in ts)}
    out["median_off_over_on"] = round(out["autotune_off"]["median_images_per_second"]
                                      / out["autotune_on"]["median_images_per_second"], 3)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="dcgan")
    p.add_argument("--config", default="default")
    p.add_argument("--dataset", default="fashion_mnist")
    p.add_argument("--precision", default="auto")
    p.add_argument("--runs", type=int, default=6)
    p.add_argument("--steps", type=int, default=16)
    p.add_argument("--streams", default=",".join(STREAMS))
    p.add_argument("--timings", default=",".join(TIMINGS))
    p.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "data_autotune.json"))
    args = p.parse_args(argv)

    model, cfg = build_compiled(args.model, args.config, dataset=args.dataset, precision=args.precision, seed=0)
    batch, image_size = cfg["train"]["batch_size"], getattr(model, "image_size", None)
    x = zoo.load_arrays(args.dataset, "train", image_size=image_size)[0]

    def stream(name: str, autotune: bool) -> tf.data.Dataset:
        if name == "slices":
            return train_throughput._dataset(x, batch, autotune)
        return zoo.load_dataset(args.dataset, "train", batch, image_size=image_size, repeat=name == "repeat",
                                autotune=autotune)

    def turn(name: str, timing: str, autotune: bool) -> dict:
        ds = stream(name, autotune)
        if timing == "fit":
            wall, cpu = time.perf_counter(), time.process_time()
            model.fit(ds, epochs=1, steps_per_epoch=args.steps, verbose=0, shuffle=False)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        else:
            clock = EpochTimes()
            model.fit(ds, epochs=2, steps_per_epoch=args.steps, callbacks=[clock], verbose=0, shuffle=False)
            wall, cpu = clock.seconds[-1], clock.cpu_seconds[-1]
        return {"images_per_second": round(args.steps * batch / wall, 1), "cpu_use": round(cpu / wall, 2)}

    turn("slices", "fit", False)  # tracing, oneDNN's primitive caches
    cases = {}
    for name in args.streams.split(","):
        for timing in args.timings.split(","):
            turns = {"autotune_on": [], "autotune_off": []}
            for _ in range(args.runs):
                for key in turns:
                    turns[key].append(turn(name, timing, key == "autotune_on"))
            cases[f"{name}/{timing}"] = {"summary": summarize(turns), "turns": turns}
            print(name, timing, json.dumps(cases[f"{name}/{timing}"]["summary"]), flush=True)
    result = {"protocol": __doc__.split("\n\n", 2)[2].strip(), "model": args.model, "config": args.config,
              "dataset": args.dataset, "batch_size": batch, "steps": args.steps, "runs": args.runs,
              "precision": cfg["precision"], "cases": cases,
              "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                          "cpu_flags": sorted(f for f in cpu_flags() if "bf16" in f or "amx" in f), "gpu": "none"},
              "versions": {"tensorflow": tf.__version__, "keras": keras.__version__}}
    Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
