"""TF's weight-gradient kernel against `zoo.conv`'s dilated forward convolution, per layer and for the dcgan step;
writes bench/results/conv_weight_gradient.json.

    python bench/conv_weight_gradient.py [--rounds 5] [--steps 32] [--out bench/results/...json]

Protocol. Per layer: a stride-2 4x4 ``same`` `zoo.conv.Conv2D` or `Conv2DTranspose` at batch 128 (DCGAN's shapes,
and a sweep of the channel count on the weight gradient's batch side, which sets ``"auto"``'s `MIN_CHANNELS`), built
twice with the same weights, ``weight_gradient="native"`` and ``"dilated"``; one traced function per layer computes
its output and the gradient of ``sum(y^2)`` for the kernel alone (forward + weight gradient: what changes), in
float32 and in bfloat16 (the layers' dtype policy ``mixed_bfloat16``, as in training). 20 calls per timing; the two
kinds take turns for ``--rounds`` rounds, median. Step: bench/train_throughput.py's ``zoo_alternating``
configuration (dcgan ``default`` networks at 32x32x1, batch 128, steps_per_execution 8, its data pipeline) under
``mixed_bfloat16``, built twice with the same seed, once with every `zoo.conv` layer set to ``"native"``, once left at
``"auto"``; ``--steps`` steps per fit, the two take turns for ``--rounds`` rounds, median img/s and the process's
CPU seconds per wall second. Skipped (and said so) where the CPU has no bfloat16 units.
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
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from bench import train_throughput as tt  # noqa: E402
from trainers.precision import BF16_CPU_FLAGS, cpu_flags, resolve_precision  # noqa: E402
from zoo import conv  # noqa: E402

BATCH = 128
# (layer, input side, input channels, filters)
LAYERS = [("Conv2D", 32, 1, 64), ("Conv2D", 32, 8, 64), ("Conv2D", 32, 16, 64), ("Conv2D", 16, 32, 64),
          ("Conv2D", 16, 64, 128), ("Conv2D", 8, 128, 256),
          ("Conv2DTranspose", 4, 256, 128), ("Conv2DTranspose", 8, 128, 64), ("Conv2DTranspose", 16, 64, 16),
          ("Conv2DTranspose", 16, 64, 8), ("Conv2DTranspose", 16, 64, 1)]


def _layer_runs(kind, side, cin, filters, policy):
    """{weight_gradient: traced forward + kernel gradient}, the two layers holding the same weights."""
    x = tf.random.stateless_normal((BATCH, side, side, cin), (0, 1))
    runs, weights = {}, None
    for wg in ("native", "dilated"):
        layer = getattr(conv, kind)(filters, 4, strides=2, padding="same", use_bias=False, weight_gradient=wg,
                                    dtype=policy)
        layer.build(x.shape)
        if weights is None:
            weights = layer.get_weights()
        layer.set_weights(weights)

        @tf.function
        def run(layer=layer):
            with tf.GradientTape() as tape:
                y = tf.cast(layer(x), tf.float32)
                loss = tf.reduce_sum(y * y)
            return tape.gradient(loss, layer.kernel)
        runs[wg] = run
    a, b = (np.asarray(runs[k](), np.float64) for k in ("native", "dilated"))
    return runs, float(np.max(np.abs(a - b)) / np.max(np.abs(a)))


def _timed_calls(run, n=20):
    start = time.perf_counter()
    for _ in range(n):
        out = run()
    np.asarray(out)
    return (time.perf_counter() - start) / n * 1e3


def per_layer(policies, rounds):
    rows = []
    for kind, side, cin, filters in LAYERS:
        for policy in policies:
            runs, rel = _layer_runs(kind, side, cin, filters, policy)
            for run in runs.values():
                run(), run()  # trace, oneDNN primitive caches
            ms = {k: [] for k in runs}
            for _ in range(rounds):
                for k, run in runs.items():
                    ms[k].append(_timed_calls(run))
            med = {k: statistics.median(v) for k, v in ms.items()}
            batch_side = cin if kind == "Conv2D" else filters
            rows.append({"layer": kind, "input": [side, side, cin], "filters": filters, "policy": policy,
                         "weight_gradient_batch_side_channels": batch_side,
                         "ms_forward_plus_weight_gradient": {k: round(v, 2) for k, v in med.items()},
                         "native_over_dilated": round(med["native"] / med["dilated"], 3),
                         "max_rel_difference_of_gradients": f"{rel:.1e}"})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def step(rounds, steps):
    ds = tt._dataset(tt._data(BATCH), BATCH)
    models = {}
    for wg in ("native", "auto"):
        keras.utils.set_random_seed(0)
        models[wg] = tt._under("mixed_bfloat16", lambda: tt.make_zoo("alternating", 8))
        conv.set_weight_gradient([models[wg].generator, models[wg].discriminator], wg)
        models[wg].fit(ds, epochs=1, steps_per_epoch=16, verbose=0)  # trace and warm up
    ips, cores = {k: [] for k in models}, {k: [] for k in models}
    for _ in range(rounds):
        for k, model in models.items():
            wall, cpu = tt._timed(lambda: model.fit(ds, epochs=1, steps_per_epoch=steps, verbose=0))
            ips[k].append(steps * BATCH / wall)
            cores[k].append(cpu / wall)
    med = {k: statistics.median(v) for k, v in ips.items()}
    return {"img_per_s_median": {k: round(v, 1) for k, v in med.items()},
            "img_per_s_rounds": {k: [round(v, 1) for v in vs] for k, vs in ips.items()},
            "cpu_seconds_per_wall_second_median": {k: round(statistics.median(v), 2) for k, v in cores.items()},
            "auto_over_native": round(med["auto"] / med["native"], 3)}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=32)
    p.add_argument("--out", default=str(Path(__file__).parent / "results" / "conv_weight_gradient.json"))
    args = p.parse_args()
    bf16 = resolve_precision("auto").policy == "mixed_bfloat16"
    policies = ["float32"] + (["mixed_bfloat16"] if bf16 else [])
    result = {"protocol": __doc__.split("Protocol. ", 1)[1].strip(), "rounds": args.rounds,
              "min_channels_in_zoo_conv": conv.MIN_CHANNELS, "per_layer": per_layer(policies, args.rounds),
              "dcgan_step_mixed_bfloat16": step(args.rounds, args.steps) if bf16 else "skipped: no bfloat16 units",
              "machine": {"platform": platform.platform(), "processor": platform.processor(),
                          "cpu_flags": sorted(set(BF16_CPU_FLAGS) & cpu_flags())},
              "versions": {"tensorflow": tf.__version__, "keras": keras.__version__}}
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result["dcgan_step_mixed_bfloat16"]))


if __name__ == "__main__":
    main()
