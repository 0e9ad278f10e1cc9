"""`lsc_vae` and `lsc_gan`: Latent Space Conditioning GAN (Kim & Cho, "Controlling the latent space of a GAN
with a VAE", sections 3.1 and 3.2)."""
from __future__ import annotations

import keras
import tensorflow as tf

from zoo.lsr_gan.stages import TwoStageMixin
from trainers.steps import SEED_STREAMS
from zoo.lsc_gan.attributes import AttributeSpace, compression_rate
from zoo.lsc_gan import losses as lsc_losses
from zoo.lsc_gan.configs import GAN_CONFIGS, VAE_CONFIGS
from zoo.lsc_gan.networks import build_projection_discriminator
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
    Networks and beta are the VAE's (`zoo.vae.VAE`: LSR-GAN's table-3 ResNets; the LSC-GAN paper does not give
    its architecture). ``latent_dim`` is ``len(attributes) * block_size``.

    Three deviations from eq. 1, measured in docs/results/vae_gan.md (the ``paper`` configs turn them off):

    * ``reconstruction="bernoulli"`` (default): an explicit likelihood whose balance with the KL is beta's.
      ``optimal_variance`` (LSR-GAN's appendix A) has the gradient (x_hat - x) / MSE, about 10x SSE's at
      Fashion-MNIST's MSE, so the KL weighed ~0.1 and did not shape the latent. The example's own block then held
      0.23 on average, where the prior says 1.
    * ``attribute_weight`` times ``E_q[-log p(S | z)]``, the attribute's likelihood under the prior's own mixture
      (`zoo.lsc_gan.losses.attribute_nll`: ``softmax(block sums)``, no parameters). It makes the encoder put S on
      S's blocks, which eq. 1 allows but does not require. Otherwise the class can live in the other blocks, where
      neither prior samples nor eq. 8's block swap reach it. It is logged as ``attr_nll`` whatever its weight.
    * ``residual_weight`` times an adversary's ``-log p(S | other blocks of z)``, through a reversed gradient: a
      small MLP (`residual_adversary`) learns to read S from z with S's own blocks replaced by fresh noise. The
      encoder is pushed to leave nothing there, so the decoder must read S from the blocks alone: what prior
      samples and eq. 8 change. It is logged as ``residual_nll``; ln(#attributes) for one class per example means
      the adversary reads nothing. (At weight 0 neither it nor the encoder gets its gradient.)

    Args:
        attributes: the attribute source (a dataset with classes, ``"celeb_a"``, or a tuple of names).
        block_size: latent dimensions per attribute (the paper: 20).
        attribute_weight: weight of ``-log p(S | z)`` (0: eq. 1 as written).
        residual_weight: weight of the reversed-gradient adversary on the other blocks (0: none).
        **kwargs: the VAE's (``reconstruction`` defaults to ``"bernoulli"`` here).
    """

    needs_labels = True
    data_crop = "lsc_gan"

    def __init__(self, attributes="fashion_mnist", block_size=20, attribute_weight=10.0, residual_weight=20.0,
                 **kwargs):
        space = AttributeSpace(attributes, block_size)
        kwargs.setdefault("reconstruction", "bernoulli")
        for name, weight in (("attribute_weight", attribute_weight), ("residual_weight", residual_weight)):
            if float(weight) < 0:
                raise ValueError(f"{name} must be >= 0, got {weight!r}.")
        if kwargs.setdefault("latent_dim", space.latent_dim) != space.latent_dim:
            raise ValueError(f"latent_dim={kwargs['latent_dim']} does not fit {space.size} attributes x block_size "
                             f"{space.block_size} = {space.latent_dim}; leave latent_dim out.")
        super().__init__(**kwargs)
        self.attributes, self.attribute_weight = space, float(attribute_weight)
        self.residual_weight = float(residual_weight)
        self.attribute_tracker = keras.metrics.Mean(name="attr_nll")
        self.residual_tracker = keras.metrics.Mean(name="residual_nll")
        self.residual_noise = keras.random.SeedGenerator(None if self.seed is None else self.seed + 2)
        self.residual_adversary = keras.Sequential(
            [keras.Input((space.latent_dim,)), keras.layers.Dense(128, activation="relu"),
             keras.layers.Dense(space.size, dtype="float32")], name="residual_adversary")

    def get_config(self):
        spec = self.attributes.spec
        return {**super().get_config(), "attributes": spec if isinstance(spec, str) else list(spec),
                "block_size": self.attributes.block_size, "attribute_weight": self.attribute_weight,
                "residual_weight": self.residual_weight}

    def vae_metrics(self):
        return super().vae_metrics() + [self.attribute_tracker, self.residual_tracker]

    def vae_variables(self):
        return super().vae_variables() + self.residual_adversary.trainable_variables

    def attribute_nll(self, z, multi_hot):
        """Batch mean of ``-log p(S | z)`` (`zoo.lsc_gan.losses.attribute_nll`)."""
        return tf.reduce_mean(lsc_losses.attribute_nll(z, multi_hot, self.attributes.block_size,
                                                       exclusive=self.attributes.exclusive))

    def latent_extra(self, data, z):
        multi_hot = self.multi_hot(data)
        # the other blocks: S's own blocks are replaced by fresh N(0, 1), so neither their values nor a telltale 0
        # name S; what is left should look the same, N(0, I), for every S
        own = self.attributes.mean(multi_hot) > 0
        fresh = keras.random.normal(tf.shape(own), seed=self.residual_noise)
        residual = lsc_losses.reverse_gradient(tf.where(own, fresh, tf.cast(z, tf.float32)))
        adversary = lsc_losses.attribute_cross_entropy(multi_hot, self.residual_adversary(residual),
                                                       self.attributes.exclusive)
        return [(self.attribute_weight, self.attribute_nll(z, multi_hot)),
                (self.residual_weight, tf.reduce_mean(adversary))]

    def multi_hot(self, data):
        """``[B, size]`` attributes of a ``(x, labels)`` batch."""
        if not isinstance(data, (tuple, list)) or len(data) < 2:
            raise ValueError(f"{type(self).__name__} trains on (images, labels) batches: load the dataset with "
                             "with_labels=True.")
        return self.attributes.from_labels(data[1])

    def prior_mean(self, data):
        """mu_S of each example of a ``(x, labels)`` batch."""
        return self.attributes.mean(self.multi_hot(data))

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

    def control_record(self, dataset, per_class=100, per_pair=10, seed=0) -> dict:
        """What the model controls, with how it was measured (`zoo.metrics.attribute_control`): the requested class
        generated (``lsc_attribute_accuracy``) and eq. 8's edit labelled as the class added (``lsc_edit``). What
        the presets' cards carry and ``tests/test_presets.py`` recomputes."""
        from zoo.metrics import attribute_control as ac

        acc = ac.attribute_accuracy(self, dataset, per_class=per_class, seed=seed)
        edit = ac.edit_rate(self, dataset, per_pair=per_pair, seed=seed)
        return {"attribute_accuracy": acc.value, "per_class": acc.details["per_class"], "edit": edit.value,
                "protocol": {"attribute_accuracy": acc.protocol, "edit": edit.protocol}}

    def compression_rate(self) -> dict:
        """Section 4.3's rate for this model, with the formula."""
        return compression_rate((self.image_size, self.image_size, self.channels), self.latent_dim,
                                self.attributes.size)


@register_model("lsc_gan", family="vae_gan", configs=GAN_CONFIGS)
class LSCGAN(TwoStageMixin, LSCVAE):
    """Stage 1: the LSC-VAE. Stage 2 (eq. 2), the paper's with a least-squares GAN (Mao et al.):

        min_D  E_x[(D(x) - 1)^2] + E_z[D(G(z_S))^2]
        min_{Q,G}  E_z[(D(G(z_S)) - 1)^2] + consistency_weight * C(Q, G(z_S), z_S)

    and in the working config the non-saturating loss with R1 (``loss``, ``r1_weight``) plus
    ``g_attribute_weight * E_z[-log p(S | mu_Q(G(z_S)))]`` in L_G. C is eq. 2's ``KL(Q(z | G(z_S)) || N(mu_S, I))``
    summed over the latent (``consistency="kl"``), or ``mean_k (mu_Q(G(z_S))_k - z_k)^2`` (``"latent_mse"``).
    The generator starts as the trained LSC-VAE decoder (``generator_init="decoder"``, "pre-trained generator").
    Decisions the paper leaves open: z_S is drawn with the attribute sets of the real batch (so generated attributes
    follow the data's); the unconditional discriminator is LSR-GAN's table-3 DCGAN with one linear output channel
    (the paper gives no architecture); the 1/2 factors of `trainers.losses.least_squares` scale eq. 2 by a constant.

    Deviations of the default (working) config, measured in docs/results/vae_gan.md; ``paper`` configs undo them:

    * ``stage2_encoder="frozen"``: Q is the stage-1 encoder in inference mode, so it is bit-identical after
      stage 2. Eq. 2 trains Q with G, which lets the two satisfy the KL between themselves without the images
      showing the attributes.
    * ``consistency="latent_mse"``: eq. 2's KL, summed over 200 dimensions (~100 nats), dwarfed the least-squares
      loss (<= 0.5), so G's update was the KL's. The mean squared error per dimension is on the GAN loss's scale.
    * the attribute term on Q's reading of G(z_S): the stage-1 encoder reads S from the blocks (`LSCVAE`), and G
      is held to produce images it reads as S.
    * ``loss="non_saturating"`` with ``r1_weight=10``: with least squares and no penalty the discriminator won
      outright (the paper objective's run in docs/results/vae_gan.md ends at d_loss 0.05; with the working
      config's terms it ends at 0.84).
    * ``discriminator="projection"``: D(x, S) scores the image with its attribute set
      (`zoo.lsc_gan.networks`), the fake with the S of its z_S. The unconditional D accepts a realistic image of
      any attribute, and the frozen Q alone is a classifier G learns to fool.
    * ``classifier_weight``: AC-GAN's auxiliary classifier (Odena et al. 2017) on D's features, trained on real
      images only (the fakes' labels are what is being learnt, so D is not asked to classify them):

          L_D += classifier_weight * E_x[CE(C(x), S_x)],   L_G += classifier_weight * E_z[CE(C(G(z_S)), S)]

      A frozen Q is a fixed network G can fool (its reading of G(z_S) was right far more often than the zoo's
      classifier's); C keeps learning from real images while G trains against it. On in ``fashion32``.
    * ``classifier="adc"``: ADC-GAN's discriminative classifier (Hou et al. 2022) in place of AC-GAN's. C reads
      2K classes, "real k" and "generated k", and is trained on both:

          L_D += d_classifier_weight * (E_x[CE_2K(C(x), k_x)] + E_z[CE_2K(C(G(z_S)), K + S)])
          L_G += classifier_weight * E_z[CE_2K(C(G(z_S)), S)]

      (``d_classifier_weight`` defaults to ``classifier_weight``, one lambda as in both papers; set apart, L_D's
      term alone is reweighted: a screen, docs/results/vae_gan.md.)

      ``g_real_class_weight`` (a deviation from ADC-GAN, 0 by default) adds to L_G the cross-entropy of the
      fakes over the K "real" logits alone (C_+, a softmax over the real classes):

          L_G += g_real_class_weight * E_z[CE_K(C_+(G(z_S)), S)]

      The 2K-way term's gradient on a fake that C reads as "generated S" goes mostly to that logit; this one
      asks which *real* class the fake resembles, so a generated shirt is pushed away from real T-shirts,
      pullovers and coats (Fashion-MNIST's weakest class, issue 13).

      AC-GAN's C, trained on real images only, is a fixed target G learns to fool: on the 36-epoch Fashion-MNIST
      preset C read 97.5% of generated pullovers as pullovers, the project's classifier 78.0% (the rest shirts
      and coats; docs/results/lsc_gan_heads.json). ADC's C also learns what separates a generated pullover from
      a real one, so G is pushed towards the real class, not towards C's boundary. (The paper's G term is
      ``-log p(k+) + log p(k-)``; the bounded ``-log p(k+)`` of one softmax over 2K classes is used here, and it
      already lowers p(k-).) Needs one attribute per example (class datasets).
    * ``generator="dcgan"`` (the ``*_scratch`` configs): G is a DCGAN generator (`zoo.dcgan.networks`) trained
      from scratch on z_S, not the decoder fine-tuned ("pre-trained generator", section 3.2). The decoder-shaped
      generator's samples stayed blurred at this budget: the classifier read sandals, sneakers and bags as other
      classes (docs/results/vae_gan.md). Stage 1 then only has to make Q, so it runs at a quarter of the widths.
      The ``*_scratch`` configs also turn off stage 2's terms through the frozen Q (``consistency_weight=0``,
      ``g_attribute_weight=0``): a generator from scratch satisfied them with speckle that Q reads as z and the
      project's classifier as noise (requested class 61.5% with them, 82.2% without; `zoo.lsc_gan.configs`).
      Projection D and AC-GAN's classifier are what hold G to S there; Q still encodes real images for eq. 8.

    Args:
        consistency: ``"kl"`` (eq. 2) or ``"latent_mse"``.
        consistency_weight: its weight (1 in eq. 2).
        stage2_encoder: ``"trained"`` (eq. 2: min over Q and G) or ``"frozen"``.
        attribute_weight: as `LSCVAE` (stage 1).
        g_attribute_weight: weight of stage 2's attribute term on Q's reading of G(z_S) (None: ``attribute_weight``).
        r1_weight: gamma of R1 on the discriminator (0: none, the paper).
        discriminator: ``"projection"`` (conditional) or ``"unconditional"`` (the paper).
        classifier_weight: weight of the auxiliary classifier's terms (0: no classifier head, the paper); needs the
            projection discriminator.
        classifier: ``"ac"`` (AC-GAN: C trained on real images) or ``"adc"`` (ADC-GAN: real and generated classes).
        d_classifier_weight: the classifier term's weight in L_D alone (None: ``classifier_weight``, as the papers).
        g_real_class_weight: weight of L_G's K-way term on the real classes' logits (``classifier="adc"`` only).
        generator: ``"decoder"`` (the paper: the decoder's architecture) or ``"dcgan"``, which needs
            ``generator_init="scratch"``; ``g_base_channels``, ``g_upsample``: the DCGAN generator's width and
            upsampling (``"transpose"`` or ``"resize"``, `zoo.dcgan.networks`).
        loss, d_widths, d_out_channels, vae_epochs, generator_init, vae_path: as `zoo.lsr_gan.LSRGAN`.
        **kwargs: `LSCVAE`'s.
    """

    latent_term_name = "consistency"
    STAGE2_ENCODERS = ("trained", "frozen")
    CONSISTENCIES = ("kl", "latent_mse")
    DISCRIMINATORS = ("projection", "unconditional")
    CLASSIFIERS = ("ac", "adc")

    def __init__(self, consistency="latent_mse", consistency_weight=1.0, stage2_encoder="frozen",
                 loss="non_saturating", d_widths=(32, 64, 128), d_out_channels=1, vae_epochs=10,
                 generator_init="decoder", vae_path=None, r1_weight=10.0, discriminator="projection",
                 classifier_weight=0.0, generator="decoder", g_base_channels=32, g_attribute_weight=None,
                 classifier="ac", g_upsample="transpose", d_classifier_weight=None, g_real_class_weight=0.0,
                 **kwargs):
        if stage2_encoder not in self.STAGE2_ENCODERS:
            raise ValueError(f"Unknown stage2_encoder {stage2_encoder!r}. Known: {', '.join(self.STAGE2_ENCODERS)}.")
        if consistency not in self.CONSISTENCIES:
            raise ValueError(f"Unknown consistency {consistency!r}. Known: {', '.join(self.CONSISTENCIES)}.")
        if discriminator not in self.DISCRIMINATORS:
            raise ValueError(f"Unknown discriminator {discriminator!r}. Known: {', '.join(self.DISCRIMINATORS)}.")
        if float(classifier_weight) < 0 or (float(classifier_weight) and discriminator != "projection"):
            raise ValueError(f"classifier_weight must be >= 0 and needs discriminator='projection' (got "
                             f"{classifier_weight!r} with {discriminator!r}).")
        if classifier not in self.CLASSIFIERS:
            raise ValueError(f"Unknown classifier {classifier!r}. Known: {', '.join(self.CLASSIFIERS)}.")
        super().__init__(**kwargs)
        if classifier == "adc" and not self.attributes.exclusive:
            raise ValueError("classifier='adc' needs one attribute per example (a class dataset); "
                             f"{self.attributes.spec!r} has independent attributes: use classifier='ac'.")
        self.classifier_kind = classifier
        self.g_attribute_weight = self.attribute_weight if g_attribute_weight is None else float(g_attribute_weight)
        if self.g_attribute_weight < 0:
            raise ValueError(f"g_attribute_weight must be >= 0, got {g_attribute_weight!r}.")
        self.classifier_weight = float(classifier_weight)
        self.d_classifier_weight = self.classifier_weight if d_classifier_weight is None else float(d_classifier_weight)
        if self.d_classifier_weight < 0 or (self.d_classifier_weight and not self.classifier_weight):
            raise ValueError(f"d_classifier_weight must be >= 0 and needs classifier_weight > 0 (got "
                             f"{d_classifier_weight!r} with classifier_weight {classifier_weight!r}).")
        self.g_real_class_weight = float(g_real_class_weight)
        if self.g_real_class_weight < 0 or (self.g_real_class_weight and (classifier != "adc"
                                                                           or not self.classifier_weight)):
            raise ValueError(f"g_real_class_weight must be >= 0 and needs classifier='adc' with classifier_weight > 0 "
                             f"(got {g_real_class_weight!r} with {classifier!r}, {classifier_weight!r}).")
        if self.classifier_weight:  # (models without the head keep their variables, so their weights load)
            self.classifier_tracker = keras.metrics.Mean(name="classifier")
        self.consistency, self.consistency_weight = consistency, float(consistency_weight)
        self.stage2_encoder = stage2_encoder
        self.discriminator_kind = discriminator
        attach_gan(self, d_widths, d_out_channels, vae_epochs, generator_init, loss, vae_path, r1_weight,
                   self._projection_critic if discriminator == "projection" else None, generator, g_base_channels,
                   g_upsample)

    @staticmethod
    def _projection_critic(model):
        return build_projection_discriminator(model.image_size, model.channels, model.d_widths,
                                              model.attributes.size, classifier=bool(model.classifier_weight),
                                              n_classes=model.attributes.size * (2 if model.classifier_kind == "adc"
                                                                                 else 1))

    def gan_metrics(self):
        return super().gan_metrics() + ([self.classifier_tracker] if self.classifier_weight else [])

    def critic_heads(self, outputs):
        return (outputs[0], outputs[1]) if self.classifier_weight else (outputs, None)

    def classifier_terms(self, real_aux, fake_aux, data, prior):
        """The AC-GAN terms: C's cross-entropy on real images with their attributes (L_D) and on G(z_S) with S
        (L_G), times ``d_classifier_weight`` and ``classifier_weight``; logs the generated images' term. ADC-GAN's
        (``classifier="adc"``): L_D also has G(z_S) as class K + S, and the cross-entropies are over 2K classes. The
        discriminator's step passes `real_aux` (and the fakes' outputs) and gets L_D's term only; the generator's
        passes `fake_aux` alone."""
        if not self.classifier_weight:
            return 0.0, 0.0, ()
        if self.classifier_kind == "adc":
            return self._adc_terms(real_aux, fake_aux, data, prior)
        exclusive = self.attributes.exclusive
        if real_aux is not None:  # the discriminator's step: real images only
            return self.d_classifier_weight * tf.reduce_mean(
                lsc_losses.attribute_cross_entropy(self.multi_hot(data), real_aux, exclusive)), 0.0, ()
        ce = tf.reduce_mean(lsc_losses.attribute_cross_entropy(prior[1], fake_aux, exclusive))
        return 0.0, self.classifier_weight * ce, (ce,)

    def _adc_terms(self, real_aux, fake_aux, data, prior):
        """ADC-GAN's terms (class docstring): targets ``[S, 0]`` ("real S") and ``[0, S]`` ("generated S"); the
        real-class pull is the same cross-entropy over the first K logits with target S."""
        def ce(logits, *parts):
            target = tf.concat([tf.cast(part, tf.float32) for part in parts], -1)
            return tf.reduce_mean(lsc_losses.attribute_cross_entropy(target, logits, exclusive=True))

        fake_labels = prior[1]
        if real_aux is not None:  # the discriminator's step
            real_labels = self.multi_hot(data)
            d = ce(real_aux, real_labels, tf.zeros_like(real_labels)) + ce(fake_aux, tf.zeros_like(fake_labels),
                                                                            fake_labels)
            return self.d_classifier_weight * d, 0.0, ()
        g = ce(fake_aux, fake_labels, tf.zeros_like(fake_labels))
        weighted = self.classifier_weight * g
        if self.g_real_class_weight:  # C_+: the K "real" logits alone
            weighted += self.g_real_class_weight * ce(fake_aux[:, :self.attributes.size], fake_labels)
        return 0.0, weighted, (g,)

    def discriminator_condition(self, data):
        return self.multi_hot(data) if self.discriminator_kind == "projection" else None

    def get_config(self):
        return {**super().get_config(), **gan_config(self), "discriminator": self.discriminator_kind,
                "classifier_weight": self.classifier_weight, "classifier": self.classifier_kind,
                "d_classifier_weight": self.d_classifier_weight, "g_real_class_weight": self.g_real_class_weight,
                "g_attribute_weight": self.g_attribute_weight,
                "consistency": self.consistency, "consistency_weight": self.consistency_weight,
                "stage2_encoder": self.stage2_encoder}

    def generator_variables(self):
        encoder = self.encoder.trainable_variables if self.stage2_encoder == "trained" else []
        return self.generator.trainable_variables + encoder

    def gan_latent(self, data, batch):
        """z_S ~ N(mu_S, I) with S the attributes of the real batch's examples; returns ``(z, (mu_S, S))``."""
        multi_hot = self.multi_hot(data)
        mean = self.attributes.mean(multi_hot)
        return mean + self.replica_normal(batch), (mean, multi_hot)

    def latent_term(self, z, fake, prior):
        mean, multi_hot = prior
        mu, logvar = self.encoder(fake, training=self.stage2_encoder == "trained")
        if self.consistency == "kl":
            term = tf.reduce_mean(losses.kl_standard_normal(mu, logvar, mean))
        else:
            term = tf.reduce_mean(lsc_losses.latent_mse(z, mu))
        weighted = self.consistency_weight * term
        if self.g_attribute_weight:
            weighted += self.g_attribute_weight * self.attribute_nll(mu, multi_hot)
        return weighted, term
