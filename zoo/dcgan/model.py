"""`dcgan`: the zoo's plain unconditional baseline, proving the training core end to end."""
from __future__ import annotations

from trainers.adversarial import AdversarialModel
from trainers.strategy import resolve_sync
from zoo.dcgan.configs import CONFIGS
from zoo.dcgan.networks import dcgan_discriminator, dcgan_generator
from zoo.registry import register_model
from zoo.base import ZooModel


@register_model("dcgan", family="baseline", configs=CONFIGS)
class DCGAN(ZooModel, AdversarialModel):
    """DCGAN (Radford et al., 2016) with any of the zoo's adversarial losses.

    Args:
        image_size: output side, a power of two >= 8 (28x28 data is resized to 32 by the loaders).
        channels: image channels (1 for MNIST-like data, 3 for RGB).
        base_channels: width of the generator's last hidden layer and the discriminator's first.
        d_norm: ``"batch"`` (DCGAN), ``"layer"`` (advised for WGAN-GP, whose per-sample penalty
            BatchNorm breaks) or ``"none"``.
        g_upsample: the generator's 2x upsampling: ``"transpose"`` (DCGAN's stride-2 4x4 transposed
            convolution) or ``"resize"`` (nearest resize + 3x3 convolution, which draws no 2-pixel check;
            `zoo.dcgan.networks`).
        sync_batchnorm: BatchNorm statistics over the global batch (``BatchNormalization(synchronized=True)``),
            so n replicas train like one device. ``"auto"``: on when the model is built inside a strategy with
            more than one replica, off otherwise (it costs ~10% per step on one device and changes nothing).
        **kwargs: `trainers.AdversarialModel` arguments (latent_dim, loss, n_critic, gp_weight, r1_weight, seed).

    Example:
        >>> import keras, zoo
        >>> model = zoo.build_model("dcgan", config="smoke")
        >>> model.compile(g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
        ...               d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
        >>> ds = zoo.load_dataset("digits", batch_size=32, image_size=16)
        >>> model.fit(ds, epochs=1)                                     # doctest: +SKIP
        >>> images = model.generate(16, seed=0)                         # [16, 16, 16, 1] in [-1, 1]
    """

    def __init__(self, image_size=32, channels=1, base_channels=64, d_norm="batch", sync_batchnorm="auto",
                 g_upsample="transpose", **kwargs):
        super().__init__(**kwargs)
        self.image_size, self.channels, self.base_channels = int(image_size), int(channels), int(base_channels)
        self.d_norm, self.sync_batchnorm, self.g_upsample = d_norm, sync_batchnorm, g_upsample
        sync = resolve_sync(sync_batchnorm)
        self.generator = dcgan_generator(self.latent_dim, self.image_size, self.channels, self.base_channels, sync,
                                         upsample=g_upsample)
        self.discriminator = dcgan_discriminator(self.image_size, self.channels, self.base_channels, d_norm, sync)
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update(image_size=self.image_size, channels=self.channels, base_channels=self.base_channels,
                      d_norm=self.d_norm, sync_batchnorm=self.sync_batchnorm, g_upsample=self.g_upsample)
        return config
