"""TF's convolution kernels against `zoo.conv`'s forms, per layer and for the dcgan step, for one of its options:
writes bench/results/conv_<option>.json.

    python bench/conv_forms.py [--option weight_gradient|narrow_transpose] [--rounds 5] [--steps 32]

Protocol. Per layer: a stride-2 4x4 ``same`` `zoo.conv.Conv2D` or `Conv2DTranspose` at batch 128 (DCGAN's shapes,
and a sweep of the channel count that sets ``"auto"``'s rule: for ``weight_gradient`` the channels on the weight
gradient's batch side, `MIN_CHANNELS`; for ``narrow_transpose`` the channels the transposed convolution ends in),
built once per form of the option (``"native"``: TF's kernel; ``"dilated"`` or ``"matmul"``) with the same
weights; one traced function per layer computes its output and the gradient of ``sum(y^2)`` for what the option
changes: the kernel (``weight_gradient``: forward + weight gradient), or the input and the kernel
(``narrow_transpose``: the whole layer), in float32 and in bfloat16 (the layers' dtype policy ``mixed_bfloat16``,
as in training). 20 calls per timing; the forms take turns for ``--rounds`` rounds, median. Step:
bench/train_throughput.py's ``zoo_alternating`` configuration (dcgan ``default`` networks at 32x32x1, batch 128,
steps_per_execution 8, its data pipeline) under ``mixed_bfloat16`` (and float32 for ``narrow_transpose``, which
``"auto"`` takes in both), built twice with the same seed, once with the option set to ``"native"`` on every
`zoo.conv` layer, once left at ``"auto"``; ``--steps`` steps per fit, the two take turns for ``--rounds`` rounds,
median img/s and the process's CPU seconds per wall second. bfloat16 is skipped (and said so) where the CPU has no
bfloat16 units.
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
# option -> (its form other than "native", what the timed gradient is taken for, the layers:
#            (layer, input side, input channels, filters))
OPTIONS = {
    "weight_gradient": ("dilated", "weight_gradient", [
        ("Conv2D", 32, 1, 64), ("Conv2D", 32, 8, 64), ("Conv2D", 32, 16, 64), ("Conv2D", 16, 32, 64),
        ("Conv2D", 16, 64, 128), ("Conv2D", 8, 128, 256), ("Conv2DTranspose", 4, 256, 128),
        ("Conv2DTranspose", 8, 128, 64), ("Conv2DTranspose", 16, 64, 16), ("Conv2DTranspose", 16, 64, 8),
        ("Conv2DTranspose", 16, 64, 1)]),
    "narrow_transpose": ("matmul", "gradients", [
        ("Conv2D", 32, 1, 64), ("Conv2D", 32, 3, 64), ("Conv2D", 64, 1, 32), ("Conv2DTranspose", 16, 64, 1),
        ("Conv2DTranspose", 32, 32, 1), ("Conv2DTranspose", 16, 64, 3), ("Conv2DTranspose", 32, 32, 3),
        ("Conv2DTranspose", 16, 64, 4), ("Conv2DTranspose", 16, 64, 8)]),
}


def _layer_runs(option, kind, side, cin, filters, policy):
    """{form: traced forward + gradients}, the layers holding the same weights; and the forms' largest difference
    in those gradients, relative to their largest entry."""
    form, _, _ = OPTIONS[option]
    x = tf.random.stateless_normal((BATCH, side, side, cin), (0, 1))
    runs, weights = {}, None
    for value in ("native", form):
        layer = getattr(conv, kind)(filters, 4, strides=2, padding="same", use_bias=False, dtype=policy,
                                    **{option: value})
        layer.build(x.shape)
        if weights is None:
            weights = layer.get_weights()
        layer.set_weights(weights)

        @tf.function
        def run(layer=layer):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = tf.cast(layer(x), tf.float32)
                loss = tf.reduce_sum(y * y)
            if option == "weight_gradient":
                return [tape.gradient(loss, layer.kernel)]
            return tape.gradient(loss, [x, layer.kernel])
        runs[value] = run
    pairs = zip(*(runs[k]() for k in ("native", form)))
    return runs, max(float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))) /
                           np.max(np.abs(np.asarray(a, np.float64)))) for a, b in pairs)


def _timed_calls(run, n=20):
    start = time.perf_counter()
    for _ in range(n):
        out = run()
    [np.asarray(o) for o in out]  # wait for the results
    return (time.perf_counter() - start) / n * 1e3


def per_layer(option, policies, rounds):
    form, timed, layers = OPTIONS[option]
    rows = []
    for kind, side, cin, filters in layers:
        for policy in policies:
            runs, rel = _layer_runs(option, kind, side, cin, filters, policy)
            for run in runs.values():
                run(), run()  # trace, oneDNN primitive caches
            ms = {k: [] for k in runs}
            for _ in range(rounds):
                for k, run in runs.items():
                    ms[k].append(_timed_calls(run))
            med = {k: statistics.median(v) for k, v in ms.items()}
            channels = cin if kind == "Conv2D" else filters  # the weight gradient's batch; the transpose's end
            rows.append({"layer": kind, "input": [side, side, cin], "filters": filters, "policy": policy,
                         f"{option}_channels": channels,
                         f"ms_forward_plus_{timed}": {k: round(v, 2) for k, v in med.items()},
                         f"native_over_{form}": round(med["native"] / med[form], 3),
                         "max_rel_difference_of_gradients": f"{rel:.1e}"})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def step(option, policy, rounds, steps):
    ds = tt._dataset(tt._data(BATCH), BATCH)
    models = {}
    for value in ("native", "auto"):
        keras.utils.set_random_seed(0)
        models[value] = tt._under(policy, lambda: tt.make_zoo("alternating", 8))
        conv.configure([models[value].generator, models[value].discriminator], **{option: value})
        models[value].fit(ds, epochs=1, steps_per_epoch=16, verbose=0)  # trace and warm up
    wall, cpu = tt.interleaved({k: lambda n, m=m: m.fit(ds, epochs=1, steps_per_epoch=n, verbose=0)
                                for k, m in models.items()}, rounds, steps)
    ips = {k: [steps * BATCH / w for w in v] for k, v in wall.items()}
    cores = {k: [c / w for c, w in zip(cpu[k], v)] for k, v in wall.items()}
    med = {k: statistics.median(v) for k, v in ips.items()}
    result = {"img_per_s_median": {k: round(v, 1) for k, v in med.items()},
              "img_per_s_rounds": {k: [round(v, 1) for v in vs] for k, vs in ips.items()},
              "cpu_seconds_per_wall_second_median": {k: round(statistics.median(v), 2) for k, v in cores.items()},
              "auto_over_native": round(med["auto"] / med["native"], 3)}
    print(policy, json.dumps(result), flush=True)
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--option", default="weight_gradient", choices=sorted(OPTIONS))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=32)
    p.add_argument("--out", help="default: bench/results/conv_<option>.json")
    args = p.parse_args()
    out = args.out or str(Path(__file__).parent / "results" / f"conv_{args.option}.json")
    bf16 = resolve_precision("auto").policy == "mixed_bfloat16"
    policies = ["float32"] + (["mixed_bfloat16"] if bf16 else [])
    steps = {f"dcgan_step_{policy}": step(args.option, policy, args.rounds, args.steps)
             for policy in (policies if args.option == "narrow_transpose" else policies[1:])}
    result = {"protocol": __doc__.split("Protocol. ", 1)[1].strip(), "option": args.option, "rounds": args.rounds,
              "min_channels_in_zoo_conv": conv.MIN_CHANNELS,
              "per_layer": per_layer(args.option, policies, args.rounds), **steps,
              **({} if bf16 else {"dcgan_step_mixed_bfloat16": "skipped: no bfloat16 units"}),
              "machine": {"platform": platform.platform(), "processor": platform.processor(),
                          "cpu_flags": sorted(set(BF16_CPU_FLAGS) & cpu_flags())},
              "versions": {"tensorflow": tf.__version__, "keras": keras.__version__}}
    Path(out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(steps))


if __name__ == "__main__":
    main()
