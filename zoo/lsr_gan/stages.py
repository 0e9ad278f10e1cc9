"""Two-stage training inside one `model.fit`: stage 1 trains a VAE, stage 2 a GAN whose generator starts as the
trained decoder (LSR-GAN 2.2, LSC-GAN 3). The switch is a schedule, so it is a callback.

* The model builds every network up front (encoder, decoder, generator, discriminator) and compiles three
  optimizers: ``optimizer`` (stage 1), ``g_optimizer`` and ``d_optimizer`` (stage 2). Nothing is rebuilt at the
  switch: the generator's weights are set from the decoder's, and the train step is retraced once.
* A non-trainable ``second_stage`` variable records that the switch happened. It is saved with the weights, so a
  run killed in stage 2 and resumed from a backup (`trainers.resume.ExactBackup`, or Keras' `BackupAndRestore`)
  does not copy the decoder over the restored generator again.
* Logs carry every stage's metrics at every epoch (the inactive stage's as NaN, because `CSVLogger` fixes its
  columns at the first epoch) and ``stage``. (With the extra key, Keras reports the step's logs rather than
  re-reading ``model.metrics``, which would turn the NaNs into the untouched trackers' 0.) ``loss`` is the
  objective of the stage being trained (stage 1: the VAE's; stage 2: L_G), so `TerminateOnNaN` guards both.
"""
from __future__ import annotations

import keras
import tensorflow as tf

from trainers import losses as losses_lib
from trainers import strategy as strategy_lib
from trainers.steps import apply_gradients, dcgan_adam, first_input, replica_normal, scaled_loss


class StageSwitch(keras.callbacks.Callback):
    """At the start of each epoch puts the model in the stage of that epoch (`TwoStageMixin.enter_stage`).

    It must run after the backup callback has restored a killed run (the model's `fit` appends it last)."""

    def on_epoch_begin(self, epoch, logs=None):
        self.model.enter_stage(self.model.stage_for_epoch(epoch))


class TwoStageMixin:
    """For a VAE subclass with ``generator`` (its own network, not the decoder) and ``discriminator``.

    Stage 2 is one discriminator step then one generator step per batch ("tick-tock", LSR-GAN 2.2), with

        L_D = adversarial critic loss (``loss``: LSR-GAN's non-saturating eq. 3, LSC-GAN's least squares eq. 2)
              + r1_weight / 2 * E_x ||grad_x D(x)||^2   (R1 on real images; 0 in both papers)
              [+ an auxiliary classifier's loss on real images, ``classifier_terms``]
        L_G = adversarial generator loss + ``latent_term(z, G(z), prior_mean)`` [+ its loss on G(z)]

    where the subclass defines the latent term (LSR-GAN: lambda * -log q(z|G(z)); LSC-GAN: KL(Q(z|G(z_S)) ||
    N(mu_S, I))) and draws z (``gan_latent``).

    Args (of the model): ``vae_epochs`` (epochs of stage 1; 0 when the VAE was trained before, see ``load_vae``),
    ``generator_init`` (``"decoder"``: copy the decoder's weights into the generator at the switch, the papers'
    choice; ``"scratch"``: keep the generator's own initialisation), ``loss`` (a `trainers.losses` name).
    """

    GENERATOR_INITS = ("decoder", "scratch")
    latent_term_name = "latent_term"
    stage = 1

    def _init_stages(self, vae_epochs, generator_init, loss, r1_weight=0.0):
        if generator_init not in self.GENERATOR_INITS:
            raise ValueError(f"Unknown generator_init {generator_init!r}. Known: {', '.join(self.GENERATOR_INITS)}.")
        if int(vae_epochs) < 0:
            raise ValueError(f"vae_epochs must be >= 0, got {vae_epochs!r}.")
        self.vae_epochs, self.generator_init = int(vae_epochs), generator_init
        if float(r1_weight) < 0:
            raise ValueError(f"r1_weight must be >= 0, got {r1_weight!r}.")
        self.loss_name, self.loss_pair, self.r1_weight = loss, losses_lib.get_loss(loss), float(r1_weight)
        self.second_stage = keras.Variable(0, dtype="int32", trainable=False, name="second_stage")
        self.noise_seed_generator = keras.random.SeedGenerator(None if self.seed is None else self.seed + 1)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.latent_tracker = keras.metrics.Mean(name=self.latent_term_name)

    def stage_for_epoch(self, epoch: int) -> int:
        return 2 if epoch >= self.vae_epochs or int(self.second_stage.numpy()) else 1

    def start_second_stage(self):
        """The switch: the generator takes the trained decoder's weights (unless ``generator_init="scratch"``)."""
        if self.generator_init == "decoder":
            for g, d in zip(self.generator.weights, self.decoder.weights):
                g.assign(d)
        self.second_stage.assign(1)

    def enter_stage(self, stage: int):
        if stage == 2 and not int(self.second_stage.numpy()):
            self.start_second_stage()
        if stage != self.stage:
            self.stage = stage
            if getattr(self, "train_function", None) is not None:
                self.make_train_function(force=True)

    def optimizer_roles(self):
        """Stage-1 ``optimizer`` (VAE) and stage-2 ``g_optimizer`` / ``d_optimizer``; each defaults to Adam 2e-4,
        beta_1 0.5 (LSR-GAN appendix D)."""
        return {"optimizer": (dcgan_adam, self.vae_variables), "g_optimizer": (dcgan_adam, self.generator_variables),
                "d_optimizer": (dcgan_adam, lambda: self.discriminator.trainable_variables)}

    def generator_variables(self):
        """What the stage-2 generator update trains (the generator; LSC-GAN adds the encoder)."""
        return self.generator.trainable_variables

    @property
    def metrics(self):
        return self.vae_metrics() + self.gan_metrics()

    def gan_metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker, self.latent_tracker]

    def load_vae(self, source):
        """Take the encoder and decoder weights of a trained `vae` / `lsc_vae` (a model, or a ``.keras`` path)."""
        if not hasattr(source, "encoder"):
            source = keras.saving.load_model(source)
        for mine, theirs in ((self.encoder, source.encoder), (self.decoder, source.decoder)):
            shapes = [tuple(w.shape) for w in mine.weights], [tuple(w.shape) for w in theirs.weights]
            if shapes[0] != shapes[1]:
                raise ValueError(f"The {mine.name} of {type(source).__name__} does not fit this model's: build this "
                                 f"model with the VAE's image_size, channels, latent_dim and widths.")
            for a, b in zip(mine.weights, theirs.weights):
                a.assign(b)

    # ------------------------------------------------------------ stage 2
    def replica_normal(self, batch):
        """This replica's slice of a global N(0, I) draw ``[global batch, latent_dim]``."""
        return replica_normal(self.noise_seed_generator, batch, self.latent_dim)

    def gan_latent(self, data, batch):
        """``(z, prior_mean)`` for the generator: z ~ N(0, I) and no prior mean (LSC-GAN overrides both)."""
        return self.replica_normal(batch), None

    def discriminator_condition(self, data):
        """What a conditional discriminator takes beside the image (None: an unconditional one)."""
        return None

    def latent_term(self, z, fake, prior_mean):
        """``(what L_G adds, the unweighted term that is logged)``."""
        raise NotImplementedError(f"{type(self).__name__} must define its generator's latent term.")

    def critic_heads(self, outputs):
        """``(adversarial logits, auxiliary outputs or None)`` of the discriminator's outputs."""
        return outputs, None

    def classifier_terms(self, real_aux, fake_aux, data, prior):
        """``(what L_D adds, what L_G adds, the logged values)`` from a discriminator's auxiliary outputs on real
        and generated images (none here: LSC-GAN's AC-GAN head, `zoo.lsc_gan.LSCGAN`)."""
        return 0.0, 0.0, ()

    def gan_step(self, data):
        real = first_input(data)
        batch = tf.shape(real)[0]
        z, prior = self.gan_latent(data, batch)
        fake = self.generator(z, training=True)
        condition = self.discriminator_condition(data)
        seen = {}

        def critic(x):  # the adversarial logits; the last call's auxiliary outputs are kept in `seen`
            logits, seen["aux"] = self.critic_heads(self.discriminator(x if condition is None else [x, condition],
                                                                       training=True))
            return logits

        with tf.GradientTape() as tape:
            if self.r1_weight:
                real_logits, r1 = losses_lib.r1_penalty(critic, real)
            else:
                real_logits, r1 = tf.cast(critic(real), tf.float32), 0.0
            real_aux = seen["aux"]
            d_loss = self.loss_pair.d(real_logits, tf.cast(critic(fake), tf.float32))
            d_extra, _, _ = self.classifier_terms(real_aux, seen["aux"], data, prior)  # seen: the fakes' now
            scaled = scaled_loss(self.d_optimizer, d_loss + 0.5 * self.r1_weight * r1 + d_extra)
        apply_gradients(self.d_optimizer, tape, scaled, self.discriminator.trainable_variables)
        z, prior_mean = self.gan_latent(data, batch)
        variables = self.generator_variables()
        with tf.GradientTape() as tape:
            fake = self.generator(z, training=True)
            g_loss = self.loss_pair.g(tf.cast(critic(fake), tf.float32))
            weighted, term = self.latent_term(z, fake, prior_mean)
            _, g_extra, logged = self.classifier_terms(None, seen["aux"], data, prior_mean)
            scaled = scaled_loss(self.g_optimizer, g_loss + weighted + g_extra)
        apply_gradients(self.g_optimizer, tape, scaled, variables)
        return (d_loss, g_loss, term, *logged, g_loss + weighted + g_extra)

    def train_step(self, data):
        if self.stage == 1:
            for tracker, value in zip(self.vae_metrics(), self.vae_step(data)):
                tracker.update_state(value)
            logs = self.stage_logs(self.vae_metrics(), self.gan_metrics())
        else:
            active = self.gan_metrics() + [self.loss_tracker]
            for tracker, value in zip(active, self.gan_step(data)):
                tracker.update_state(value)
            logs = self.stage_logs(active, self.vae_metrics()[1:])
        return strategy_lib.distributed_logs(logs)

    def test_step(self, data):
        """The VAE's loss on held-out data (both stages: the encoder and decoder are what stage 1 made)."""
        values = self._loss_terms(data, training=False)
        for tracker, value in zip(self.vae_metrics(), values):
            tracker.update_state(value)
        return strategy_lib.distributed_logs(self.stage_logs(self.vae_metrics(), self.gan_metrics()))

    def fit(self, *args, callbacks=None, **kwargs):
        callbacks = list(callbacks or [])
        if not any(isinstance(cb, StageSwitch) for cb in callbacks):
            callbacks.append(StageSwitch())
        return super().fit(*args, callbacks=callbacks, **kwargs)

    # ------------------------------------------------------------ logs
    def stage_logs(self, active, inactive):
        """``{name: value}`` of the active trackers, NaN for the other stage's, and the stage."""
        logs = {m.name: m.result() for m in active}
        logs.update({m.name: tf.constant(float("nan")) for m in inactive})
        logs["stage"] = tf.constant(float(self.stage))
        return logs
