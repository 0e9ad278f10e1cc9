"""`vae`: the VAE and beta-VAE of LSR-GAN's stage 1 (Wang et al., "Imagining the latent space of a VAE", 2.1, D)."""
from __future__ import annotations

import keras
import tensorflow as tf

from trainers.base import Model
from trainers.steps import apply_gradients, first_input, scaled_loss
from zoo.registry import register_model
from zoo.base import ZooModel
from zoo.signatures import Limits
from zoo.vae import losses
from zoo.vae.configs import CONFIGS
from zoo.vae.networks import build_decoder, build_encoder
from zoo.vae.signatures import encoder_signatures


class Reparameterize(keras.layers.Layer):
    """``z = mu + exp(logvar / 2) * eps``, eps ~ N(0, I) from a `keras.random.SeedGenerator` (reproducible, and
    each replica of a distributed run draws its own noise)."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}

    def call(self, mu, logvar):
        eps = keras.random.normal(keras.ops.shape(mu), seed=self.seed_generator, dtype=mu.dtype)
        return mu + keras.ops.exp(0.5 * logvar) * eps


@register_model("vae", family="vae_gan", configs=CONFIGS)
class VAE(ZooModel, Model):
    """VAE / beta-VAE: maximise ``E_q[log p(x|z)] - beta * KL(q(z|x) || N(0, I))`` (beta = 1: the VAE).

    Loss per example: ``reconstruction(x, D(z)) + beta * KL``, z = mu + sigma * eps (`Reparameterize`), averaged
    over the global batch. Networks: `zoo.vae.networks` (table 3). ``generator`` is the decoder, so sampling,
    walks, metrics and the SavedModel export treat a VAE like any zoo generator.

    Args:
        image_size, channels: images (32x32 for the paper's CIFAR-10; Fashion-MNIST is resized to 32).
        latent_dim: size of z (the paper: 128).
        beta: weight of the KL term (appendix C sweeps it).
        reconstruction: ``optimal_variance`` (appendix A, the reference code's choice; default), ``sse`` or
            ``bernoulli`` (`zoo.vae.losses`).
        encoder_widths, decoder_widths, hidden, base: the table-3 channel counts.
        seed: seed of the reparameterisation noise.

    Example:
        >>> import zoo
        >>> vae = zoo.build_model("vae", config="smoke")
        >>> vae.compile(optimizer="adam")
        >>> vae.fit(zoo.load_dataset("fashion_mnist", batch_size=32, image_size=32), epochs=1, steps_per_epoch=5)
    """

    def __init__(self, image_size=32, channels=1, latent_dim=128, beta=1.0, reconstruction="optimal_variance",
                 encoder_widths=(64, 128, 32), decoder_widths=(128, 64, 32), hidden=128, base=32, seed=0, **kwargs):
        if reconstruction not in losses.RECONSTRUCTIONS:
            raise ValueError(f"Unknown reconstruction {reconstruction!r}. Known: "
                             f"{', '.join(losses.RECONSTRUCTIONS)}.")
        super().__init__(**kwargs)
        self.image_size, self.channels, self.latent_dim = int(image_size), int(channels), int(latent_dim)
        self.beta, self.reconstruction, self.seed = float(beta), reconstruction, seed
        self.encoder_widths, self.decoder_widths = tuple(encoder_widths), tuple(decoder_widths)
        self.hidden, self.base = int(hidden), int(base)
        self.encoder = build_encoder(image_size, channels, latent_dim, self.encoder_widths, self.hidden)
        self.decoder = build_decoder(image_size, channels, latent_dim, self.decoder_widths, self.base)
        self.generator = self.decoder  # the VAE's generator; LSR-GAN and LSC-GAN replace it with their own network
        self.reparameterize = Reparameterize(seed, name="reparameterize")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.recon_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.built = True

    def get_config(self):
        return {**super().get_config(), "image_size": self.image_size, "channels": self.channels,
                "latent_dim": self.latent_dim, "beta": self.beta, "reconstruction": self.reconstruction,
                "encoder_widths": self.encoder_widths, "decoder_widths": self.decoder_widths, "hidden": self.hidden,
                "base": self.base, "seed": self.seed}

    @property
    def metrics(self):
        return self.vae_metrics()

    def vae_metrics(self):
        """The trackers of ``_loss_terms``' values, in its order."""
        return [self.loss_tracker, self.recon_tracker, self.kl_tracker]

    def optimizer_roles(self):
        """``optimizer`` for the encoder and decoder (default Keras' Adam, 1e-3)."""
        return {"optimizer": (keras.optimizers.Adam, self.vae_variables)}

    def serving_signatures(self, limits=None):
        """The common signatures, ``encode`` and ``reconstruct`` (`zoo.vae.signatures`)."""
        limits = limits or Limits()
        return {**super().serving_signatures(limits), **encoder_signatures(self, limits)}

    # ------------------------------------------------------------- sampling
    def encode(self, x, training=False):
        """``(mu, logvar)`` of q(z|x)."""
        return self.encoder(x, training=training)

    def call(self, x, training=False):
        """``reconstruct(x)``: a VAE's inputs are what it is fit on, images, and Keras calls it on a batch of them to
        build its optimizer's variables (a GAN's ``call`` maps latents; sampling is ``generate`` for both)."""
        return self.reconstruct(x, training=training)

    def reconstruct(self, x, training=False):
        """Reconstruction through the encoder mean: ``G(mu(x))`` (the decoder for a VAE; LSR-GAN's "seeded" image)."""
        mu, _ = self.encoder(x, training=training)
        return self.generator(mu, training=training)

    def prior_mean(self, data):
        """Mean of the prior p(z) for each example of a batch: N(0, I) for the VAE (`LSCVAE` overrides it)."""
        return None

    # ------------------------------------------------------------ train step
    def _loss_terms(self, data, training):
        """Eq. 2 (eq. 5 with beta): ``E_q[-log p(x|z)] + beta * KL(q(z|x) || p(z))`` averaged over the batch, plus
        what a subclass adds on the sampled z (:meth:`latent_extra`). Returns the values of ``vae_metrics()``."""
        x = first_input(data)
        mu, logvar = self.encoder(x, training=training)
        z = self.reparameterize(mu, logvar)
        y = self.decoder(z, training=training)
        recon = tf.reduce_mean(losses.reconstruction_loss(x, y, self.reconstruction))
        kl = tf.reduce_mean(losses.kl_standard_normal(mu, logvar, self.prior_mean(data)))
        extra = self.latent_extra(data, z)
        return (recon + self.beta * kl + sum(w * t for w, t in extra), recon, kl) + tuple(t for _, t in extra)

    def latent_extra(self, data, z):
        """``[(weight, batch-mean term)]`` added to the stage-1 loss and logged after ``kl`` (none for the VAE)."""
        return []

    def vae_variables(self):
        """What stage 1 trains: the encoder and the decoder."""
        return self.encoder.trainable_variables + self.decoder.trainable_variables

    def _track(self, values):
        for tracker, value in zip(self.vae_metrics(), values):
            tracker.update_state(value)
        return self.logs()

    def vae_step(self, data):
        with tf.GradientTape() as tape:
            values = self._loss_terms(data, training=True)
            scaled = scaled_loss(self.optimizer, values[0])
        apply_gradients(self.optimizer, tape, scaled, self.vae_variables())
        return values

    def train_step(self, data):
        return self._track(self.vae_step(data))

    def test_step(self, data):
        return self._track(self._loss_terms(data, training=False))
