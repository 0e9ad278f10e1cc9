"""`vae`: VAE / beta-VAE with LSR-GAN's ResNet encoder and decoder (stage 1 of LSR-GAN)."""
from zoo.vae.model import VAE, Reparameterize

__all__ = ["VAE", "Reparameterize"]
