"""`dcgan`: DCGAN baseline networks, model and configs."""
from zoo.dcgan.model import DCGAN

__all__ = ["DCGAN"]
