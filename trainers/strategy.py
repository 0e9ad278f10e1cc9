"""Distribution strategies and the few places where Keras 3.15 needs help under them.

Facts this module encodes (``shared/KERAS3_NOTES.md``, each re-checked by ``tests/test_distribute.py``):

* Keras' TF optimizer all-reduces gradients with SUM, so a train step divides each replica's loss by
  ``num_replicas_in_sync`` inside the tape (:func:`replica_scale`).
* ``MultiWorkerMirroredStrategy`` + ``model.fit`` in Keras 3.15 fails on scalar logs
  ("Invalid reduction dimension 0 for input with 0 dimensions", tensorflow/tensorflow#72388,
  keras-team/keras#20329). :func:`distributed_logs` returns 1-element logs under that strategy only:
  the one place where the workaround lives.
"""
from __future__ import annotations

import json
import os

import tensorflow as tf

STRATEGIES = ("auto", "default", "mirrored", "multi_worker")


def get_strategy(name: str = "auto", devices=None) -> tf.distribute.Strategy:
    """Return a `tf.distribute.Strategy` by name.

    Args:
        name: ``"auto"`` (mirrored over all GPUs when there are several, else the default strategy),
            ``"default"`` (no distribution), ``"mirrored"`` (all GPUs, or all logical CPUs when there is
            no GPU, or ``devices``), ``"multi_worker"`` (``MultiWorkerMirroredStrategy`` from ``TF_CONFIG``).
        devices: optional device list for ``"mirrored"``.
    """
    if name not in STRATEGIES:
        raise ValueError(f"Unknown strategy {name!r}. Known strategies: {', '.join(STRATEGIES)}.")
    if name == "multi_worker":
        # Before anything lists devices: collective ops must be configured at program startup.
        if "TF_CONFIG" not in os.environ:
            raise ValueError(
                "Strategy 'multi_worker' needs the TF_CONFIG environment variable describing the cluster, e.g. "
                '{"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": "worker", "index": 0}}.'
            )
        json.loads(os.environ["TF_CONFIG"])  # fail early on malformed JSON
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_logical_devices("GPU")
    if name == "auto":
        return tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        if devices is None and not gpus:
            devices = [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=devices)


def split_cpu(n: int) -> None:
    """Split the physical CPU into `n` logical devices (call before TensorFlow initialises).

    Lets ``MirroredStrategy`` run real all-reduces on a CPU-only machine (tests, CI).
    """
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * n)


def num_replicas() -> int:
    return tf.distribute.get_strategy().num_replicas_in_sync


def resolve_sync(sync_batchnorm) -> bool:
    """``"auto"`` -> synchronized BatchNorm only when built under a strategy with more than one replica."""
    if sync_batchnorm == "auto":
        return num_replicas() > 1
    if not isinstance(sync_batchnorm, bool):
        raise ValueError(f"sync_batchnorm must be True, False or 'auto', got {sync_batchnorm!r}.")
    return sync_batchnorm


def replica_scale(loss):
    """Per-replica loss for SUM-all-reduced gradients: ``loss / num_replicas_in_sync``."""
    return loss / tf.cast(num_replicas(), loss.dtype)


def is_multi_worker() -> bool:
    return isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy)


def is_chief() -> bool:
    """True on the process that should write files: always without a cluster; in a ``TF_CONFIG`` cluster, the
    ``chief`` task, or worker 0 when there is no chief (TF's convention).

    Read from ``TF_CONFIG`` rather than from the strategy in scope, so the answer is the same inside and outside
    ``strategy.scope()`` (callbacks run outside it, where ``tf.distribute.get_strategy()`` is the default strategy,
    and every worker would think it is the chief)."""
    if "TF_CONFIG" not in os.environ:
        return True
    config = json.loads(os.environ["TF_CONFIG"])
    task, cluster = config.get("task", {}), config.get("cluster", {})
    task_type, index = task.get("type"), int(task.get("index", 0))
    if task_type is None or task_type == "chief":
        return True
    return task_type == "worker" and index == 0 and "chief" not in cluster


def distributed_logs(logs: dict) -> dict:
    """Logs that `model.fit` can reduce: 1-element tensors under MultiWorkerMirroredStrategy."""
    if is_multi_worker():
        return {k: tf.reshape(v, [1]) for k, v in logs.items()}
    return logs


def replica_slice(sample_fn, per_replica_batch):
    """Draw one global batch with `sample_fn(global_batch)` and keep this replica's slice of it.

    Under a strategy with n replicas, replica r gets rows ``[r * b, (r + 1) * b)`` of the draw a single
    device would make for the global batch ``n * b``: the same noise reaches the same examples whatever
    the number of replicas, which is what makes 1-device and n-replica training give equal weights.
    """
    ctx = tf.distribute.get_replica_context()
    if ctx is None or ctx.num_replicas_in_sync == 1:
        return sample_fn(per_replica_batch)
    n = ctx.num_replicas_in_sync
    rid = tf.cast(ctx.replica_id_in_sync_group, tf.int32)
    full = sample_fn(per_replica_batch * n)
    return full[rid * per_replica_batch:(rid + 1) * per_replica_batch]
