"""`feature_conditioned_gan` (formerly `lsc_conditioned_gan`, still accepted with a DeprecationWarning): a GAN
conditioned on an unsupervised feature space (Durall et al. 2021, "Latent Space Conditioning", section 3)."""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from trainers.base import Model
from trainers.steps import SEED_STREAMS, apply_gradients, dcgan_adam, first_input, replica_normal, scaled_loss
from zoo.lsc_conditioned import extractor as extractor_lib
from zoo.lsc_conditioned import losses
from zoo.lsc_conditioned.configs import CONFIGS
from zoo.lsc_conditioned.signatures import generate_like_signatures
from zoo.registry import register_model
from zoo.base import ZooModel
from zoo.signatures import Limits
from zoo.sngan.networks import sngan_discriminator, sngan_generator


@register_model("feature_conditioned_gan", family="latent_distribution", configs=CONFIGS,
                aliases=("lsc_conditioned_gan",))
class LSCConditionedGAN(ZooModel, Model):
    """G(z ⊕ f) with f = E(x) from a fixed feature extractor, trained with the triple coupled loss.

    One train step on a batch x (Algorithms 1 and 2): f = E(x); for each x_i its nearest x_n(i) and farthest
    x_f(i) batch neighbour in L1 over f; then ``g_steps`` generator steps (fresh z each) on
    -log D([x_i, G(z ⊕ f_i)]), then one discriminator step on the three couples
    [x_i, G(z ⊕ f_i)] (adv), [x_i, x_n(i)] (same), [x_i, x_f(i)] (diff) (`zoo.lsc_conditioned.losses`).

    Decisions the paper leaves open (configurable where it matters): couples are the two images stacked on the
    channel axis, anchor first; the anchor of every couple is x_i, the image whose features condition the fake;
    the three couples go through D as one batch (one spectral-norm power iteration per step); neighbours are
    found within each replica's batch; Algorithm 2's "n generator iterations per discriminator iteration" is
    ``g_steps`` generator steps on one real batch, then the D step.

    Unconditional samples (``generate``, ``serving_default``) draw f from a bank of the last ``bank_size``
    training features (saved with the weights); ``generate_like(images)`` conditions on given images.

    Args:
        image_size, channels, width: the SNGAN networks (`zoo.sngan.networks`); D takes 2 x channels.
        noise_dim: size of z ~ N(0, I); ``latent_dim`` = noise_dim + the feature size.
        extractor: ``"untrained"`` or ``"rotation"`` (`zoo.lsc_conditioned.extractor`).
        extractor_width, feature_layer, feature_pool, extractor_seed: E's architecture and initialisation.
        extractor_steps: rotation-prediction steps (batch of the fit data x 4 rotations) before the GAN trains.
        lambda_adv, lambda_same, lambda_diff: eq. 5's weights. prototype: ``full`` or table 3's ``A``/``B``/``C``.
        g_steps: Algorithm 2's n. loss: ``non_saturating`` (the paper's log form) or ``hinge``.
        bank_size: features kept for unconditional sampling. seed: noise of the train steps.
    """

    def __init__(self, image_size=32, channels=1, width=64, noise_dim=128, extractor="untrained",
                 extractor_width=64, feature_layer="conv3", feature_pool=1, extractor_seed=0, extractor_steps=2000,
                 lambda_adv=1.0, lambda_same=1.0, lambda_diff=1.0, prototype="full", g_steps=1,
                 loss="non_saturating", bank_size=1024, seed=0, **kwargs):
        super().__init__(**kwargs)
        if extractor not in extractor_lib.EXTRACTORS:
            raise ValueError(f"Unknown extractor {extractor!r}. Known: {', '.join(extractor_lib.EXTRACTORS)}.")
        if prototype not in losses.PROTOTYPES:
            raise ValueError(f"Unknown prototype {prototype!r}. Known: {', '.join(losses.PROTOTYPES)} (table 3).")
        if loss not in losses.LOSSES:
            raise ValueError(f"Unknown loss {loss!r}. Known: {', '.join(losses.LOSSES)}.")
        if int(g_steps) < 1:
            raise ValueError(f"g_steps must be a positive integer, got {g_steps!r}.")
        self.image_size, self.channels, self.width = int(image_size), int(channels), int(width)
        self.noise_dim, self.extractor_kind = int(noise_dim), extractor
        self.extractor_width, self.feature_layer, self.feature_pool = int(extractor_width), feature_layer, int(
            feature_pool)
        self.extractor_seed, self.extractor_steps = int(extractor_seed), int(extractor_steps)
        self.lambdas = (float(lambda_adv), float(lambda_same), float(lambda_diff))
        self.prototype, self.g_steps, self.loss_name = prototype, int(g_steps), loss
        self.weights_used = tuple(w * on for w, on in zip(self.lambdas, losses.PROTOTYPES[prototype]))
        self.bank_size, self.seed = int(bank_size), int(seed)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.extractor = extractor_lib.alexnet_extractor(self.image_size, self.channels, self.extractor_width,
                                                         feature_layer, self.feature_pool, self.extractor_seed)
        self.extractor.trainable = extractor == "rotation"
        self.feature_dim = int(self.extractor.output.shape[-1])
        self.latent_dim = self.noise_dim + self.feature_dim
        self.generator = sngan_generator(self.latent_dim, self.image_size, self.channels, self.width)
        self.discriminator = sngan_discriminator(self.image_size, 2 * self.channels, self.width)
        if extractor == "rotation":
            self.rotation_net = extractor_lib.rotation_network(self.extractor)
        self.extractor_ready = keras.Variable(int(extractor == "untrained"), dtype="int32", trainable=False,
                                              name="extractor_ready")
        self.feature_bank = keras.Variable(np.zeros((self.bank_size, self.feature_dim), np.float32), trainable=False,
                                           name="feature_bank", aggregation="only_first_replica")
        self.bank_count = keras.Variable(0, dtype="int32", trainable=False, name="bank_count",
                                         aggregation="only_first_replica")
        names = ("d_loss", "g_loss", "d_adv", "d_same", "d_diff")
        self.trackers = {n: keras.metrics.Mean(name=n) for n in names}
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update(image_size=self.image_size, channels=self.channels, width=self.width,
                      noise_dim=self.noise_dim, extractor=self.extractor_kind, extractor_width=self.extractor_width,
                      feature_layer=self.feature_layer, feature_pool=self.feature_pool,
                      extractor_seed=self.extractor_seed, extractor_steps=self.extractor_steps,
                      lambda_adv=self.lambdas[0], lambda_same=self.lambdas[1], lambda_diff=self.lambdas[2],
                      prototype=self.prototype, g_steps=self.g_steps, loss=self.loss_name,
                      bank_size=self.bank_size, seed=self.seed)
        return config

    def optimizer_roles(self):
        """G's and D's optimizers (default Adam 2e-4, beta_1 0.5) and, for a rotation extractor, E's
        ``rotation_optimizer`` (Adam 1e-3)."""
        roles = {"g_optimizer": (dcgan_adam, lambda: self.generator.trainable_variables),
                 "d_optimizer": (dcgan_adam, lambda: self.discriminator.trainable_variables)}
        if self.extractor_kind == "rotation":
            roles["rotation_optimizer"] = (lambda: keras.optimizers.Adam(1e-3),
                                           lambda: self.rotation_net.trainable_variables)
        return roles

    def compile(self, *args, **kwargs):
        super().compile(*args, **kwargs)
        if self.extractor_kind == "rotation":  # rotation prediction trains through its own Keras fit
            self.rotation_net.compile(optimizer=self.rotation_optimizer,
                                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                                      metrics=["accuracy"])

    @property
    def metrics(self):
        return list(self.trackers.values())

    # ------------------------------------------------------------- features
    def features(self, images):
        """f = standardise(E(x)) (`zoo.lsc_conditioned.extractor`)."""
        return extractor_lib.standardise(self.extractor(images, training=False))

    def pretrain_extractor(self, dataset, steps=None, verbose=0):
        """Rotation prediction on the images of `dataset` (labels, if any, are dropped); then E is frozen."""
        if self.extractor_kind != "rotation" or int(self.extractor_ready.numpy()):
            return None
        self.extractor.trainable = True
        ds = dataset.map(lambda *d: extractor_lib.rotation_batch(first_input(d if len(d) > 1 else d[0]))).repeat()
        history = self.rotation_net.fit(ds, epochs=1, steps_per_epoch=steps or self.extractor_steps, verbose=verbose)
        self.extractor.trainable = False
        self.extractor_ready.assign(1)
        return history

    def fit(self, x=None, *args, **kwargs):
        """`keras.Model.fit`, after the rotation pretext training when ``extractor="rotation"`` (once: a resumed
        run whose restored weights say the extractor is ready trains it again, then restores over it)."""
        if isinstance(x, tf.data.Dataset):
            self.pretrain_extractor(x, verbose=kwargs.get("verbose", "auto") and 2)
        return super().fit(x, *args, **kwargs)

    # ------------------------------------------------------------- sampling
    def sample_latent(self, batch_size, seed):
        """z ~ N(0, I) ⊕ f, f drawn uniformly from the feature bank (zeros before any training step)."""
        seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int32), 2)
        z = tf.random.stateless_normal([batch_size, self.noise_dim], seed=seeds[0])
        filled = tf.maximum(self.bank_count, 1)  # _update_bank caps the count at bank_size
        rows = tf.random.stateless_uniform([batch_size], seeds[1], minval=0, maxval=filled, dtype=tf.int32)
        return tf.concat([z, tf.gather(self.feature_bank, rows)], axis=-1)

    def call(self, latent, training=False):
        return self.generator(latent, training=training)

    def like(self, images, seed_pair):
        """G(z ⊕ f(images)), z ~ N(0, I) from a ``[2]`` int seed: what `generate_like` and its serving signature
        run."""
        f = self.features(images)
        z = tf.random.stateless_normal([tf.shape(f)[0], self.noise_dim], seed=seed_pair)
        return self.generator(tf.concat([z, f], axis=-1), training=False)

    def generate_like(self, images, seed=0):
        """New images conditioned on the features of `images` (one per image; z from `seed`)."""
        return self.like(images, tf.constant([seed, SEED_STREAMS["generate_like"]], tf.int32))

    def serving_signatures(self, limits=None):
        limits = limits or Limits()
        return {**super().serving_signatures(limits), **generate_like_signatures(self, limits)}

    # ------------------------------------------------------------- training
    def _update_bank(self, f):
        bank = tf.concat([tf.cast(f, tf.float32), self.feature_bank], axis=0)[:self.bank_size]
        self.feature_bank.assign(bank)
        self.bank_count.assign(tf.minimum(self.bank_count + tf.shape(f)[0], self.bank_size))

    def train_step(self, data):
        x = tf.cast(first_input(data), tf.float32)
        batch = tf.shape(x)[0]
        f = self.features(x)
        nearest, farthest = losses.neighbours(f)
        same = losses.couple(x, tf.gather(x, nearest))
        diff = losses.couple(x, tf.gather(x, farthest))
        for _ in range(self.g_steps):
            z = replica_normal(self.seed_generator, batch, self.noise_dim)
            with tf.GradientTape() as tape:
                fake = self.generator(tf.concat([z, f], -1), training=True)
                adv_logits = tf.cast(self.discriminator(losses.couple(x, fake), training=True), tf.float32)
                g_loss = losses.triple_coupled_g_loss(adv_logits, self.loss_name)
                scaled = scaled_loss(self.g_optimizer, g_loss)
            apply_gradients(self.g_optimizer, tape, scaled, self.generator.trainable_variables)
        fake = self.generator(tf.concat([replica_normal(self.seed_generator, batch, self.noise_dim), f], -1),
                              training=True)
        with tf.GradientTape() as tape:
            couples = tf.concat([losses.couple(x, fake), same, diff], axis=0)
            logits = tf.cast(self.discriminator(couples, training=True), tf.float32)
            adv_l, same_l, diff_l = tf.split(logits, 3, axis=0)
            d_loss, _ = losses.triple_coupled_d_loss(adv_l, same_l, diff_l, self.weights_used, self.loss_name)
            scaled = scaled_loss(self.d_optimizer, d_loss)
        apply_gradients(self.d_optimizer, tape, scaled, self.discriminator.trainable_variables)
        self._update_bank(f)
        values = (d_loss, g_loss) + tuple(tf.reduce_mean(tf.sigmoid(v)) for v in (adv_l, same_l, diff_l))
        for name, value in zip(self.trackers, values):
            self.trackers[name].update_state(value)
        return self.logs()
