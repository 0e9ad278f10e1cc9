"""A metric result with the protocol that produced it, appendable to a JSONL file."""
from __future__ import annotations

import dataclasses
import datetime
import json
import os
import platform
from pathlib import Path


def machine() -> str:
    """e.g. ``"x86_64, 2 CPU cores, no GPU"`` (plus GPU names when TensorFlow sees some)."""
    try:
        import tensorflow as tf

        gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
    except Exception:  # pragma: no cover - TF missing
        gpus = []
    gpu = f"{len(gpus)} GPU" if gpus else "no GPU"
    return f"{platform.machine()}, {os.cpu_count()} CPU cores, {gpu}"


@dataclasses.dataclass
class MetricRecord:
    """One number and how it was measured.

    ``protocol`` always has ``feature_network``, ``feature_sha256``, ``n_real``, ``n_fake``, ``split``,
    ``seed`` and ``machine`` (None where a field does not apply, e.g. no feature network for 2-D metrics).
    """

    metric: str
    value: float
    protocol: dict
    details: dict = dataclasses.field(default_factory=dict)
    timestamp: str = dataclasses.field(
        default_factory=lambda: datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def append_jsonl(self, path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as f:
            f.write(json.dumps(self.to_dict(), default=float) + "\n")
        return path

    def __str__(self):
        p = self.protocol
        extra = "".join(f", {k} {v:.4f}" for k, v in self.details.items() if isinstance(v, float))
        return (f"{self.metric} = {self.value:.4f}{extra} (features: {p.get('feature_network')}, real {p.get('n_real')}, "
                f"fake {p.get('n_fake')}, split {p.get('split')}, seed {p.get('seed')}, {p.get('machine')})")


def protocol(feature_network=None, feature_sha256=None, n_real=None, n_fake=None, split=None, seed=None, **extra):
    out = {"feature_network": feature_network, "feature_sha256": feature_sha256, "n_real": n_real,
           "n_fake": n_fake, "split": split, "seed": seed, "machine": machine()}
    out.update(extra)
    return out
