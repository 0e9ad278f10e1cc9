"""`sngan`: spectral-normalised GAN with the hinge loss, the unconditional baseline of Latent Space Conditioning."""
from __future__ import annotations

from trainers.adversarial import AdversarialModel
from zoo.registry import register_model
from zoo.base import ZooModel
from zoo.sngan.configs import CONFIGS
from zoo.sngan.networks import sngan_discriminator, sngan_generator


@register_model("sngan", family="latent_distribution", configs=CONFIGS)
class SNGAN(ZooModel, AdversarialModel):
    """SNGAN (Miyato et al. 2018): the standard CNN of `zoo.sngan.networks`, hinge loss

        L_D = E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))],    L_G = -E[D(G(z))].

    Args:
        image_size: output side (32 in both papers).
        channels: image channels.
        width: ``w`` of the standard CNN (64 in the paper).
        spectral: how D's kernels are normalised, ``"projection"`` (Keras' `SpectralNormalization`) or
            ``"reparam"`` (the paper's W / sigma(W)); `zoo.sngan.networks`.
        **kwargs: `trainers.AdversarialModel` arguments (latent_dim, loss (default ``"hinge"``), n_critic, seed).
    """

    def __init__(self, image_size=32, channels=1, width=64, loss="hinge", spectral="projection", **kwargs):
        super().__init__(loss=loss, **kwargs)
        self.image_size, self.channels, self.width = int(image_size), int(channels), int(width)
        self.spectral = spectral
        self.generator = sngan_generator(self.latent_dim, self.image_size, self.channels, self.width)
        self.discriminator = sngan_discriminator(self.image_size, self.channels, self.width, spectral_kind=spectral)
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update(image_size=self.image_size, channels=self.channels, width=self.width, spectral=self.spectral)
        return config
