"""`latentgan_ae`: LatentGAN Autoencoder (Kalwar et al.): an autoencoder and an InfoGAN on its latent space."""
from zoo.latentgan_ae.codes import CodeSpec
from zoo.latentgan_ae.model import LatentGANAE

__all__ = ["CodeSpec", "LatentGANAE"]
