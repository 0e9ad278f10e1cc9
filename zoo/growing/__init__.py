"""The growing CNN GANs of Sandström's "Latent Space Growing of GANs" (thesis 6.2): bgan, bggan, cggan, lggan, clggan."""
from zoo.growing.model import BGAN, BGGAN, CGGAN, CLGGAN, LGGAN, GrowingConvGAN

__all__ = ["BGAN", "BGGAN", "CGGAN", "CLGGAN", "LGGAN", "GrowingConvGAN"]
