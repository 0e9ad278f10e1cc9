"""`lsr_gan`: the latent space renderer GAN of Wang et al., "Imagining the latent space of a VAE" (2.2)."""
from zoo.lsr_gan.model import LSRGAN

__all__ = ["LSRGAN"]
