"""Image grids of samples (`trainers.visualize`, which the training callbacks use, re-exported for zoo users)."""
from trainers.visualize import image_grid, save_grid, to_uint8

__all__ = ["image_grid", "save_grid", "to_uint8"]
