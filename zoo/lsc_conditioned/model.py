"""`feature_conditioned_gan` (formerly `lsc_conditioned_gan`, still accepted with a DeprecationWarning): a GAN
conditioned on an unsupervised feature space (Durall et al. 2021, "Latent Space Conditioning", section 3)."""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from trainers.base import Model
from trainers.steps import (SEED_STREAMS, apply_gradients, dcgan_adam, first_input, replica_normal, replica_sample,
                            scaled_loss)
from zoo.batching import batched
from zoo.lsc_conditioned import bank as bank_lib
from zoo.lsc_conditioned import extractor as extractor_lib
from zoo.lsc_conditioned import losses
from zoo.lsc_conditioned.networks import CONDITIONINGS, conditional_generator
from zoo.lsc_conditioned.configs import CONFIGS
from zoo.lsc_conditioned.signatures import generate_like_signatures
from zoo.registry import register_model
from zoo.base import ZooModel
from zoo.signatures import Limits
from zoo.sngan.networks import sngan_discriminator

FEATURES = ("per_sample", "whitened")
NEIGHBOURS = ("batch", "bank")


class BankBuilder(keras.callbacks.Callback):
    """Builds the training bank (`LSCConditionedGAN.build_bank`) at the start of training, after a backup restored
    E and the whitening, so a resumed run searches the bank the uninterrupted one searched. The model's `fit`
    appends it last."""

    def on_train_begin(self, logs=None):
        self.model.build_bank()


@register_model("feature_conditioned_gan", family="latent_distribution", configs=CONFIGS,
                aliases=("lsc_conditioned_gan",))
class LSCConditionedGAN(ZooModel, Model):
    """G(z ⊕ f) with f from a fixed feature extractor E, trained with the triple coupled loss.

    One train step on a batch x: f = features(x); for each x_i a "same" and a "different" image; then ``g_steps``
    generator steps (fresh z each) on -log D([x_i, G(z ⊕ f_i)]) (+ the mode-seeking term), then one discriminator
    step on the three couples [x_i, G(z ⊕ f_i)] (adv), [x_i, same_i] (same), [x_i, different_i] (diff)
    (`zoo.lsc_conditioned.losses`).

    Two settings (each argument below; the class defaults are the paper's, config ``mnist32_paper``):

    * paper: ``features="per_sample"`` (E(x) standardised per sample, 384 dims), ``neighbours="batch"``
      (Algorithm 1: nearest and farthest in the batch, L1), ``conditioning="concat"``, no mode-seeking term.
    * working (config ``mnist32``): ``features="whitened"`` (per-dimension standardisation over the training set,
      PCA-whitened to ``bank_dim``; `zoo.lsc_conditioned.bank`), ``neighbours="bank"`` (same: one of the
      ``neighbours_k`` nearest in the training bank; different: outside the ``neighbours_m`` nearest),
      ``conditioning="cbn"`` (`zoo.lsc_conditioned.networks`) and ``mode_seeking`` > 0 (`losses.mode_seeking_loss`).

    The training bank (E's features of the training images, and the images for the couples) is built at the start
    of `fit` from the images given by `use_bank_images` (what `zoo_app.fit.train` does with the training split),
    else from the finite dataset or array `fit` is given. It stays in memory and is not saved; what is saved are
    the whitening (``feature_mean``, ``feature_scale``, ``feature_projection``) and ``bank_size`` bank rows that
    condition unconditional samples (``generate``, ``serving_default``). ``generate_like(images)`` conditions on
    given images.

    Other decisions the paper leaves open: couples are the two images stacked on the channel axis, anchor first;
    the three couples go through D as one batch (one spectral-norm power iteration per step); Algorithm 2's
    "n generator iterations per discriminator iteration" is ``g_steps`` generator steps on one real batch.

    Args:
        image_size, channels, width: the SNGAN networks (`zoo.sngan.networks`); D takes 2 x channels.
        noise_dim: size of z ~ N(0, I); ``latent_dim`` = noise_dim + the condition's size.
        extractor: ``"untrained"`` or ``"rotation"`` (`zoo.lsc_conditioned.extractor`).
        extractor_width, feature_layer, feature_pool, extractor_seed: E's architecture and initialisation.
        extractor_steps: rotation-prediction steps (batch of the fit data x 4 rotations) before the GAN trains.
        features, bank_dim: ``per_sample`` or ``whitened`` to ``bank_dim`` dims (the condition's size).
        neighbours, neighbours_k, neighbours_m: ``batch`` or ``bank``, with its k and m.
        bank_examples: at most this many training images in the bank (None: all).
        conditioning: ``concat`` or ``cbn``. mode_seeking: the weight of the mode-seeking term in G's loss.
        lambda_adv, lambda_same, lambda_diff: eq. 5's weights. prototype: ``full`` or table 3's ``A``/``B``/``C``.
        g_steps: Algorithm 2's n. loss: ``non_saturating`` (the paper's log form) or ``hinge``.
        bank_size: bank rows saved for unconditional sampling. seed: noise of the train steps.
    """

    def __init__(self, image_size=32, channels=1, width=64, noise_dim=128, extractor="untrained",
                 extractor_width=64, feature_layer="conv3", feature_pool=1, extractor_seed=0, extractor_steps=2000,
                 features="per_sample", bank_dim=32, neighbours="batch", neighbours_k=5, neighbours_m=100,
                 bank_examples=None, conditioning="concat", mode_seeking=0.0, lambda_adv=1.0, lambda_same=1.0,
                 lambda_diff=1.0, prototype="full", g_steps=1, loss="non_saturating", bank_size=1024, seed=0,
                 **kwargs):
        super().__init__(**kwargs)
        for value, known, what in ((extractor, extractor_lib.EXTRACTORS, "extractor"),
                                   (prototype, losses.PROTOTYPES, "prototype"), (loss, losses.LOSSES, "loss"),
                                   (features, FEATURES, "features"), (neighbours, NEIGHBOURS, "neighbours"),
                                   (conditioning, CONDITIONINGS, "conditioning")):
            if value not in known:
                note = " (table 3)" if what == "prototype" else ""
                raise ValueError(f"Unknown {what} {value!r}. Known: {', '.join(known)}{note}.")
        if int(g_steps) < 1:
            raise ValueError(f"g_steps must be a positive integer, got {g_steps!r}.")
        if not 1 <= int(neighbours_k) <= int(neighbours_m):
            raise ValueError(f"Need 1 <= neighbours_k <= neighbours_m, got k={neighbours_k}, m={neighbours_m}.")
        self.image_size, self.channels, self.width = int(image_size), int(channels), int(width)
        self.noise_dim, self.extractor_kind = int(noise_dim), extractor
        self.extractor_width, self.feature_layer, self.feature_pool = int(extractor_width), feature_layer, int(
            feature_pool)
        self.extractor_seed, self.extractor_steps = int(extractor_seed), int(extractor_steps)
        self.features_kind, self.bank_dim, self.neighbours_kind = features, int(bank_dim), neighbours
        self.neighbours_k, self.neighbours_m = int(neighbours_k), int(neighbours_m)
        self.bank_examples = None if bank_examples is None else int(bank_examples)
        self.conditioning, self.mode_seeking = conditioning, float(mode_seeking)
        self.lambdas = (float(lambda_adv), float(lambda_same), float(lambda_diff))
        self.prototype, self.g_steps, self.loss_name = prototype, int(g_steps), loss
        self.weights_used = tuple(w * on for w, on in zip(self.lambdas, losses.PROTOTYPES[prototype]))
        self.bank_size, self.seed = int(bank_size), int(seed)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.extractor = extractor_lib.alexnet_extractor(self.image_size, self.channels, self.extractor_width,
                                                         feature_layer, self.feature_pool, self.extractor_seed)
        self.extractor.trainable = extractor == "rotation"
        self.raw_dim = int(self.extractor.output.shape[-1])
        self.feature_dim = self.bank_dim if features == "whitened" else self.raw_dim
        if features == "whitened" and not 1 <= self.bank_dim <= self.raw_dim:
            raise ValueError(f"bank_dim={bank_dim} must be between 1 and E's feature size {self.raw_dim}.")
        self.latent_dim = self.noise_dim + self.feature_dim
        self.generator = conditional_generator(self.noise_dim, self.feature_dim, self.image_size, self.channels,
                                               self.width, conditioning)
        self.discriminator = sngan_discriminator(self.image_size, 2 * self.channels, self.width)
        if extractor == "rotation":
            self.rotation_net = extractor_lib.rotation_network(self.extractor)
        state = lambda v, name, dtype="float32": keras.Variable(v, dtype=dtype, trainable=False, name=name,  # noqa
                                                                aggregation="only_first_replica")
        self.extractor_ready = state(int(extractor == "untrained"), "extractor_ready", "int32")
        self.bank_ready = state(0, "bank_ready", "int32")
        self.feature_mean = state(np.zeros(self.raw_dim, np.float32), "feature_mean")
        self.feature_scale = state(np.ones(self.raw_dim, np.float32), "feature_scale")
        self.feature_projection = state(np.eye(self.raw_dim, self.feature_dim, dtype=np.float32),
                                        "feature_projection")
        self.feature_bank = state(np.zeros((self.bank_size, self.feature_dim), np.float32), "feature_bank")
        self.bank_count = state(0, "bank_count", "int32")
        self._bank_images = None  # the training bank: set by use_bank_images, built by build_bank (not saved)
        self._train_bank = None
        names = ("d_loss", "g_loss", "d_adv", "d_same", "d_diff") + (("ms_ratio",) if self.mode_seeking else ())
        self.trackers = {n: keras.metrics.Mean(name=n) for n in names}
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update(image_size=self.image_size, channels=self.channels, width=self.width,
                      noise_dim=self.noise_dim, extractor=self.extractor_kind, extractor_width=self.extractor_width,
                      feature_layer=self.feature_layer, feature_pool=self.feature_pool,
                      extractor_seed=self.extractor_seed, extractor_steps=self.extractor_steps,
                      features=self.features_kind, bank_dim=self.bank_dim, neighbours=self.neighbours_kind,
                      neighbours_k=self.neighbours_k, neighbours_m=self.neighbours_m,
                      bank_examples=self.bank_examples, conditioning=self.conditioning,
                      mode_seeking=self.mode_seeking,
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

    # ------------------------------------------------------------- features and the bank
    def features(self, images):
        """The condition f of `images`: E(x) standardised per sample (``per_sample``), or whitened with the
        training bank's statistics (``whitened``, `zoo.lsc_conditioned.bank.whiten`)."""
        return self._condition(self.extractor(images, training=False))

    def _condition(self, raw):
        if self.features_kind == "per_sample":
            return extractor_lib.standardise(raw)
        return bank_lib.whiten(raw, self.feature_mean, self.feature_scale, self.feature_projection)

    def use_bank_images(self, images):
        """The training images the bank is built from (numpy ``[N, H, W, C]`` in [-1, 1]); `fit` builds it."""
        images = np.asarray(images, np.float32)
        self._check_images(images.shape, "Bank images must be")
        self._bank_images = images[:self.bank_examples] if self.bank_examples else images
        if self._train_bank is not None:  # a traced train step holds the old bank: the next fit traces anew
            self.train_function = None
        self._train_bank = None

    def _check_images(self, shape, lead):
        expected = (self.image_size, self.image_size, self.channels)
        if len(shape) != 4 or tuple(shape[1:]) != expected:
            raise ValueError(f"{lead} [N, {', '.join(map(str, expected))}] in [-1, 1]; got shape {tuple(shape)}. "
                             f"Resize to {self.image_size}x{self.image_size} with {self.channels} channel(s).")

    def build_bank(self):
        """E's features of the bank images; on the first build, the whitening and the saved sampling rows too.
        Rebuilt only when E or the whitening changed since the last build (a restored backup)."""
        if self._bank_images is None:
            raise ValueError("The feature bank has no images: call model.use_bank_images(train_images) or fit on "
                             "a finite dataset or an array of images.")
        key = [v.numpy() for v in self.extractor.weights + [self.feature_mean, self.feature_projection]]
        if self._train_bank is not None and all(np.array_equal(a, b) for a, b in zip(key, self._train_bank[0])):
            return
        raw = batched(tf.function(lambda b: self.extractor(b, training=False)), self._bank_images)
        if self.features_kind == "whitened" and not int(self.bank_ready.numpy()):
            for var, value in zip((self.feature_mean, self.feature_scale, self.feature_projection),
                                  bank_lib.fit_whitening(raw, self.bank_dim)):
                var.assign(value)
            key = [v.numpy() for v in self.extractor.weights + [self.feature_mean, self.feature_projection]]
        f = batched(self._condition, raw, 4096)
        if not int(self.bank_ready.numpy()):  # the rows that condition unconditional samples, a seeded draw
            rows = np.random.default_rng(self.seed).permutation(len(f))[:self.bank_size]
            self.feature_bank.assign(np.resize(f[rows], (self.bank_size, self.feature_dim)))
            self.bank_count.assign(min(len(f), self.bank_size))
            self.bank_ready.assign(1)
        if self.neighbours_kind == "bank" and len(f) <= self.neighbours_m:
            raise ValueError(f"The bank holds {len(f)} images; neighbours_m={self.neighbours_m} needs more.")
        images = tf.constant(self._bank_images) if self.neighbours_kind == "bank" else None
        self._train_bank = (key, tf.constant(f), images, tf.constant(np.sum(np.square(f), -1)))

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

    def fit(self, x=None, *args, callbacks=None, **kwargs):
        """`keras.Model.fit`, after the rotation pretext training when ``extractor="rotation"`` (once: a resumed
        run whose restored weights say the extractor is ready trains it again, then restores over it), with the
        training bank built at the start (`BankBuilder`, from `use_bank_images` or else the images of `x`)."""
        if isinstance(x, tf.data.Dataset):
            self.pretrain_extractor(x, verbose=kwargs.get("verbose", "auto") and 2)
        if self._bank_images is None:
            self.use_bank_images(self._images_of(x))
        callbacks = list(callbacks or [])
        if not any(isinstance(cb, BankBuilder) for cb in callbacks):
            callbacks.append(BankBuilder())
        return super().fit(x, *args, callbacks=callbacks, **kwargs)

    def _images_of(self, x):
        if isinstance(x, tf.data.Dataset):
            size = int(x.cardinality())
            if size == tf.data.INFINITE_CARDINALITY or (size < 0 and not self.bank_examples):
                raise ValueError("fit got a dataset of endless or unknown length and no bank images: call "
                                 "model.use_bank_images(train_images) first (zoo_app.fit.train does), or set "
                                 "bank_examples to take the bank from the dataset's first images.")
            limit, out, n = self.bank_examples, [], 0
            for batch in x:
                out.append(np.asarray(first_input(batch)))
                n += len(out[-1])
                if limit and n >= limit:
                    break
            return np.concatenate(out)
        return np.asarray(first_input(x))

    # ------------------------------------------------------------- sampling
    def sample_latent(self, batch_size, seed):
        """z ~ N(0, I) ⊕ f, f drawn uniformly from the saved bank rows (zeros before the bank is built)."""
        seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int32), 2)
        z = tf.random.stateless_normal([batch_size, self.noise_dim], seed=seeds[0])
        filled = tf.maximum(self.bank_count, 1)
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
        images = tf.convert_to_tensor(images)
        self._check_images(tuple(images.shape), "generate_like takes images")
        return self.like(images, tf.constant([seed, SEED_STREAMS["generate_like"]], tf.int32))

    def conditioning_record(self, images, labels, dataset, split="test", seed=7) -> dict:
        """Conditional accuracy of ``generate_like(images, seed)`` (the paper's "accuracy"): the share the zoo's
        classifier of `dataset` labels with the label of the image it was conditioned on, per class too, and how it
        was measured. What the presets' cards carry and `tests/test_presets.py` recomputes."""
        from zoo.metrics import compute

        like = batched(lambda b: self.generate_like(b, seed=seed), np.asarray(images, np.float32))
        rec = compute("conditional_accuracy", fake=like, requested=np.asarray(labels), dataset=dataset, seed=seed)
        protocol = {**rec.protocol, "split": f"{split}[:{len(labels)}]", "n_fake": len(labels),
                    "call": f"generate_like(images, seed={seed}), one image per conditioning image"}
        return {"conditional_accuracy": rec.value, "per_class": rec.details["per_class"], "protocol": protocol}

    def serving_signatures(self, limits=None):
        limits = limits or Limits()
        return {**super().serving_signatures(limits), **generate_like_signatures(self, limits)}

    # ------------------------------------------------------------- training
    def _couples(self, x, f):
        """The "same" and "different" images of each anchor: from the bank, or Algorithm 1 in the batch."""
        if self.neighbours_kind == "batch":
            nearest, farthest = losses.neighbours(f)
            return tf.gather(x, nearest), tf.gather(x, farthest)
        if self._train_bank is None:
            raise ValueError("neighbours='bank' needs the training bank: train through fit (it builds it), or "
                             "call model.use_bank_images(images) and model.build_bank() first.")
        _, bank_f, bank_images, bank_sq = self._train_bank
        u = replica_sample(self.seed_generator, lambda n, s: tf.random.stateless_uniform(
            [n, 1 + bank_lib.CANDIDATES], seed=s), tf.shape(x)[0])
        same, diff = bank_lib.bank_neighbours(f, bank_f, self.neighbours_k, self.neighbours_m, u[:, 0], u[:, 1:],
                                              bank_sq)
        return tf.gather(bank_images, same), tf.gather(bank_images, diff)

    def _g_step(self, x, f, batch):
        z = replica_normal(self.seed_generator, batch, self.noise_dim)
        z2 = replica_normal(self.seed_generator, batch, self.noise_dim) if self.mode_seeking else None
        with tf.GradientTape() as tape:
            fake = self.generator(tf.concat([z, f], -1), training=True)
            adv_logits = tf.cast(self.discriminator(losses.couple(x, fake), training=True), tf.float32)
            g_loss = losses.triple_coupled_g_loss(adv_logits, self.loss_name)
            extra = {}
            if self.mode_seeking:
                fake2 = self.generator(tf.concat([z2, f], -1), training=True)
                ms = losses.mode_seeking_loss(fake, fake2, z, z2)
                extra["ms_ratio"] = 1.0 / ms
                g_loss += self.mode_seeking * ms
            scaled = scaled_loss(self.g_optimizer, g_loss)
        apply_gradients(self.g_optimizer, tape, scaled, self.generator.trainable_variables)
        return g_loss, extra

    def train_step(self, data):
        x = tf.cast(first_input(data), tf.float32)
        batch = tf.shape(x)[0]
        f = self.features(x)
        same_x, diff_x = self._couples(x, f)
        same, diff = losses.couple(x, same_x), losses.couple(x, diff_x)
        for _ in range(self.g_steps):
            g_loss, extra = self._g_step(x, f, batch)
        fake = self.generator(tf.concat([replica_normal(self.seed_generator, batch, self.noise_dim), f], -1),
                              training=True)
        with tf.GradientTape() as tape:
            couples = tf.concat([losses.couple(x, fake), same, diff], axis=0)
            logits = tf.cast(self.discriminator(couples, training=True), tf.float32)
            adv_l, same_l, diff_l = tf.split(logits, 3, axis=0)
            d_loss, _ = losses.triple_coupled_d_loss(adv_l, same_l, diff_l, self.weights_used, self.loss_name)
            scaled = scaled_loss(self.d_optimizer, d_loss)
        apply_gradients(self.d_optimizer, tape, scaled, self.discriminator.trainable_variables)
        values = {"d_loss": d_loss, "g_loss": g_loss, **extra}
        values.update(zip(("d_adv", "d_same", "d_diff"), (tf.reduce_mean(tf.sigmoid(v)) for v in (adv_l, same_l,
                                                                                                  diff_l))))
        for name, tracker in self.trackers.items():
            tracker.update_state(values[name])
        return self.logs()
