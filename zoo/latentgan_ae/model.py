"""`latentgan_ae`: LatentGAN Autoencoder (Kalwar et al., method and implementation-details sections)."""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from trainers.base import Model
from trainers.steps import SEED_STREAMS, apply_gradients, first_input, replica_sample, scaled_loss
from zoo.batching import batched
from zoo.latentgan_ae import losses, networks
from zoo.latentgan_ae.codes import CodeSpec
from zoo.latentgan_ae.configs import CONFIGS
from zoo.latentgan_ae.signatures import code_signatures
from zoo.registry import register_model
from zoo.base import ZooModel
from zoo.signatures import Limits


def _adam():
    return keras.optimizers.Adam(2e-4, beta_1=0.5, beta_2=0.9)


@register_model("latentgan_ae", family="latent_distribution", configs=CONFIGS)
class LatentGANAE(ZooModel, Model):
    """An autoencoder and a GAN on its latent space, trained together in one step (the paper's "simultaneously"):

    1. autoencoder:  L_ae = ||X - Dec(Enc(X))||^2 (eq. 1; mean over pixels and batch);
    2. D and Q (shared body):  min  -V(D, G) + lambda L_NLL, with real latents Enc(X) (no gradient into the
       encoder), fake latents G(lc), lc = concat(P, c), and noisy labels for D;
    3. G:  min  -log D(G(lc)) + lambda L_NLL (non-saturating form of eq. 2's G term; eq. 3's -lambda L_I with
       L_I = H(c) - L_NLL, see `zoo.latentgan_ae.losses`).

    Images are Dec(G(lc)): ``generator`` is that composition, a Keras model from lc ``[B, latent_dim]``. Clustering
    (`cluster`) is the argmax of Q's categorical head on Enc(x).

    Decisions the paper leaves open (configurable): Q is updated with D on fake latents only, and G with its own
    term; "noisy labels" are soft targets U(1 - s, 1) / U(0, s) with ``s = label_smoothing`` and a
    ``label_flip`` chance to swap (GAN hacks); the autoencoder term is a mean, not a sum; the three updates run
    in the order AE, D, G on one image batch, each G/D update with fresh codes.

    Args:
        image_size, channels: the images (32x32 in tables 2 and 4, 64x64 in table 3).
        ae_latent_dim: the autoencoder's latent (64 MNIST, 128 chairs and CelebA).
        noise_dim, categorical, continuous: the generator's input (`zoo.latentgan_ae.CodeSpec`).
        generator_input: the generator input size the config was written for (the tables' 76, 190, 228); a code
            specification that does not add up to it fails at build, naming what was expected. None: no check.
        encoder_widths, decoder_widths, g_hidden, d_hidden: the tables' layer widths.
        lambda_disc, lambda_cont: weights of the categorical and continuous information terms (MNIST 0.1, 1).
        label_smoothing, label_flip: D's noisy labels.
        seed: seed of the codes and label noise drawn in train steps.
    """

    def __init__(self, image_size=32, channels=1, ae_latent_dim=64, noise_dim=64, categorical=(10,), continuous=2,
                 generator_input=None, encoder_widths=(16, 32, 64, 128, 128), decoder_widths=(128, 64, 32),
                 g_hidden=(1000, 1000, 1000), d_hidden=(1000, 1000, 512), lambda_disc=0.1, lambda_cont=1.0,
                 label_smoothing=0.2, label_flip=0.05, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.codes = CodeSpec(noise_dim, categorical, continuous)
        self.codes.check_generator_input(generator_input)
        self.image_size, self.channels, self.ae_latent_dim = int(image_size), int(channels), int(ae_latent_dim)
        self.latent_dim = self.codes.dim
        self.generator_input = generator_input
        self.encoder_widths, self.decoder_widths = tuple(encoder_widths), tuple(decoder_widths)
        self.g_hidden, self.d_hidden = tuple(g_hidden), tuple(d_hidden)
        self.lambda_disc, self.lambda_cont = float(lambda_disc), float(lambda_cont)
        self.label_smoothing, self.label_flip = float(label_smoothing), float(label_flip)
        self.seed = int(seed)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.encoder = networks.encoder(self.image_size, self.channels, self.encoder_widths, self.ae_latent_dim)
        self.decoder = networks.decoder(self.ae_latent_dim, self.image_size, self.channels, self.decoder_widths)
        self.latent_generator = networks.latent_generator(self.latent_dim, self.ae_latent_dim, self.g_hidden)
        self.discriminator = networks.latent_discriminator(self.ae_latent_dim, self.codes.categorical,
                                                           self.codes.continuous, self.d_hidden)
        lc = keras.Input((self.latent_dim,), name="codes")
        self.generator = keras.Model(lc, self.decoder(self.latent_generator(lc)), name="generator")
        names = ("ae_loss", "d_loss", "g_loss", "info_categorical", "info_continuous", "mi_categorical")
        self.trackers = {n: keras.metrics.Mean(name=n) for n in names}
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update(image_size=self.image_size, channels=self.channels, ae_latent_dim=self.ae_latent_dim,
                      noise_dim=self.codes.noise_dim, categorical=self.codes.categorical,
                      continuous=self.codes.continuous, generator_input=self.generator_input,
                      encoder_widths=self.encoder_widths, decoder_widths=self.decoder_widths, g_hidden=self.g_hidden,
                      d_hidden=self.d_hidden, lambda_disc=self.lambda_disc, lambda_cont=self.lambda_cont,
                      label_smoothing=self.label_smoothing, label_flip=self.label_flip, seed=self.seed)
        return config

    def optimizer_roles(self):
        """Three optimizers (autoencoder, G, D/Q); each defaults to the paper's Adam 2e-4, betas (0.5, 0.9)."""
        return {"optimizer": (_adam, self.autoencoder_variables),
                "g_optimizer": (_adam, lambda: self.latent_generator.trainable_variables),
                "d_optimizer": (_adam, lambda: self.discriminator.trainable_variables)}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def autoencoder_variables(self):
        return self.encoder.trainable_variables + self.decoder.trainable_variables

    def serving_signatures(self, limits=None):
        """The common signatures, ``generate_from_codes`` and ``cluster`` (`zoo.latentgan_ae.signatures`)."""
        limits = limits or Limits()
        return {**super().serving_signatures(limits), **code_signatures(self, limits)}

    # ---------------------------------------------------------------- sampling
    def sample_latent(self, batch_size, seed):
        """lc = concat(P, one-hot codes, U(-1, 1) codes) (`CodeSpec.sample`)."""
        return self.codes.sample(batch_size, seed)

    def call(self, lc, training=False):
        return self.generator(lc, training=training)

    def generate_from_codes(self, categorical, continuous=None, noise=None, seed=0):
        """Images for given codes: `categorical` one int array ``[n]`` per code, `continuous` ``[n, n_cont]``
        (default 0), `noise` ``[n, noise_dim]`` (default N(0, I) from `seed`)."""
        n = len(np.asarray(categorical[0])) if categorical else len(np.asarray(continuous))
        if noise is None:
            noise = tf.random.stateless_normal([n, self.codes.noise_dim], seed=[seed, SEED_STREAMS["code_noise"]])
        return self.generator(self.codes.assemble(noise, categorical, continuous), training=False)

    def cluster_logits(self, images, code=0, batch_size=500):
        """Q's logits of categorical code `code` on Enc(images)."""
        return batched(lambda b: self.discriminator(self.encoder(b, training=False), training=False)[
            f"categorical_{code}"], images, batch_size)

    def cluster(self, images, code=0, batch_size=500):
        """Unsupervised class of each image: argmax_k Q(c = k | Enc(x)) (the paper's classification)."""
        return self.cluster_logits(images, code, batch_size).argmax(-1)

    # ---------------------------------------------------------------- training
    def _noisy_targets(self, batch):
        def sample(n, seed):
            real, fake = losses.noisy_targets([n, 1], seed, self.label_smoothing, self.label_flip)
            return tf.concat([real, fake], axis=-1)

        targets = replica_sample(self.seed_generator, sample, batch)
        return targets[:, :1], targets[:, 1:]

    def _info(self, q_out, lc):
        _, onehots, cont = self.codes.split(lc)
        return losses.info_loss(q_out, onehots, cont, self.lambda_disc, self.lambda_cont)

    def train_step(self, data):
        x = first_input(data)
        batch = tf.shape(x)[0]
        ae_vars = self.autoencoder_variables()
        with tf.GradientTape() as tape:
            z = self.encoder(x, training=True)
            recon = tf.cast(self.decoder(z, training=True), tf.float32)
            ae_loss = tf.reduce_mean(tf.square(recon - tf.cast(x, tf.float32)))
            scaled = scaled_loss(self.optimizer, ae_loss)
        apply_gradients(self.optimizer, tape, scaled, ae_vars)
        real = tf.stop_gradient(tf.cast(z, tf.float32))

        lc = replica_sample(self.seed_generator, self.sample_latent, batch)
        fake = self.latent_generator(lc, training=True)
        real_t, fake_t = self._noisy_targets(batch)
        with tf.GradientTape() as tape:
            out_real = self.discriminator(real, training=True)
            out_fake = self.discriminator(fake, training=True)
            d_loss = losses.d_loss(out_real["logit"], out_fake["logit"], real_t, fake_t)
            info, _, _ = self._info(out_fake, lc)
            scaled = scaled_loss(self.d_optimizer, d_loss + info)
        apply_gradients(self.d_optimizer, tape, scaled, self.discriminator.trainable_variables)

        lc = replica_sample(self.seed_generator, self.sample_latent, batch)
        with tf.GradientTape() as tape:
            out = self.discriminator(self.latent_generator(lc, training=True), training=True)
            g_loss = losses.g_loss(out["logit"])
            info, cat, cont = self._info(out, lc)
            scaled = scaled_loss(self.g_optimizer, g_loss + info)
        apply_gradients(self.g_optimizer, tape, scaled, self.latent_generator.trainable_variables)

        mi = losses.mutual_information_bound(cat, 0.0, self.codes.categorical, 0)  # the categorical codes' L_I, nats
        for name, value in zip(self.trackers, (ae_loss, d_loss, g_loss, cat, cont, mi)):
            self.trackers[name].update_state(value)
        return self.logs()
