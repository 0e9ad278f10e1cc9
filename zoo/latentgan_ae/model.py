"""`latentgan_ae`: LatentGAN Autoencoder (Kalwar et al., method and implementation-details sections)."""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from trainers import strategy as strategy_lib
from trainers.base import Model
from trainers.steps import SEED_STREAMS, apply_gradients, first_input, replica_normal, replica_sample, scaled_loss
from zoo.batching import batched
from zoo.metrics import scores
from zoo.latentgan_ae import losses, networks
from zoo.latentgan_ae.augment import affine_draws, random_affine
from zoo.latentgan_ae.latent import LatentScale
from zoo.latentgan_ae.codes import CodeSpec
from zoo.latentgan_ae.configs import CONFIGS
from zoo.latentgan_ae.signatures import code_signatures
from zoo.registry import register_model
from zoo.base import ZooModel
from zoo.signatures import Limits


def _adam():
    return keras.optimizers.Adam(2e-4, beta_1=0.5, beta_2=0.9)


PHASES = ("warmup", "gan")
ENCODER_AFTER_WARMUP = ("frozen", "joint")


class PhaseSwitch(keras.callbacks.Callback):
    """Puts the model in the phase of its next step (`LatentGANAE.phase_for_step`) before every batch, and at the
    start of training after a backup restored the step counter. The model's `fit` appends it last."""

    def on_train_begin(self, logs=None):
        self.model.enter_phase(self.model.phase_for_step(int(self.model.trained_steps.numpy())))

    def on_train_batch_begin(self, batch, logs=None):
        self.on_train_begin()


@register_model("latentgan_ae", family="latent_distribution", configs=CONFIGS)
class LatentGANAE(ZooModel, Model):
    """An autoencoder and a GAN on its latent space (LatentGAN-AE), in two phases inside one `fit`:

    1. warm-up (the first ``ae_steps`` steps): the autoencoder, L_ae = ||X - Dec(Enc(X))||^2 (eq. 1; mean over
       pixels and batch), and with ``cluster_in_warmup`` Q on w_clu L_clu;
    2. the latent GAN, each step: the autoencoder update (the decoder only when ``encoder_after_warmup="frozen"``),
       then D and Q (shared body) on min -V(D, G) + lambda L_NLL + w_clu L_clu, with real latents u = std(Enc(X))
       (no gradient into the encoder) and fake latents G(lc), lc = concat(P, c), then G on
       min -log D(G(lc)) + lambda L_NLL (the non-saturating form of eq. 2's G term; eq. 3's -lambda L_I with
       L_I = H(c) - L_NLL, see `zoo.latentgan_ae.losses`).

    ``ae_steps=0`` with ``encoder_after_warmup="joint"`` is the paper's schedule ("trained simultaneously"): the
    three updates from step 0. Images are Dec(G(lc) * sigma + mu): ``generator`` is that composition, a Keras
    model from lc ``[B, latent_dim]``. Clustering (`cluster`) is the argmax of Q's categorical head on
    std(Enc(x)).

    Deviations from the paper, each a constructor argument whose default is the paper's (the ``paper`` configs
    use the defaults; docs/results/latent_distribution.md measures each):

    * ``ae_steps``, ``encoder_after_warmup``: the warm-up and the frozen encoder. Trained jointly from step 0 the
      encoder's latent std grew ~6x over 12 epochs, and the latent GAN chased it.
    * ``standardize``: D, Q and `cluster` see (z - mu) / sigma and G outputs standardised latents
      (`zoo.latentgan_ae.latent`).
    * ``cluster_weight`` (w_clu), ``cluster_marginal``, ``augment_shift``/``augment_rotation``/``augment_scale``,
      ``cluster_vat_epsilon``: the IMSAT terms on Q over real latents: `losses.cluster_loss` with augmented
      copies (`zoo.latentgan_ae.augment`) and, when epsilon > 0, `losses.vat_loss` in the standardised latent.
      The paper leaves the latent's class structure to chance, and an MSE autoencoder's latent does not
      separate MNIST's classes (k-means on it: 30-40% error).
    * ``cluster_in_warmup``: Q trains on the clustering terms alone during the warm-up too (on the moving,
      standardised latent; D's head and G wait for the GAN phase), so it starts the GAN phase already clustering.
    * ``one_sided_smoothing``: smooth the real labels only.
    * ``cluster_heads`` (H): during the warm-up, H - 1 spare Q networks (body and code-0 head,
      `networks.cluster_head`, each its own initialisation) learn the clustering terms beside Q, on the same
      latents, augmentations and VAT directions; Q's own update is the one-Q run's. When the GAN phase
      starts, the network whose clustering loss (IMSAT's consistency + H(Y|X) - mu H(Y) + R_vat) had the lowest
      moving average (decay 0.98) over the warm-up is copied into Q's body and code-0 head (D's logit and the
      continuous head have not trained yet), and the spares stop. Which partition one Q finds is a draw (one
      recipe: 7% to 26% error over seeds and kernels); the loss scores a partition without labels. H = 1 is
      the single Q. Measured at H = 5 (latent_distribution.md): 16.5% ± 3.9% against 20.0% ± 2.9%, no narrower
      spread over 3 seeds, so no config sets it.

    Decisions the paper leaves open (configurable): Q is updated with D on fake latents only, and G with its own
    term; "noisy labels" are soft targets U(1 - s, 1) / U(0, s) with ``s = label_smoothing`` and a
    ``label_flip`` chance to swap (GAN hacks); the autoencoder term is a mean, not a sum; each G/D update draws
    fresh codes.

    Logged per epoch (NaN in an epoch without a GAN step): the losses, ``info_categorical`` (the categorical
    NLL), ``mi_categorical`` (its L_I in nats, at most log K), the clustering term's entropies, R_vat and
    ``code_diversity`` (`losses.code_diversity` of 32 decoded samples of one categorical value, cycled per step,
    against the batch's images); ``phase`` (0 warm-up, 1 GAN).

    Args:
        image_size, channels: the images (32x32 in tables 2 and 4, 64x64 in table 3).
        ae_latent_dim: the autoencoder's latent (64 MNIST, 128 chairs and CelebA).
        noise_dim, categorical, continuous: the generator's input (`zoo.latentgan_ae.CodeSpec`).
        generator_input: the generator input size the config was written for (the tables' 76, 190, 228); a code
            specification that does not add up to it fails at build, naming what was expected. None: no check.
        encoder_widths, decoder_widths, g_hidden, d_hidden: the tables' layer widths.
        lambda_disc, lambda_cont: weights of the categorical and continuous information terms (MNIST 0.1, 1).
        label_smoothing, label_flip, one_sided_smoothing: D's noisy labels.
        ae_steps, encoder_after_warmup, standardize, cluster_weight, cluster_marginal, cluster_vat_epsilon,
            cluster_in_warmup, augment_*: see above.
        seed: seed of the codes, augmentations and label noise drawn in train steps.
    """

    def __init__(self, image_size=32, channels=1, ae_latent_dim=64, noise_dim=64, categorical=(10,), continuous=2,
                 generator_input=None, encoder_widths=(16, 32, 64, 128, 128), decoder_widths=(128, 64, 32),
                 g_hidden=(1000, 1000, 1000), d_hidden=(1000, 1000, 512), lambda_disc=0.1, lambda_cont=1.0,
                 label_smoothing=0.2, label_flip=0.05, one_sided_smoothing=False, ae_steps=0,
                 encoder_after_warmup="joint", standardize=False, cluster_weight=0.0, cluster_marginal=4.0,
                 cluster_vat_epsilon=0.0, cluster_in_warmup=False, augment_shift=3.0, augment_rotation=0.2,
                 augment_scale=0.1, cluster_heads=1, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.codes = CodeSpec(noise_dim, categorical, continuous)
        self.codes.check_generator_input(generator_input)
        if encoder_after_warmup not in ENCODER_AFTER_WARMUP:
            raise ValueError(f"encoder_after_warmup must be one of {ENCODER_AFTER_WARMUP}, got "
                             f"{encoder_after_warmup!r}.")
        if int(ae_steps) < 0 or float(cluster_weight) < 0:
            raise ValueError(f"ae_steps and cluster_weight must be >= 0, got {ae_steps!r} and {cluster_weight!r}.")
        if int(cluster_heads) < 1:
            raise ValueError(f"cluster_heads must be >= 1, got {cluster_heads!r}.")
        if int(cluster_heads) > 1 and not (cluster_in_warmup and float(cluster_weight) > 0 and int(ae_steps) > 0):
            raise ValueError("cluster_heads > 1 compares the heads over the warm-up: it needs cluster_in_warmup=True, "
                             f"cluster_weight > 0 and ae_steps > 0 (got {cluster_in_warmup!r}, {cluster_weight!r}, "
                             f"{ae_steps!r}).")
        self.cluster_heads = int(cluster_heads)
        self.image_size, self.channels, self.ae_latent_dim = int(image_size), int(channels), int(ae_latent_dim)
        self.latent_dim = self.codes.dim
        self.generator_input = generator_input
        self.encoder_widths, self.decoder_widths = tuple(encoder_widths), tuple(decoder_widths)
        self.g_hidden, self.d_hidden = tuple(g_hidden), tuple(d_hidden)
        self.lambda_disc, self.lambda_cont = float(lambda_disc), float(lambda_cont)
        self.label_smoothing, self.label_flip = float(label_smoothing), float(label_flip)
        self.one_sided_smoothing = bool(one_sided_smoothing)
        self.ae_steps, self.encoder_after_warmup = int(ae_steps), encoder_after_warmup
        self.standardize = bool(standardize)
        self.cluster_weight, self.cluster_marginal = float(cluster_weight), float(cluster_marginal)
        self.cluster_vat_epsilon, self.cluster_in_warmup = float(cluster_vat_epsilon), bool(cluster_in_warmup)
        self.augment = {"shift": float(augment_shift), "rotation": float(augment_rotation),
                        "scale": float(augment_scale)}
        self.seed = int(seed)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.encoder = networks.encoder(self.image_size, self.channels, self.encoder_widths, self.ae_latent_dim)
        self.decoder = networks.decoder(self.ae_latent_dim, self.image_size, self.channels, self.decoder_widths)
        self.latent_generator = networks.latent_generator(self.latent_dim, self.ae_latent_dim, self.g_hidden)
        self.discriminator = networks.latent_discriminator(self.ae_latent_dim, self.codes.categorical,
                                                           self.codes.continuous, self.d_hidden)
        self.spare_heads = [networks.cluster_head(self.ae_latent_dim, self.codes.categorical[0], self.d_hidden,
                                                  name=f"spare_head_{j}") for j in range(1, self.cluster_heads)]
        self.latent_scale = LatentScale(self.ae_latent_dim, name="latent_scale")
        lc = keras.Input((self.latent_dim,), name="codes")
        self.generator = keras.Model(lc, self.decoder(self.latent_scale(self.latent_generator(lc))),
                                     name="generator")
        self.trained_steps = keras.Variable(0, dtype="int64", trainable=False, name="trained_steps",
                                            aggregation="only_first_replica")
        if self.cluster_heads > 1:  # only then: the single-head model's weights keep their layout
            self.head_scores = keras.Variable(np.zeros(self.cluster_heads, np.float32), trainable=False,
                                              name="cluster_head_scores", aggregation="only_first_replica")
            self.head_chosen = keras.Variable(-1, dtype="int32", trainable=False, name="cluster_head_chosen",
                                              aggregation="only_first_replica")
        self.phase = self.phase_for_step(0)
        names = ("ae_loss", "d_loss", "g_loss", "info_categorical", "info_continuous", "mi_categorical",
                 "cluster_loss", "cluster_conditional_entropy", "cluster_marginal_entropy", "cluster_vat",
                 "code_diversity")
        self.trackers = {n: keras.metrics.Mean(name=n) for n in names}
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update(image_size=self.image_size, channels=self.channels, ae_latent_dim=self.ae_latent_dim,
                      noise_dim=self.codes.noise_dim, categorical=self.codes.categorical,
                      continuous=self.codes.continuous, generator_input=self.generator_input,
                      encoder_widths=self.encoder_widths, decoder_widths=self.decoder_widths, g_hidden=self.g_hidden,
                      d_hidden=self.d_hidden, lambda_disc=self.lambda_disc, lambda_cont=self.lambda_cont,
                      label_smoothing=self.label_smoothing, label_flip=self.label_flip,
                      one_sided_smoothing=self.one_sided_smoothing, ae_steps=self.ae_steps,
                      encoder_after_warmup=self.encoder_after_warmup, standardize=self.standardize,
                      cluster_weight=self.cluster_weight, cluster_marginal=self.cluster_marginal,
                      cluster_vat_epsilon=self.cluster_vat_epsilon, cluster_in_warmup=self.cluster_in_warmup,
                      augment_shift=self.augment["shift"], augment_rotation=self.augment["rotation"],
                      augment_scale=self.augment["scale"], cluster_heads=self.cluster_heads, seed=self.seed)
        return config

    def optimizer_roles(self):
        """Three optimizers (autoencoder, G, D/Q); each defaults to the paper's Adam 2e-4, betas (0.5, 0.9)."""
        return {"optimizer": (_adam, self.autoencoder_variables),
                "g_optimizer": (_adam, lambda: self.latent_generator.trainable_variables),
                "d_optimizer": (_adam, lambda: self.discriminator.trainable_variables + self._spare_variables())}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def autoencoder_variables(self):
        return self.encoder.trainable_variables + self.decoder.trainable_variables

    def serving_signatures(self, limits=None):
        """The common signatures, ``generate_from_codes`` and ``cluster`` (`zoo.latentgan_ae.signatures`)."""
        limits = limits or Limits()
        return {**super().serving_signatures(limits), **code_signatures(self, limits)}

    # ---------------------------------------------------------------- phases
    def phase_for_step(self, step: int) -> str:
        return "warmup" if step < self.ae_steps else "gan"

    def enter_phase(self, phase: str):
        """Switch the train step to `phase` (retraced once; the fit loop looks ``train_function`` up per step)."""
        if phase != self.phase:
            if phase == "gan" and self.cluster_heads > 1 and int(self.head_chosen.numpy()) < 0:
                self.choose_cluster_head()
            self.phase = phase
            if getattr(self, "train_function", None) is not None:
                self.make_train_function(force=True)

    def choose_cluster_head(self) -> int:
        """Copy the warm-up's best Q (lowest moving clustering loss) into Q's body and code-0 head; returns its
        index (0: Q's own). Once per run: ``head_chosen`` is a checkpointed variable."""
        best = int(np.argmin(self.head_scores.numpy()))
        if best:
            for layer in self.spare_heads[best - 1].layers:
                for target, value in zip(self.discriminator.get_layer(layer.name).weights, layer.weights):
                    target.assign(value)
        self.head_chosen.assign(best)
        return best

    def fit(self, *args, callbacks=None, **kwargs):
        callbacks = list(callbacks or [])
        if not any(isinstance(cb, PhaseSwitch) for cb in callbacks):
            callbacks.append(PhaseSwitch())
        return super().fit(*args, callbacks=callbacks, **kwargs)

    def logs(self, trackers=None):
        """Every tracker (NaN for one that no step of this epoch updated) and the phase."""
        logs = {m.name: tf.where(m.count > 0, m.result(), float("nan")) for m in self.metrics}
        logs["phase"] = tf.constant(float(PHASES.index(self.phase)))
        return strategy_lib.distributed_logs(logs)

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

    def latents(self, images, batch_size=500):
        """The standardised latents std(Enc(images)) that D/Q see, as numpy ``[N, ae_latent_dim]``."""
        return batched(lambda b: self.latent_scale.standardize(self.encoder(b, training=False)), images, batch_size)

    def q_outputs(self, images):
        """D/Q's outputs on the standardised latent of `images` (inference mode)."""
        return self.discriminator(self.latent_scale.standardize(self.encoder(images, training=False)),
                                  training=False)

    def cluster_logits(self, images, code=0, batch_size=500):
        """Q's logits of categorical code `code` on std(Enc(images))."""
        return batched(lambda b: self.q_outputs(b)[f"categorical_{code}"], images, batch_size)

    def cluster(self, images, code=0, batch_size=500):
        """Unsupervised class of each image: argmax_k Q(c = k | std(Enc(x))) (the paper's classification)."""
        return self.cluster_logits(images, code, batch_size).argmax(-1)

    def clustering_record(self, images, labels, split: str) -> dict:
        """`cluster`'s Hungarian error and purity on `images` with their `labels`, and beside it k-means (k = K of
        code 0, `zoo.metrics.scores.kmeans_scores`) on the same standardised latents, with the protocol."""
        clusters = scores.clustering_scores(labels, self.cluster(images))
        kmeans = scores.kmeans_scores(self.latents(images), labels, self.codes.categorical[0], seed=0)
        return {"error": clusters["error"], "purity": clusters["purity"], "kmeans_error": kmeans["error"],
                "kmeans_purity": kmeans["purity"],
                "protocol": {"split": split, "n": int(len(labels)), "clusters": "argmax Q(c_0 | std(Enc(x)))",
                             "error": "Hungarian one-to-one (scipy linear_sum_assignment)", "purity": "majority label",
                             "kmeans": kmeans["protocol"]}}

    # ---------------------------------------------------------------- training
    def _noisy_targets(self, batch):
        def sample(n, seed):
            real, fake = losses.noisy_targets([n, 1], seed, self.label_smoothing, self.label_flip,
                                              self.one_sided_smoothing)
            return tf.concat([real, fake], axis=-1)

        targets = replica_sample(self.seed_generator, sample, batch)
        return targets[:, :1], targets[:, 1:]

    def _info(self, q_out, lc):
        _, onehots, cont = self.codes.split(lc)
        return losses.info_loss(q_out, onehots, cont, self.lambda_disc, self.lambda_cont)

    def _q_variables(self):
        """D/Q's shared body and categorical heads: what the clustering terms alone train (D's logit and the
        continuous head wait for the GAN phase)."""
        heads = {"logit", "q_continuous"}
        return [v for layer in self.discriminator.layers if layer.name not in heads
                for v in layer.trainable_variables]

    def _spare_variables(self):
        return [v for head in self.spare_heads for v in head.trainable_variables]

    def _cluster_term(self, x, real, out_real, spares=False):
        """sum over categorical codes of `losses.cluster_loss` (Q on real latents and augmented ones), plus
        `losses.vat_loss` on the real latents when ``cluster_vat_epsilon`` > 0. Returns (total, H(Y|X), H(Y),
        R_vat, per-head): per-head is code 0's clustering loss with R_vat for Q and, with `spares`, for each spare
        Q (`spare_heads`, on the same augmentation and VAT direction), ``[H]``; the rest is Q's own."""
        batch = tf.shape(x)[0]
        draws = replica_sample(self.seed_generator, affine_draws, batch)
        x_aug = random_affine(x, draws, **self.augment)
        u_aug = self.latent_scale.standardize(tf.stop_gradient(self.encoder(x_aug, training=False)))
        out_aug = self.discriminator(u_aug, training=True)
        heads = {f"categorical_{i}": (lambda u, key=f"categorical_{i}": self.discriminator(u, training=True)[key],
                                      out_real[f"categorical_{i}"], out_aug[f"categorical_{i}"])
                 for i in range(len(self.codes.categorical))}
        spare = {f"spare_{j}": (lambda u, h=h: h(u, training=True), h(real, training=True), h(u_aug, training=True))
                 for j, h in enumerate(self.spare_heads if spares else [], 1)}
        total, cond, marg = tf.constant(0.0), tf.constant(0.0), tf.constant(0.0)
        per_head = {}
        for key, (_, clean, aug) in {**heads, **spare}.items():
            t, c, m = losses.cluster_loss(clean, aug, self.cluster_marginal)
            per_head[key] = t
            if key in heads:
                total, cond, marg = total + t, cond + c, marg + m
        vat = tf.constant(0.0)
        if self.cluster_vat_epsilon:
            direction = replica_normal(self.seed_generator, batch, self.ae_latent_dim)
            for key, (logits_fn, clean, _) in {**heads, **spare}.items():
                r = losses.vat_loss(logits_fn, real, direction, self.cluster_vat_epsilon, clean_logits=clean)
                per_head[key] += r
                vat += r if key in heads else 0.0
            total += vat
        return total, cond, marg, vat, tf.stack([per_head["categorical_0"]] + [per_head[k] for k in spare])

    def _diversity(self, x):
        """`losses.code_diversity` of 32 samples of one value of code 0 (cycled per step) against the batch."""
        k = self.codes.categorical[0]
        value = tf.cast(self.trained_steps % k, tf.int32)
        lc = self.codes.sample(32, tf.cast(self.seed_generator.next(), tf.int32))
        noise, onehots, cont = self.codes.split(lc)
        cats = [tf.fill([32], value)] + [tf.argmax(h, -1) for h in onehots[1:]]
        images = self.generator(self.codes.assemble(noise, cats, cont), training=False)
        return losses.code_diversity(images, x)

    def train_step(self, data):
        x = first_input(data)
        batch = tf.shape(x)[0]
        gan = self.phase == "gan"
        encoder_trains = not gan or self.encoder_after_warmup == "joint"
        ae_vars = self.autoencoder_variables() if encoder_trains else self.decoder.trainable_variables
        with tf.GradientTape() as tape:
            z = self.encoder(x, training=encoder_trains)
            if not encoder_trains:
                z = tf.stop_gradient(z)
            recon = tf.cast(self.decoder(z, training=True), tf.float32)
            ae_loss = tf.reduce_mean(tf.square(recon - tf.cast(x, tf.float32)))
            scaled = scaled_loss(self.optimizer, ae_loss)
        apply_gradients(self.optimizer, tape, scaled, ae_vars)
        if self.standardize and encoder_trains:
            self.latent_scale.update(z)
        self.trained_steps.assign_add(1)
        self.trackers["ae_loss"].update_state(ae_loss)
        real = self.latent_scale.standardize(tf.stop_gradient(z))
        if not gan:
            if self.cluster_in_warmup and self.cluster_weight:  # Q starts clustering on the moving latent
                spares = self.cluster_heads > 1
                with tf.GradientTape(persistent=spares) as tape:
                    out_real = self.discriminator(real, training=True)
                    clu, cond, marg, vat, per_head = self._cluster_term(x, real, out_real, spares=spares)
                    scaled = scaled_loss(self.d_optimizer, self.cluster_weight * clu)
                    if spares:
                        spare_scaled = scaled_loss(self.d_optimizer, self.cluster_weight * tf.reduce_sum(per_head[1:]))
                if spares:  # each spare Q learns from its own loss; a moving average of every Q's loss
                    q_vars, spare_vars = self._q_variables(), self._spare_variables()
                    grads = tape.gradient(scaled, q_vars) + tape.gradient(spare_scaled, spare_vars)
                    self.d_optimizer.apply_gradients(zip(grads, q_vars + spare_vars))
                    del tape
                    self.head_scores.assign(0.98 * self.head_scores + 0.02 * tf.stop_gradient(per_head))
                else:
                    apply_gradients(self.d_optimizer, tape, scaled, self._q_variables())
                for name, value in zip(("cluster_loss", "cluster_conditional_entropy", "cluster_marginal_entropy",
                                        "cluster_vat"), (clu, cond, marg, vat)):
                    self.trackers[name].update_state(value)
            return self.logs()

        lc = replica_sample(self.seed_generator, self.sample_latent, batch)
        fake = self.latent_generator(lc, training=True)
        real_t, fake_t = self._noisy_targets(batch)
        with tf.GradientTape() as tape:
            out_real = self.discriminator(real, training=True)
            out_fake = self.discriminator(fake, training=True)
            d_loss = losses.d_loss(out_real["logit"], out_fake["logit"], real_t, fake_t)
            info, _, _ = self._info(out_fake, lc)
            total = d_loss + info
            if self.cluster_weight:
                clu, cond, marg, vat, _ = self._cluster_term(x, real, out_real)
                total += self.cluster_weight * clu
            scaled = scaled_loss(self.d_optimizer, total)
        apply_gradients(self.d_optimizer, tape, scaled, self.discriminator.trainable_variables)

        lc = replica_sample(self.seed_generator, self.sample_latent, batch)
        with tf.GradientTape() as tape:
            out = self.discriminator(self.latent_generator(lc, training=True), training=True)
            g_loss = losses.g_loss(out["logit"])
            info, cat, cont = self._info(out, lc)
            scaled = scaled_loss(self.g_optimizer, g_loss + info)
        apply_gradients(self.g_optimizer, tape, scaled, self.latent_generator.trainable_variables)

        mi = losses.mutual_information_bound(cat, 0.0, self.codes.categorical, 0)  # the categorical codes' L_I, nats
        values = {"d_loss": d_loss, "g_loss": g_loss, "info_categorical": cat, "info_continuous": cont,
                  "mi_categorical": mi, "code_diversity": self._diversity(x)}
        if self.cluster_weight:
            values.update(cluster_loss=clu, cluster_conditional_entropy=cond, cluster_marginal_entropy=marg,
                          cluster_vat=vat)
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return self.logs()
