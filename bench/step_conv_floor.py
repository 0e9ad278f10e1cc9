"""How fast the dcgan step could get with its convolutions as they are, against PyTorch's step on the same networks:
writes bench/results/step_conv_floor.json.

    python bench/step_conv_floor.py [--rounds 5] [--steps 32] [--out bench/results/step_conv_floor.json]

Protocol: bench/train_throughput.py's ``zoo_alternating`` configuration (dcgan ``default`` networks at 32x32x1,
batch 128, steps per execution 8) under ``auto`` precision (`trainers.precision`), and its PyTorch loop on the
same networks at the same precision (bfloat16 autocast where ``auto`` picks bfloat16). The zoo's train step is
traced (`tf.function` of ``train_step``, as Keras traces it) and every convolution op the step runs is listed (the
ops its outputs and its variable updates depend on; TF's Conv2D gradient also builds gradients nothing reads, which
grappler prunes): ``Conv2D`` (forward passes, `zoo.conv`'s dilated weight gradients, the input gradients of
transposed convolutions), ``Conv2DBackpropInput`` (input gradients; transposed convolutions' forward passes) and
``Conv2DBackpropFilter`` (TF's weight gradients). Each distinct (op, shapes, dtype, attributes) is then timed
alone, with TensorFlow's kernels for it (oneDNN's on this CPU), on random inputs: 10 calls per timing, each on an
input that depends on the one before (so grappler cannot merge them), median of 5 timings. The sum over the step's
ops, each counted as often as the step runs it, is the step's **convolution floor**: the time the step would take
if every other op were free and every convolution ran as fast as it does alone. Then the zoo's step, PyTorch's and
the zoo's step in float32 take turns (``--rounds`` rounds of ``--steps`` timed steps each, after ``--warmup``
untimed steps each; median round). The matmul form of `zoo.conv`'s one-channel transposed convolutions (a MatMul
and an overlap-add) is not a convolution op and is not in the floor. ``zoo / PyTorch = 1.5x`` asks the zoo's step
for PyTorch's step time / 1.5; the ratio the floor allows is PyTorch's step time / the floor, and ``auto`` /
float32 at the floor is the float32 step's time / the floor.
"""
from __future__ import annotations

import argparse
import collections
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import train_throughput as tt  # noqa: E402
from trainers.precision import resolve_precision  # noqa: E402

CONVOLUTIONS = ("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter")
ATTRS = ("strides", "padding", "explicit_paddings", "dilations", "data_format")


def step_convolutions(model, batch):
    """Counter of (op type, input shapes, dtype, attributes) over the convolution ops of ``model``'s traced step."""
    graph = tf.function(model.train_step).get_concrete_function(
        tf.TensorSpec([batch, tt.IMAGE, tt.IMAGE, tt.CH], tf.float32)).graph
    # only the ops the step runs: TF's Conv2D gradient builds both gradients, and the one nothing reads (the
    # kernel's, where zoo.conv computes it; the input's, for an image) is pruned before the step runs
    live = {n.name for n in tf.compat.v1.graph_util.extract_sub_graph(
        graph.as_graph_def(), [t.op.name for t in graph.outputs] + [op.name for op in graph.control_outputs]).node}
    found = collections.Counter()
    for op in graph.get_operations():
        if op.type not in CONVOLUTIONS or op.name not in live:
            continue
        sizes = {"Conv2DBackpropInput": 0, "Conv2DBackpropFilter": 1}.get(op.type)  # an input that is a shape
        shapes = tuple(tuple(op.outputs[0].shape) if i == sizes else tuple(t.shape) for i, t in enumerate(op.inputs))
        attrs = tuple((a, tuple(v) if isinstance(v, list) else v.decode() if isinstance(v, bytes) else v)
                      for a, v in ((a, op.get_attr(a)) for a in ATTRS))
        found[(op.type, shapes, op.get_attr("T").name, attrs)] += 1
    return found


def time_alone(kind, shapes, dtype, attrs, reps=10, timings=5) -> tuple[float, float]:
    """(seconds per call, FLOPs per call) of one convolution op alone (module docstring's protocol)."""
    kw = {k: list(v) if isinstance(v, tuple) else v for k, v in attrs}
    dt = tf.as_dtype(dtype)
    rand = lambda s: tf.cast(tf.random.normal(s) * 0.1, dt)  # noqa: E731
    if kind == "Conv2D":
        x, w = rand(shapes[0]), rand(shapes[1])
        call = lambda v: tf.raw_ops.Conv2D(input=v, filter=w, **kw)  # noqa: E731
        varied = x
    elif kind == "Conv2DBackpropInput":
        sizes, w, dy = shapes
        w, dy = rand(w), rand(dy)
        call = lambda v: tf.raw_ops.Conv2DBackpropInput(input_sizes=sizes, filter=w, out_backprop=v, **kw)  # noqa
        varied = dy
    else:
        x, sizes, dy = shapes
        x, dy = rand(x), rand(dy)
        call = lambda v: tf.raw_ops.Conv2DBackpropFilter(input=x, filter_sizes=sizes, out_backprop=v, **kw)  # noqa
        varied = dy

    @tf.function
    def run(v):
        acc = tf.zeros([], tf.float32)
        for _ in range(reps):
            acc += tf.cast(tf.reshape(call(v + tf.cast(acc * 0, dt)), [-1])[0], tf.float32)
        return acc

    run(varied)
    seconds = []
    for _ in range(timings):
        start = time.perf_counter()
        run(varied).numpy()
        seconds.append((time.perf_counter() - start) / reps)
    # FLOPs: 2 x every (output element, kernel tap, input channel) product of the forward convolution it belongs to
    # for the gradient ops that forward convolution's output is out_backprop
    out, kernel = (call(varied).shape, shapes[1]) if kind == "Conv2D" else (
        dy.shape, w.shape if kind == "Conv2DBackpropInput" else sizes)
    return statistics.median(seconds), 2.0 * float(np.prod(out) * np.prod(kernel[:3]))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=32)
    p.add_argument("--warmup", type=int, default=128, help="untimed steps of each run first")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "step_conv_floor.json"))
    args = p.parse_args(argv)
    keras.utils.set_random_seed(0)
    precision = resolve_precision("auto")
    model = tt._under(precision.policy, lambda: tt.make_zoo("alternating", 8))
    ops = []
    for (kind, shapes, dtype, attrs), count in step_convolutions(model, args.batch).items():
        seconds, op_flops = time_alone(kind, shapes, dtype, attrs)
        ops.append({"op": kind, "shapes": shapes, "dtype": dtype, "attrs": dict(attrs), "count_per_step": count,
                    "ms": round(seconds * 1e3, 3), "gflop_per_s": round(op_flops / seconds / 1e9, 1)})
        print(kind, shapes, count, f"{seconds * 1e3:.2f} ms", flush=True)
    floor = sum(o["ms"] * o["count_per_step"] for o in ops) / 1e3

    ds = tt._dataset(tt._data(args.batch), args.batch)
    try:
        torch_run, torch_version = tt.torch_runner(args.batch, tt._data(args.batch), precision.policy != "float32")
    except ImportError as e:
        raise SystemExit(f"step_conv_floor compares with PyTorch, which is not installed ({e}). Install the bench "
                         "extra's CPU build: pip install -e '.[bench]' --extra-index-url "
                         "https://download.pytorch.org/whl/cpu") from e
    float32 = tt._under("float32", lambda: tt.make_zoo("alternating", 8))
    runs = {"zoo": lambda steps: model.fit(ds, epochs=1, steps_per_epoch=steps, verbose=0),
            "torch": torch_run,
            "zoo_float32": lambda steps: float32.fit(ds, epochs=1, steps_per_epoch=steps, verbose=0)}
    for run in runs.values():
        run(args.warmup)  # PyTorch's bf16 loop took ~100 steps to reach its speed
    wall, _ = tt.interleaved(runs, args.rounds, args.steps)
    rounds = {k: [w / args.steps for w in v] for k, v in wall.items()}
    step = {k: statistics.median(v) for k, v in rounds.items()}
    ms = lambda s: round(s * 1e3, 1)  # noqa: E731
    result = {
        "summary": {
            "zoo_step_ms": ms(step["zoo"]), "torch_step_ms": ms(step["torch"]),
            "zoo_over_torch": round(step["torch"] / step["zoo"], 3),
            "convolution_floor_ms": ms(floor),
            "floor_share_of_zoo_step": round(floor / step["zoo"], 3),
            "zoo_step_ms_for_1_5x_torch": ms(step["torch"] / 1.5),
            "zoo_over_torch_at_the_floor": round(step["torch"] / floor, 3),
            "zoo_over_zoo_float32": round(step["zoo_float32"] / step["zoo"], 3),
            "zoo_over_zoo_float32_at_the_floor": round(step["zoo_float32"] / floor, 3),
            "fastest_convolution_gflop_per_s": max(o["gflop_per_s"] for o in ops),
        },
        "step_ms_per_round": {k: [ms(s) for s in v] for k, v in rounds.items()},
        "convolutions": sorted(ops, key=lambda o: -o["ms"] * o["count_per_step"]),
        "protocol": {"doc": __doc__.split("\n\n", 2)[2].strip(), "batch": args.batch, "rounds": args.rounds,
                     "warmup_steps": args.warmup,
                     "timed_steps_per_round": args.steps, "precision": precision.record()},
        "machine": tt.machine(),
        "versions": {"torch": torch_version},
    }
    tt.write(args.out, result, "summary")


if __name__ == "__main__":
    main()
