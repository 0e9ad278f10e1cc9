"""Where the dcgan train step's time goes, op by op: writes bench/results/step_profile.json.

    python bench/step_profile.py [--precision mixed_bfloat16] [--update alternating] [--steps 8]

Protocol: bench/train_throughput.py's ``zoo_<update>`` configuration (dcgan ``default`` networks at 32x32x1, batch
128, steps per execution 1, its data pipeline) under `--precision`, warmed up by a 6-step fit, then one fit of
`--steps` steps under TensorFlow's profiler (``tf.profiler.experimental``). From the trace (``*.xplane.pb``, read
with TensorFlow's own ``xplane_pb2``) every kernel event on TF's compute threads (``tf_Compute*``) is summed per op
type and per (network call, op type); the network call is the name scope Keras gives each call of a model
(``discriminator_1``: the first traced call). Times are op wall time summed over threads, per step: two kernels
running at once on the 2 cores both count, so the sum exceeds the step's wall time. The function-call events
(``Process``) that enclose the kernels are left out.
"""
from __future__ import annotations

import argparse
import collections
import glob
import json
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tensorflow as tf  # noqa: E402
from tensorflow.tsl.profiler.protobuf import xplane_pb2  # noqa: E402

import train_throughput as tt  # noqa: E402
from trainers.precision import cpu_flags  # noqa: E402

CALL = re.compile(r"(?:^|/)((?:generator|discriminator)(?:_\d+)?)/")


def kernel_times(xplane: Path) -> tuple[collections.Counter, collections.Counter]:
    """Seconds per op type and per (network call, gradient or forward, op type) in one trace."""
    space = xplane_pb2.XSpace()
    space.ParseFromString(xplane.read_bytes())
    by_type, by_call = collections.Counter(), collections.Counter()
    for plane in space.planes:
        for line in plane.lines:
            if not line.name.startswith("tf_Compute"):
                continue
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                if ":" not in name:
                    continue
                op = name.rsplit(":", 1)[1]
                if op == "Process":
                    continue
                seconds = event.duration_ps * 1e-12
                by_type[op] += seconds
                call = CALL.search(name)
                if call:
                    by_call[(call.group(1), "gradient" if "gradient_tape" in name else "forward", op)] += seconds
    return by_type, by_call


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--precision", default="mixed_bfloat16")
    p.add_argument("--update", default="alternating", choices=("alternating", "simultaneous"))
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "step_profile.json"))
    args = p.parse_args(argv)

    batch = 128
    model = tt._under(args.precision, lambda: tt.make_zoo(args.update, 1))
    ds = tt._dataset(tt._data(batch), batch)
    model.fit(ds, epochs=1, steps_per_epoch=6, verbose=0)
    logdir = tempfile.mkdtemp(prefix="zoo-step-profile-")
    tf.profiler.experimental.start(logdir)
    start = time.perf_counter()
    model.fit(ds, epochs=1, steps_per_epoch=args.steps, verbose=0)
    wall = (time.perf_counter() - start) / args.steps
    tf.profiler.experimental.stop()
    by_type, by_call = kernel_times(Path(glob.glob(f"{logdir}/**/*.xplane.pb", recursive=True)[0]))
    total = sum(by_type.values())
    conv = sum(v for k, v in by_type.items() if "Conv2D" in k)
    ms = lambda s: round(s / args.steps * 1000, 2)  # noqa: E731
    result = {"protocol": __doc__.split("\n\n", 2)[2].strip(), "precision": args.precision, "update": args.update,
              "batch": batch, "steps": args.steps,
              "step_wall_ms_under_profiler": round(wall * 1000, 1),
              "kernel_ms_per_step_summed_over_threads": ms(total),
              "convolution_share_of_kernel_time": round(conv / total, 3),
              "ms_per_step_by_op_type": {k: ms(v) for k, v in by_type.most_common()},
              "ms_per_step_by_call": {"/".join(k): ms(v) for k, v in sorted(by_call.items())},
              "machine": {"platform": platform.platform(), "cpu_flags": sorted(
                  f for f in cpu_flags() if "bf16" in f or "amx" in f)},
              "versions": {"tensorflow": tf.__version__}}
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k not in ("protocol", "ms_per_step_by_call")}, indent=1))


if __name__ == "__main__":
    main()
