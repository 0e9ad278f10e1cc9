"""`lsc_vae`, `lsc_gan`: Latent Space Conditioning GAN (Kim & Cho), with its attribute space."""
from zoo.lsc_gan.attributes import AttributeSpace, compression_rate
from zoo.lsc_gan.model import LSCGAN, LSCVAE

__all__ = ["AttributeSpace", "LSCGAN", "LSCVAE", "compression_rate"]
