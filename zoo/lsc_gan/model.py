"""`lsc_vae` and `lsc_gan`: Latent Space Conditioning GAN (Kim & Cho, "Controlling the latent space of a GAN
with a VAE", sections 3.1 and 3.2)."""
from __future__ import annotations

import tensorflow as tf

from zoo.lsr_gan.stages import TwoStageMixin
from trainers.steps import SEED_STREAMS
from zoo.lsc_gan.attributes import AttributeSpace, compression_rate
from zoo.lsc_gan.configs import GAN_CONFIGS, VAE_CONFIGS
from zoo.lsc_gan.signatures import attribute_signatures
from zoo.lsr_gan.model import attach_gan, gan_config
from zoo.registry import register_model
from zoo.signatures import Limits
from zoo.vae import losses
from zoo.vae.model import VAE


@register_model("lsc_vae", family="vae_gan", configs=VAE_CONFIGS)
class LSCVAE(VAE):
    """LSC-VAE (eq. 1): ``L = E_q[-log P(x|z)] + KL(Q(z|x) || N(mu_S, I))``, S the example's attributes.

    The prior mean mu_S puts 1 on the block of every attribute of the example (`zoo.lsc_gan.attributes`), so the
    encoder learns to place each attribute on its own block. Labels come with the data (``fit`` on ``(x, y)``).
    Networks, reconstruction term and beta are the VAE's (`zoo.vae.VAE`: LSR-GAN's table-3 ResNets; the LSC-GAN
    paper does not give its architecture). ``latent_dim`` is ``len(attributes) * block_size``.

    Args:
        attributes: the attribute source (a dataset with classes, ``"celeb_a"``, or a tuple of names).
        block_size: latent dimensions per attribute (the paper: 20).
        **kwargs: the VAE's.
    """

    needs_labels = True
    data_crop = "lsc_gan"

    def __init__(self, attributes="fashion_mnist", block_size=20, **kwargs):
        space = AttributeSpace(attributes, block_size)
        if kwargs.setdefault("latent_dim", space.latent_dim) != space.latent_dim:
            raise ValueError(f"latent_dim={kwargs['latent_dim']} does not fit {space.size} attributes x block_size "
                             f"{space.block_size} = {space.latent_dim}; leave latent_dim out.")
        super().__init__(**kwargs)
        self.attributes = space

    def get_config(self):
        spec = self.attributes.spec
        return {**super().get_config(), "attributes": spec if isinstance(spec, str) else list(spec),
                "block_size": self.attributes.block_size}

    def prior_mean(self, data):
        """mu_S of each example of a ``(x, labels)`` batch."""
        if not isinstance(data, (tuple, list)) or len(data) < 2:
            raise ValueError(f"{type(self).__name__} trains on (images, labels) batches: load the dataset with "
                             "with_labels=True.")
        return self.attributes.mean(self.attributes.from_labels(data[1]))

    def serving_signatures(self, limits=None):
        """The VAE's, ``generate_with_attributes``, ``edit``, and ``generate_from_seed`` conditioned on attribute
        strengths (`zoo.lsc_gan.signatures`)."""
        limits = limits or Limits()
        return {**super().serving_signatures(limits), **attribute_signatures(self, limits)}

    # ------------------------------------------------------------- sampling
    def sample_latent(self, batch_size, seed):
        """z ~ N(n_c, I) with one attribute c drawn uniformly per sample (what ``generate``, sample grids and the
        export draw); :meth:`attribute_latent` asks for a given set."""
        seed_c, seed_z = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        c = tf.random.stateless_uniform([batch_size], seed_c, maxval=self.attributes.size, dtype=tf.int32)
        mean = self.attributes.mean(tf.one_hot(c, self.attributes.size))
        return mean + tf.random.stateless_normal([batch_size, self.latent_dim], seed=seed_z)

    def attribute_latent(self, attributes, n, seed=0):
        """``[n, latent_dim]`` from N(mu_S, I) for an attribute set S (names/indices, or ``{name: strength}``)."""
        offset = tf.constant(self.attributes.offset(attributes))
        return offset + tf.random.stateless_normal([n, self.latent_dim],
                                                   seed=tf.constant([seed, SEED_STREAMS["sample"]]))

    def generate_attributes(self, attributes, n, seed=0):
        """n images with attribute set S: ``G(z)``, z ~ N(mu_S, I)."""
        return self.generator(self.attribute_latent(attributes, n, seed), training=False)

    def edit(self, z, add=(), remove=()):
        """Latent arithmetic (eq. 8): ``z + n_add - n_remove``; strengths as in :meth:`attribute_latent`."""
        delta = self.attributes.offset(add) - self.attributes.offset(remove)
        return tf.cast(z, tf.float32) + tf.constant(delta)

    def compression_rate(self) -> dict:
        """Section 4.3's rate for this model, with the formula."""
        return compression_rate((self.image_size, self.image_size, self.channels), self.latent_dim,
                                self.attributes.size)


@register_model("lsc_gan", family="vae_gan", configs=GAN_CONFIGS)
class LSCGAN(TwoStageMixin, LSCVAE):
    """Stage 1: the LSC-VAE. Stage 2 (eq. 2), with a least-squares GAN (Mao et al.):

        min_D  E_x[(D(x) - 1)^2] + E_z[D(G(z_S))^2]
        min_{Q,G}  E_z[(D(G(z_S)) - 1)^2] + KL(Q(z | G(z_S)) || N(mu_S, I))

    The generator starts as the trained LSC-VAE decoder (``generator_init="decoder"``, "pre-trained generator");
    the encoder Q is trained with the generator on the KL term (training mode). Decisions the paper leaves open:
    z_S is drawn with the attribute sets of the real batch (so generated attributes follow the data's); the
    discriminator is LSR-GAN's table-3 DCGAN with one linear output channel (the paper gives no architecture);
    the 1/2 factors of `trainers.losses.least_squares` scale eq. 2 by a constant; ``kl_weight`` (1 in eq. 2)
    weights the KL term.

    Args:
        kl_weight: weight of the KL term of L_G.
        stage2_encoder: ``"trained"`` (eq. 2: min over Q and G) or ``"frozen"`` (the stage-1 encoder in inference
            mode, as LSR-GAN's). Trained jointly, Q and G can satisfy the KL term between themselves without the
            images showing the attributes (docs/results/vae_gan.md measures both).
        loss, d_widths, d_out_channels, vae_epochs, generator_init, vae_path: as `zoo.lsr_gan.LSRGAN`.
        **kwargs: `LSCVAE`'s.
    """

    latent_term_name = "kl_generated"
    STAGE2_ENCODERS = ("trained", "frozen")

    def __init__(self, kl_weight=1.0, stage2_encoder="trained", loss="least_squares", d_widths=(32, 64, 128),
                 d_out_channels=1, vae_epochs=10, generator_init="decoder", vae_path=None, **kwargs):
        if stage2_encoder not in self.STAGE2_ENCODERS:
            raise ValueError(f"Unknown stage2_encoder {stage2_encoder!r}. Known: {', '.join(self.STAGE2_ENCODERS)}.")
        super().__init__(**kwargs)
        self.kl_weight, self.stage2_encoder = float(kl_weight), stage2_encoder
        attach_gan(self, d_widths, d_out_channels, vae_epochs, generator_init, loss, vae_path)

    def get_config(self):
        return {**super().get_config(), **gan_config(self), "kl_weight": self.kl_weight,
                "stage2_encoder": self.stage2_encoder}

    def generator_variables(self):
        encoder = self.encoder.trainable_variables if self.stage2_encoder == "trained" else []
        return self.generator.trainable_variables + encoder

    def gan_latent(self, data, batch):
        """z_S ~ N(mu_S, I) with S the attributes of the real batch's examples."""
        mean = self.prior_mean(data)
        return mean + self.replica_normal(batch), mean

    def latent_term(self, z, fake, prior_mean):
        mu, logvar = self.encoder(fake, training=self.stage2_encoder == "trained")
        kl = tf.reduce_mean(losses.kl_standard_normal(mu, logvar, prior_mean))
        return self.kl_weight * kl, kl
