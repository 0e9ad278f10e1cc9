"""The five growing CNN GANs of Sandström, "Latent Space Growing of GANs" (thesis 6.2): bgan, bggan, cggan, lggan,
clggan. One class does the work (`GrowingConvGAN`); the registered subclasses only name their growth strategy.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from trainers.adversarial import AdversarialModel
from trainers.growing import GrowingMixin, moving_averages, replace_networks, transfer_by_name
from zoo.growing import configs
from zoo.growing.layers import FadedLayer, MinibatchStd, downsample, settled_fades, upsample
from zoo.growing.networks import build_discriminator, build_generator, make_plan
from zoo.growing.signatures import walk_block_signatures
from zoo.growing.widen import copy_channels, widen_averages
from zoo.registry import register_model
from zoo.base import ZooModel
from zoo.signatures import Limits


class GrowingConvGAN(ZooModel, GrowingMixin, AdversarialModel):
    """A WGAN-GP whose latent, channels and/or layers grow by dynamic model reconstruction (thesis 6.2).

    At each stage boundary (`trainers.growing.GrowthSchedule`, added by ``fit``) the next stage's generator and
    critic are built and every old weight is copied by layer name into the leading slice of its grown counterpart;
    the optimizers are rebuilt with the moments of carried weights copied the same way (``reset_optimizer=True``:
    restart them, as the thesis code did). New weights then fade in over ``fade_epochs`` (thesis 6.2.7, 7.2.3):

    * beta (0 -> 1) multiplies new channels' weights: ``w_hat = beta * w`` (`zoo.growing.layers.FadeConv2D`);
    * alpha (0 -> 1) blends a new resolution block with the upsampled old output (G) and the old fromRGB of the
      downsampled image (D), and the real images of the new resolution with the old: ``x = (1 - alpha) x_old +
      alpha x_new``;
    * tau (0 -> 1/2) mixes the minibatch std of old and new channels (eq. 15).

    Right after growth (all fades 0) G_new(z) = upsample(G_old(z[:k])) and D_new(x) = D_old(avgpool(x)) (or D_old(x)
    when the resolution did not grow): `tests/test_growing.py` checks it to 1e-5 at every stage of every model.
    ``channel_growth="copy"`` replaces beta's fade-in of random channels by copies of trained ones (Net2WiderNet,
    `zoo.growing.widen`), which keeps the same identity without beta (up to the copies' symmetry-breaking noise).

    The prior (7.2.3): z ~ N(0, I_256) normalised to unit length per sample; a model with k latent dimensions takes
    the first k entries, so the same draw feeds every stage. Loss: WGAN-GP, lambda 10, one critic step per G step.

    Args:
        image_size: output side, a power of two >= 4 (128 for the thesis' CelebA, 32 for Fashion-MNIST here).
        channels: image channels.
        latent_start, latent_end: first and last latent size, doubling per stage (bgan and lggan use latent_end
            throughout). Default start: latent_end / 2^(blocks - 1).
        base_channels: C_0, the width of the 4x4 block of the final network (thesis 256; default latent_end).
        prior_dim: size of the unit-normalised Gaussian the latent is cut from (thesis 256).
        stage_epochs: epochs of every stage but the last (thesis: 4, then 8 per grown stage); the last stage runs
            to the end of fit.
        fade_epochs: epochs over which the fades of a new stage go from 0 to their end (thesis 4); the rest of the
            stage is stable.
        reset_optimizer: restart the optimizers at growth (thesis code) instead of carrying their moments.
        channel_growth: ``"fade"`` (the thesis, 6.2.7): new channels start random and fade in with beta;
            ``"copy"``: they start as noisy copies of trained channels, the network's function kept by dividing
            what the next layer reads from them (Net2WiderNet, `zoo.growing.widen`), and beta stays 1.
        copy_noise: with ``"copy"``, the symmetry-breaking noise on a copied filter, in units of its layer's kernel
            standard deviation.
        stage: the stage to build at (``get_config`` records the current one, so a grown model reloads).
        **kwargs: `trainers.AdversarialModel` arguments (default loss ``wasserstein``, gp_weight 10).

    Decisions the thesis leaves open: the minibatch std map is channel 0 of d3's input (see `MinibatchStd`); new
    biases are scaled by beta with their filters; the fade moves every step, linearly in steps; real images are
    blended at the model's resolution and, for bgGAN/cgGAN, nearest-upsampled back to full size (figure 4, 5).
    """

    KIND = None
    data_crop = "growing"  # CelebA / image folders: the thesis' centre 128x128 crop (zoo.data.images)

    def __init__(self, image_size=32, channels=1, latent_start=None, latent_end=64, base_channels=None,
                 prior_dim=256, stage_epochs=None, fade_epochs=1, reset_optimizer=False, channel_growth="fade",
                 copy_noise=0.1, stage=0, **kwargs):
        self.plan = make_plan(self.KIND, image_size, latent_start, latent_end, base_channels)
        n = len(self.plan)
        stage_epochs = tuple(int(e) for e in (stage_epochs if stage_epochs is not None else (1,) * (n - 1)))
        if len(stage_epochs) != n - 1 or any(e < 1 for e in stage_epochs):
            raise ValueError(f"{self.KIND}: stage_epochs needs one positive length per stage but the last: {n - 1} "
                             f"for {n} stages (latents {[s.latent for s in self.plan]}); got {stage_epochs}.")
        if fade_epochs < 0 or any(fade_epochs > e for e in stage_epochs[1:]):
            raise ValueError(f"{self.KIND}: fade_epochs={fade_epochs} must be >= 0 and fit in every grown stage "
                             f"{stage_epochs[1:]}.")
        if prior_dim < latent_end:
            raise ValueError(f"prior_dim={prior_dim} must be >= latent_end={latent_end}.")
        if channel_growth not in ("fade", "copy") or not float(copy_noise) >= 0:
            raise ValueError(f"channel_growth must be 'fade' (the thesis) or 'copy' (Net2WiderNet) and copy_noise >= 0;"
                             f" got {channel_growth!r} and {copy_noise!r}.")
        if not 0 <= int(stage) < n:
            raise ValueError(f"stage must be in 0..{n - 1}; got {stage}.")
        kwargs.setdefault("loss", "wasserstein")
        kwargs["latent_dim"] = self.plan[int(stage)].latent
        super().__init__(**kwargs)
        self.image_size, self.channels, self.prior_dim = int(image_size), int(channels), int(prior_dim)
        self.latent_start, self.latent_end, self.base_channels = latent_start, int(latent_end), base_channels
        self.stage_epochs, self.fade_epochs = stage_epochs, int(fade_epochs)
        self.reset_optimizer = bool(reset_optimizer)
        self.channel_growth, self.copy_noise = channel_growth, float(copy_noise)
        self.stage = int(stage)
        # alpha of the real-image blend (the networks' fades live in their layers)
        self.real_alpha = keras.Variable(1.0, trainable=False, name="real_alpha")
        self.generator, self.discriminator = self._networks(self.stage).values()
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.pop("latent_dim")
        config.update(image_size=self.image_size, channels=self.channels, latent_start=self.latent_start,
                      latent_end=self.latent_end, base_channels=self.base_channels, prior_dim=self.prior_dim,
                      stage_epochs=self.stage_epochs, fade_epochs=self.fade_epochs,
                      reset_optimizer=self.reset_optimizer, channel_growth=self.channel_growth,
                      copy_noise=self.copy_noise, stage=self.stage)
        return config

    # ------------------------------------------------------------------ prior
    def sample_latent(self, batch_size, seed):
        """The first k entries of z / |z|, z ~ N(0, I_prior_dim), normalised per sample (7.2.3)."""
        z = tf.random.stateless_normal([batch_size, self.prior_dim], seed=seed)
        return tf.math.l2_normalize(z, axis=1)[:, :self.latent_dim]

    # ------------------------------------------------------------ real images
    def unpack_real(self, data):
        x = super().unpack_real(data)
        if x.shape[1] is not None and tuple(x.shape[1:3]) != (self.image_size, self.image_size):
            raise ValueError(f"{self.zoo_name} was built for {self.image_size}x{self.image_size} images but got "
                             f"{x.shape[1]}x{x.shape[2]}. Load the data at that size, e.g. zoo.load_dataset(..., "
                             f"image_size={self.image_size}), or build the model with image_size set to a power of "
                             "two that matches the data.")
        return self.real_curriculum(x)

    def real_curriculum(self, x):
        """Real images as the critic sees them at this stage (thesis 6.2.7, figures 4 and 5).

        Detail level r (the stage's resolution, or for bgGAN/cgGAN the blur level tied to the latent): x_r =
        avgpool(x) to r x r; while a new level fades in, ``(1 - alpha) * upsample(x_{r/2}) + alpha * x_r``; then
        nearest-upsampled to the networks' resolution.
        """
        st = self.plan[self.stage]
        r = st.real_resolution
        cur = downsample(x, self.image_size // r)
        prev = self.plan[self.stage - 1].real_resolution if self.stage else r
        if prev < r:
            old = upsample(downsample(x, self.image_size // prev), r // prev)
            alpha = tf.cast(self.real_alpha, x.dtype)
            cur = (1.0 - alpha) * old + alpha * cur
        return upsample(cur, st.resolution // r)

    # ------------------------------------------------------------------ growth
    def fade_layers(self):
        """Every layer of both networks that carries a fade factor (each has ``set_fade``)."""
        return [layer for net in (self.generator, self.discriminator) for layer in net.layers
                if hasattr(layer, "set_fade")]

    def set_fade(self, fade):
        """alpha = beta = f, tau = f / 2 (thesis 7.2.3: beta, alpha 0 -> 1 and tau 0 -> 0.5 over the same epochs);
        with ``channel_growth="copy"`` no layer has a beta that matters (`_networks`)."""
        fade = float(fade)
        self.real_alpha.assign(fade)
        for layer in self.fade_layers():
            layer.set_fade(fade)
        if fade < 1.0 and self.fades_settled:  # (a flag, not fades(): this runs before every fading step)
            self.settle_fades(False)  # a settled step would ignore beta

    fades_settled = False

    def settle_fades(self, settled=True) -> bool:
        """The stage's fade is over (every beta is 1 until the next growth): the train step, traced again, runs the
        channel-masked layers on their weights themselves (`zoo.growing.layers.settled_fades`; alpha and tau stay in
        the graph: at alpha = 1 the old path is a zero term whose weights still get Adam's steps, and tau = 1/2 is
        the final network's statistic). ``settled=False`` undoes it. Returns whether it changed; then a traced train
        step is traced again."""
        settled = bool(settled) and self.fades()["beta"] == 1.0 and any(
            getattr(layer, "masked", False) for layer in self.fade_layers())
        changed, self.fades_settled = settled != self.fades_settled, settled
        if changed and getattr(self, "train_function", None) is not None:
            self.make_train_function(force=True)
        return changed

    def train_step(self, data):
        with settled_fades(self.fades_settled):
            return super().train_step(data)

    def fades(self) -> dict:
        """The current ``{"alpha", "beta", "tau"}`` (beta of the first masked layer, or 1 when nothing is masked)."""
        betas = [layer.beta for layer in self.fade_layers() if isinstance(layer, FadedLayer) and layer.masked]
        taus = [layer.tau for layer in self.fade_layers() if isinstance(layer, MinibatchStd)]
        return {"alpha": float(self.real_alpha.numpy()), "beta": float(betas[0].numpy()) if betas else 1.0,
                "tau": float(taus[0].numpy())}

    def serving_signatures(self, limits=None):
        """The common signatures and ``walk_block`` (`zoo.growing.signatures`)."""
        limits = limits or Limits()
        return {**super().serving_signatures(limits), **walk_block_signatures(self, limits)}

    def _next_networks(self):
        if self.stage + 1 >= len(self.plan):
            raise ValueError(f"{self.zoo_name} is already at its last stage ({len(self.plan) - 1}).")
        return self._networks(self.stage + 1)

    def _networks(self, stage) -> dict:
        """The generator and critic of `stage`; with ``channel_growth="copy"`` no layer masks new channels (beta
        stays 1 and is not multiplied in)."""
        fade = self.channel_growth == "fade"
        return {"generator": build_generator(self.plan, stage, self.channels, fade_channels=fade),
                "discriminator": build_discriminator(self.plan, stage, self.channels, fade_channels=fade)}

    def _stage_attributes(self, stage):
        return {"stage": stage, "latent_dim": self.plan[stage].latent, "fades_settled": False}

    def _grow(self, networks, prepared=None):
        """Move to the next stage: finish the current fade, carry every weight by name into the next stage's
        `networks`, fades to 0, swap in, retrace (or take the step `prepared` ahead). (With fade_epochs equal to the
        stage length the fade's last step is 1 - 1/steps; finishing it here is the only change of function at
        growth.)"""
        self.set_fade(1.0)
        self.fades_settled = False  # the new stage fades: its step (retraced here, or traced ahead) keeps the masks
        generator, discriminator = networks["generator"], networks["discriminator"]
        pairs = {"generator": transfer_by_name(self.generator, generator),
                 "discriminator": transfer_by_name(self.discriminator, discriminator)}
        copied, old_averages = [], {}
        if self.channel_growth == "copy":
            rng = np.random.default_rng([self.seed, self.stage + 1])
            copied = copy_channels(self.generator, generator, self.copy_noise, rng)
            copy_channels(self.discriminator, discriminator, self.copy_noise, rng)
            old_averages = moving_averages(getattr(self, "g_optimizer", None), [v for v, _, _ in copied])
        replace_networks(self, pairs, generator, discriminator, reset_optimizer=self.reset_optimizer,
                         prepared=prepared)
        if old_averages and not self.reset_optimizer:
            widen_averages(old_averages, moving_averages(self.g_optimizer, [v for _, v, _ in copied]), copied)
        self.set_fade(0.0)


def _growing(name):
    return register_model(name, family="growing", configs=configs.for_model(name))


@_growing("bgan")
class BGAN(GrowingConvGAN):
    """Baseline GAN (thesis 6.2.1; table 1): the final network from the start, latent_end dims. See
    `GrowingConvGAN`."""

    KIND = "bgan"


@_growing("bggan")
class BGGAN(GrowingConvGAN):
    """Baseline with growing GAN (thesis 6.2.2; table 1): only g1's input grows with the latent. See
    `GrowingConvGAN`."""

    KIND = "bggan"


@_growing("cggan")
class CGGAN(GrowingConvGAN):
    """Channel growing GAN (thesis 6.2.3; table 1): every layer's channels grow with the latent. See
    `GrowingConvGAN`."""

    KIND = "cggan"


@_growing("lggan")
class LGGAN(GrowingConvGAN):
    """Layer growing GAN, the progressive GAN (thesis 6.2.4; table 1): resolution blocks added, fixed latent. See
    `GrowingConvGAN`."""

    KIND = "lggan"


@_growing("clggan")
class CLGGAN(GrowingConvGAN):
    """Channel and layer growing GAN (thesis 6.2.5; table 1): latent, channels and layers grow together. See
    `GrowingConvGAN`."""

    KIND = "clggan"
