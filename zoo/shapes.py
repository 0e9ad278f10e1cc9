"""Shape checks shared by the image models."""
from __future__ import annotations

import math


def check_image_size(image_size: int, minimum: int = 8) -> int:
    """Return log2(image_size), or raise naming the valid sizes."""
    log = math.log2(image_size) if image_size > 0 else -1
    if image_size < minimum or log != int(log):
        valid = ", ".join(str(2 ** k) for k in range(int(math.log2(minimum)), 9))
        raise ValueError(
            f"image_size={image_size} is not a power of two >= {minimum}. Valid sizes: {valid}, ... "
            "Resize the data to one of them, e.g. load_dataset(..., image_size=32) for 28x28 MNIST."
        )
    return int(log)
