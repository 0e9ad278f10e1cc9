"""``precision="auto"``: the mixed-precision policy this machine's hardware runs fastest, detected, never assumed.

* A GPU of compute capability >= 7.0 (tensor cores): ``mixed_float16`` (the optimizers get a loss scale,
  `trainers.steps.loss_scaled`).
* An x86 CPU with bfloat16 units (``avx512_bf16`` or ``amx_bf16`` in ``/proc/cpuinfo``) and TensorFlow's oneDNN
  kernels on: ``mixed_bfloat16``. oneDNN runs bfloat16 convolutions and matmuls on those units (about 3.4x and 2.2x
  float32 on the project's machine, ``shared/KERAS3_NOTES.md``); without them, or with ``TF_ENABLE_ONEDNN_OPTS=0``,
  bfloat16 is emulated and slower than float32.
* Anything else: ``float32``.

Under a mixed policy the zoo keeps in float32 what bfloat16 would hurt: variables and optimizer state (Keras' mixed
policies), the networks' output layers and so every loss, the gradient penalty (`trainers.losses.gradient_penalty`
casts its interpolates and the critic's outputs), BatchNorm statistics (`zoo.layers.BatchNormalization` keeps
them in float32) and the minibatch standard deviation (`zoo.growing.layers`).
"""
from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass

PRECISIONS = ("auto", "float32", "mixed_float16", "mixed_bfloat16")
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


@dataclass(frozen=True)
class Precision:
    """A resolved precision: the Keras dtype policy, what was asked, and why (written to ``run.json``)."""
    policy: str
    requested: str
    reason: str

    def record(self) -> dict:
        return asdict(self)


def _cpuinfo(field: str, path="/proc/cpuinfo") -> str | None:
    """The first ``field : value`` of ``/proc/cpuinfo`` (None where there is none)."""
    try:
        with open(path) as f:
            for line in f:
                if line.split(":", 1)[0].strip() == field:
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_flags(path="/proc/cpuinfo") -> set:
    """The CPU feature flags the kernel reports (empty where there is no ``/proc/cpuinfo``)."""
    return set((_cpuinfo("flags", path) or "").split())


def cpu_model(path="/proc/cpuinfo") -> str:
    """The CPU's model name as the kernel reports it (``platform.machine()`` where there is none)."""
    import platform

    return _cpuinfo("model name", path) or platform.machine()


def onednn_enabled() -> bool:
    """TensorFlow's oneDNN kernels: on by default for x86 Linux builds since TF 2.9, off with
    ``TF_ENABLE_ONEDNN_OPTS=0``."""
    return os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1").strip().lower() not in ("0", "false")


def gpu_compute_capabilities() -> list:
    """``(major, minor)`` of every visible GPU (an empty list on CPU-only machines)."""
    import tensorflow as tf  # here, so that the CLI can list PRECISIONS before TensorFlow starts

    caps = []
    for gpu in tf.config.list_physical_devices("GPU"):
        cap = tf.config.experimental.get_device_details(gpu).get("compute_capability")
        if cap:
            caps.append(tuple(int(c) for c in cap))
    return caps


def resolve_precision(requested: str = "auto", *, float32_because=None, flags=None, gpus=None,
                      machine=None) -> Precision:
    """The dtype policy for `requested`: itself when it names one, the detected best for ``"auto"``.

    `float32_because`: a reason to keep ``"auto"`` at float32 whatever the hardware (a model too small for mixed
    precision to pay). `flags`, `gpus` and `machine` override the detection (CPU flags, GPU compute capabilities,
    ``platform.machine()``).
    """
    if requested not in PRECISIONS:
        raise ValueError(f"Unknown precision {requested!r}. Known: {', '.join(PRECISIONS)}.")
    if requested != "auto":
        return Precision(requested, requested, "asked for")
    if float32_because:
        return Precision("float32", requested, float32_because)
    gpus = gpu_compute_capabilities() if gpus is None else list(gpus)
    if gpus:
        if min(gpus) >= (7, 0):
            return Precision("mixed_float16", requested, f"GPU compute capability {min(gpus)} >= 7.0 (tensor cores)")
        return Precision("float32", requested, f"GPU compute capability {min(gpus)} < 7.0: no tensor cores")
    machine = (machine or platform.machine()).lower()
    found = sorted(set(BF16_CPU_FLAGS) & (cpu_flags() if flags is None else set(flags)))
    if machine in ("x86_64", "amd64") and found:
        if onednn_enabled():
            return Precision("mixed_bfloat16", requested, f"CPU has {' and '.join(found)}, oneDNN on")
        return Precision("float32", requested, f"CPU has {' and '.join(found)} but TF_ENABLE_ONEDNN_OPTS=0 turns "
                                               "oneDNN's bfloat16 kernels off")
    return Precision("float32", requested, f"{machine} CPU without {' or '.join(BF16_CPU_FLAGS)}")
