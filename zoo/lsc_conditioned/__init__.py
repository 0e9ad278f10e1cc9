"""`feature_conditioned_gan`: Latent Space Conditioning on GANs (Durall et al. 2021)."""
from zoo.lsc_conditioned.model import LSCConditionedGAN

__all__ = ["LSCConditionedGAN"]
