"""What exact resume costs in training throughput: writes bench/results/resume.json.

    python bench/resume.py [--seconds 60] [--rounds 2]

One process, dcgan ``default`` on Fashion-MNIST 32x32 (batch 64, the config's), one compiled model. Segments of
``--seconds`` of training (``model.fit`` of a fixed number of steps, sized from a warm-up) run interleaved, round
after round, in these conditions:

* ``none``: the step-addressed stream (`zoo.load_dataset(..., repeat=True)`), no backup;
* ``backup_10s``: the same with `trainers.resume.ExactBackup` every 10 s (6x more often than the default);
* ``hooks_only``: `ExactBackup` with ``every="epoch"``: its per-step hooks run, it writes nothing inside the
  segment (a callback with batch hooks changes how Keras' loop runs, so this is the fair baseline of the write
  cost: ``backup_10s / hooks_only``);
* ``before``: the stream the zoo used before exact resume (per-example cache, 10,000-example shuffle buffer
  reshuffled each pass, ``repeat``), no backup: what the step-addressed stream costs or saves.

Throughput = images / wall-clock of the segment; ratios are of the medians over rounds (the fit of each segment
ends with one epoch-end backup in the two ExactBackup conditions; it is inside their wall-clock). The cost of a backup
at the default interval (`trainers.resume.DEFAULT_EVERY`, 60 s) is the median write time over the 10 s segments'
writes divided by (60 s + that time): a kill loses at most one interval's work, and a write stalls training for
its duration. The alternative to a step-addressed stream, checkpointing the tf.data iterator, is measured beside
it: bytes and seconds to save an iterator of the ``before`` pipeline (its shuffle buffer is state to save).
"""
import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import zoo  # noqa: E402
from trainers.resume import DEFAULT_EVERY, ExactBackup, parse_every  # noqa: E402
from zoo.data import _to_unit, arrays  # noqa: E402
from zoo_app.fit import build_compiled  # noqa: E402

BATCH = 64


def before_stream(seed=0):
    """The zoo's training stream before exact resume (zoo.data.load_dataset of that version, repeat=True)."""
    x, _ = arrays.fashion_mnist("train")
    ds = tf.data.Dataset.from_tensor_slices(x).map(lambda a: _to_unit(a, 32), num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.cache().shuffle(10_000, seed=seed, reshuffle_each_iteration=True).repeat()
    # tf.data's autotuning off, as load_dataset's streams now are: with it on, a fit without callbacks sometimes
    # ran with one core idle (bench/data_autotune.py), which would be charged to the stream
    return ds.batch(BATCH, drop_remainder=True).prefetch(tf.data.AUTOTUNE).with_options(zoo.data.pipeline_options())


def iterator_checkpoint_cost(ds, steps=50):
    """Bytes and seconds of one tf.train.Checkpoint save of an iterator of `ds` after `steps` batches."""
    it = iter(ds)
    for _ in range(steps):
        next(it)
    directory = tempfile.mkdtemp()
    ckpt = tf.train.Checkpoint(iterator=it)
    started = time.perf_counter()
    path = ckpt.write(os.path.join(directory, "it"))
    seconds = time.perf_counter() - started
    size = sum(f.stat().st_size for f in Path(directory).iterdir())
    shutil.rmtree(directory)
    return {"bytes": size, "seconds": seconds, "path_written": bool(path)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "resume.json"))
    args = ap.parse_args()
    model, _ = build_compiled("dcgan", "default")
    streams = {"none": zoo.load_dataset("fashion_mnist", batch_size=BATCH, image_size=32, repeat=True, seed=0),
               "before": before_stream()}
    streams["backup_10s"] = streams["hooks_only"] = streams["none"]
    for _ in streams["before"].take(60_000 // BATCH + 1):  # the old stream's cache filled, as after its 1st pass
        pass
    started = time.perf_counter()
    model.fit(streams["none"], epochs=1, steps_per_epoch=20, verbose=0)  # trace
    started = time.perf_counter()
    model.fit(streams["none"], epochs=1, steps_per_epoch=20, verbose=0)
    steps = max(10, int(args.seconds / ((time.perf_counter() - started) / 20)))
    results = {name: [] for name in ("none", "backup_10s", "hooks_only", "before")}
    writes = []
    for _ in range(args.rounds):
        for name in results:
            callbacks, backup_dir = [], None
            if name in ("backup_10s", "hooks_only"):
                backup_dir = tempfile.mkdtemp()
                callbacks = [ExactBackup(backup_dir, every="10s" if name == "backup_10s" else "epoch")]
            t = time.perf_counter()
            model.fit(streams[name], epochs=1, steps_per_epoch=steps, verbose=0, callbacks=callbacks)
            results[name].append(steps * BATCH / (time.perf_counter() - t))
            if name == "backup_10s":
                writes += callbacks[0].writes[:-1]  # the last is the epoch end's: outside the interval's count
            if backup_dir:
                shutil.rmtree(backup_dir)
    median = {k: float(np.median(v)) for k, v in results.items()}
    write = float(np.median(writes))
    default_seconds = parse_every(DEFAULT_EVERY)[1]
    record = {
        "protocol": __doc__.strip().splitlines()[0] + f" Segments of {steps} steps (~{args.seconds:.0f} s), "
                    f"{args.rounds} rounds interleaved, batch {BATCH}, dcgan default, Fashion-MNIST 32x32, float32.",
        "machine": f"{platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs, CPU only",
        "versions": {"tensorflow": tf.__version__},
        "steps_per_segment": steps,
        "images_per_s": results,
        "median_images_per_s": median,
        "backup_10s_over_none": median["backup_10s"] / median["none"],
        "backup_10s_over_hooks_only": median["backup_10s"] / median["hooks_only"],
        "step_addressed_over_before": median["none"] / median["before"],
        "backup_write_seconds": {"median": write, "max": float(np.max(writes)), "n": len(writes)},
        "default_interval_s": default_seconds,
        "default_interval_cost": write / (default_seconds + write),
        "iterator_checkpoint_of_before_stream": iterator_checkpoint_cost(streams["before"]),
        "step_addressed_stream_state": "one integer (the global step) in the backup's meta.json",
    }
    Path(args.out).write_text(json.dumps(record, indent=1))
    print(json.dumps({k: record[k] for k in ("median_images_per_s", "backup_10s_over_none",
                                              "backup_10s_over_hooks_only",
                                              "step_addressed_over_before", "backup_write_seconds",
                                              "default_interval_cost", "iterator_checkpoint_of_before_stream")},
                     indent=1))


if __name__ == "__main__":
    main()
