"""Run a function over an array in fixed-size chunks (inference on more images than fit in one call)."""
from __future__ import annotations

import numpy as np


def batched(fn, x, batch_size=500) -> np.ndarray:
    """``concatenate([fn(x[i:i + batch_size]), ...])`` along axis 0, each output as a numpy array."""
    return np.concatenate([np.asarray(fn(x[i:i + batch_size])) for i in range(0, len(x), batch_size)], 0)
