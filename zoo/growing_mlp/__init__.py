"""`growing_mlp_gan`: latent-space growing MLP GAN on 2-D data (thesis 6.1)."""
from zoo.growing_mlp.model import GrowingMLPGAN

__all__ = ["GrowingMLPGAN"]
