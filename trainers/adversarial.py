"""The base adversarial `keras.Model` that every GAN in the zoo extends.

The keras.io GAN idiom (two optimizers, `Mean` trackers, custom `train_step`) made correct under
`tf.distribute` and mixed precision:

* ``compile(g_optimizer=..., d_optimizer=...)`` calls ``super().compile(optimizer=None)`` (a bare
  ``compile()`` would build a default RMSprop over every weight) and builds both optimizers' slots inside
  the strategy scope (lazily created slots inside the traced step fail under MirroredStrategy).
* Each replica's loss is divided by ``num_replicas_in_sync`` inside the tape (gradients are SUM-reduced).
* Noise for a replica is its slice of the global batch's draw (:func:`trainers.strategy.replica_slice`),
  from a seed drawn from the model's `keras.random.SeedGenerator`: the same seed and data give the same
  weights on one device and on n replicas.
* Under a ``mixed_float16`` policy the optimizers are wrapped in `keras.optimizers.LossScaleOptimizer`
  and losses go through ``optimizer.scale_loss`` (``compile`` only wraps ``self.optimizer`` by itself).

Per generator step the critic takes ``n_critic`` steps on the same real batch with fresh noise (as the
keras.io WGAN-GP example; the WGAN-GP paper draws a fresh real batch per critic step: with n_critic=1,
the zoo's default, the two agree).

Two update orders (``update=``):

* ``"alternating"`` (default, Goodfellow et al. 2014, Algorithm 1): the critic steps, then the generator
  steps against the updated critic with fresh noise.
* ``"simultaneous"`` (the tensorflow.org DCGAN tutorial's step): one generator forward pass, both losses
  taken from the same critic outputs, both networks updated from the same point. It saves one generator and
  one critic forward pass per step; it needs ``n_critic == 1``.
"""
from __future__ import annotations

import keras
import tensorflow as tf

from trainers import losses as losses_lib
from trainers.base import Model
from trainers.steps import apply_gradients, dcgan_adam, first_input, replica_sample, scaled_loss


class AdversarialModel(Model):
    """Generator + discriminator trained by `fit` with a named adversarial loss.

    Subclasses build ``self.generator`` (latent ``[B, latent_dim]`` -> sample) and ``self.discriminator``
    (sample -> logits ``[B, 1]``) in ``__init__`` and may override :meth:`sample_latent` (the prior) and
    :meth:`unpack_real` (what of a batch is the real sample).

    Args:
        latent_dim: size of the generator's input.
        loss: one of `trainers.losses.LOSSES`: ``non_saturating``, ``minimax``, ``least_squares``,
            ``wasserstein``, ``hinge``.
        n_critic: discriminator steps per generator step.
        gp_weight: weight of the per-sample gradient penalty; ``None`` means 10 for ``wasserstein``
            (WGAN-GP) and 0 otherwise.
        r1_weight: gamma of the R1 penalty on real images (Mescheder et al. 2018, eq. 9:
            ``L_D + gamma / 2 * E_x ||grad_x D(x)||^2``, `trainers.losses.r1_penalty`); 0 (default): none.
        seed: seed of the model's `SeedGenerator` (noise of every train step).
        update: ``"alternating"`` or ``"simultaneous"`` (see the module docstring).
    """

    def __init__(self, latent_dim=128, loss="non_saturating", n_critic=1, gp_weight=None, seed=0,
                 update="alternating", r1_weight=0.0, **kwargs):
        super().__init__(**kwargs)
        self.loss_pair = losses_lib.get_loss(loss)
        if int(n_critic) < 1:
            raise ValueError(f"n_critic must be a positive integer, got {n_critic!r}.")
        if update not in UPDATES:
            raise ValueError(f"Unknown update {update!r}. Known: {', '.join(UPDATES)}.")
        if update == "simultaneous" and int(n_critic) != 1:
            raise ValueError(f"update='simultaneous' needs n_critic=1 (got {n_critic}); use update='alternating'.")
        self.update = update
        self.latent_dim = int(latent_dim)
        self.loss_name = loss
        self.n_critic = int(n_critic)
        self.gp_weight = float(gp_weight if gp_weight is not None else (10.0 if loss == "wasserstein" else 0.0))
        self._gp_weight_arg = gp_weight
        if float(r1_weight) < 0:
            raise ValueError(f"r1_weight must be >= 0 (gamma of R1; 0: none), got {r1_weight!r}.")
        self.r1_weight = float(r1_weight)
        self.seed = int(seed)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.gp_tracker = keras.metrics.Mean(name="gp")
        self.r1_tracker = keras.metrics.Mean(name="r1")
        self._trackers = ([self.d_loss_tracker, self.g_loss_tracker] + ([self.gp_tracker] if self.gp_weight else [])
                          + ([self.r1_tracker] if self.r1_weight else []))

    # ----------------------------------------------------------------- config
    def get_config(self):
        config = super().get_config()
        config.update(
            latent_dim=self.latent_dim,
            loss=self.loss_name,
            n_critic=self.n_critic,
            gp_weight=self._gp_weight_arg,
            r1_weight=self.r1_weight,
            seed=self.seed,
            update=self.update,
        )
        return config

    # --------------------------------------------------------------- compile
    def optimizer_roles(self):
        """``g_optimizer`` and ``d_optimizer``, one per network (defaults: Adam 2e-4, beta_1 0.5, as DCGAN)."""
        return {"g_optimizer": (dcgan_adam, lambda: self.generator.trainable_variables),
                "d_optimizer": (dcgan_adam, lambda: self.discriminator.trainable_variables)}

    @property
    def metrics(self):
        return list(self._trackers)

    # ------------------------------------------------------------- sampling
    def call(self, z, training=False):
        return self.generator(z, training=training)

    def unpack_real(self, data):
        """The real sample of a batch (`trainers.steps.first_input`)."""
        return first_input(data)

    def _replica_latent(self, batch):
        return replica_sample(self.seed_generator, self.sample_latent, batch)

    def _replica_uniform(self, batch):
        return replica_sample(self.seed_generator, lambda n, seed: tf.random.stateless_uniform([n], seed=seed), batch)

    # ------------------------------------------------------------ train step
    def _d_losses(self, real, fake, eps):
        """Critic loss, its penalties ``(gp, r1)``, their weighted sum, and the fake logits (for a simultaneous
        generator loss)."""
        def critic(x):
            return self.discriminator(x, training=True)

        if self.r1_weight:
            real_logits, r1 = losses_lib.r1_penalty(critic, real)
        else:
            real_logits, r1 = tf.cast(critic(real), tf.float32), tf.constant(0.0)
        fake_logits = tf.cast(critic(fake), tf.float32)
        d_loss = self.loss_pair.d(real_logits, fake_logits)
        gp = tf.constant(0.0)
        if self.gp_weight:
            gp = losses_lib.gradient_penalty(critic, real, fake, eps)
        return d_loss, (gp, r1), self.gp_weight * gp + 0.5 * self.r1_weight * r1, fake_logits

    def d_step(self, real):
        batch = tf.shape(real)[0]
        fake = self.generator(self._replica_latent(batch), training=True)
        eps = self._replica_uniform(batch) if self.gp_weight else None
        with tf.GradientTape() as tape:
            d_loss, penalties, weighted, _ = self._d_losses(real, fake, eps)
            scaled = scaled_loss(self.d_optimizer, d_loss + weighted)
        apply_gradients(self.d_optimizer, tape, scaled, self.discriminator.trainable_variables)
        return d_loss, penalties

    def simultaneous_step(self, real):
        batch = tf.shape(real)[0]
        z = self._replica_latent(batch)
        eps = self._replica_uniform(batch) if self.gp_weight else None
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = self.generator(z, training=True)
            d_loss, penalties, weighted, fake_logits = self._d_losses(real, fake, eps)
            g_loss = self.loss_pair.g(fake_logits)
            d_scaled = scaled_loss(self.d_optimizer, d_loss + weighted)
            g_scaled = scaled_loss(self.g_optimizer, g_loss)
        apply_gradients(self.d_optimizer, d_tape, d_scaled, self.discriminator.trainable_variables)
        apply_gradients(self.g_optimizer, g_tape, g_scaled, self.generator.trainable_variables)
        return d_loss, penalties, g_loss

    def g_step(self, batch):
        z = self._replica_latent(batch)
        with tf.GradientTape() as tape:
            fake_logits = tf.cast(self.discriminator(self.generator(z, training=True), training=True), tf.float32)
            g_loss = self.loss_pair.g(fake_logits)
            scaled = scaled_loss(self.g_optimizer, g_loss)
        apply_gradients(self.g_optimizer, tape, scaled, self.generator.trainable_variables)
        return g_loss

    def train_step(self, data):
        real = self.unpack_real(data)
        if self.update == "simultaneous":
            d_loss, (gp, r1), g_loss = self.simultaneous_step(real)
        else:
            for _ in range(self.n_critic):
                d_loss, (gp, r1) = self.d_step(real)
            g_loss = self.g_step(tf.shape(real)[0])
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        if self.gp_weight:
            self.gp_tracker.update_state(gp)
        if self.r1_weight:
            self.r1_tracker.update_state(r1)
        return self.logs()


UPDATES = ("alternating", "simultaneous")

