"""`lsr_gan`: LSR-GAN (Wang et al., "Imagining the latent space of a VAE", 2.2 and appendix D)."""
from __future__ import annotations

import tensorflow as tf

from zoo.dcgan.networks import dcgan_generator
from zoo.lsr_gan.stages import TwoStageMixin
from zoo.lsr_gan.configs import CONFIGS
from zoo.lsr_gan.networks import build_discriminator
from zoo.registry import register_model
from zoo.vae import losses
from zoo.vae.model import VAE
from zoo.vae.networks import build_decoder


GENERATORS = ("decoder", "dcgan")


def attach_gan(model, d_widths, d_out_channels, vae_epochs, generator_init, loss, vae_path, r1_weight=0.0,
               build_critic=None, generator="decoder", g_base_channels=32, g_upsample="transpose"):
    """Stage 2's networks on a VAE: a generator (``"decoder"``: of the decoder's architecture, the papers';
    ``"dcgan"``: `zoo.dcgan.networks.dcgan_generator` at ``g_base_channels``, trained from scratch), the
    discriminator (the table-3 one, or ``build_critic(model)``; ``g_upsample``: the DCGAN generator's upsampling,
    `zoo.dcgan.networks`), the stage schedule
    (`zoo.lsr_gan.stages.TwoStageMixin`), and optionally a trained VAE's weights."""
    if generator not in GENERATORS:
        raise ValueError(f"Unknown generator {generator!r}. Known: {', '.join(GENERATORS)}.")
    if generator != "decoder" and generator_init != "scratch":
        raise ValueError(f"generator={generator!r} is not the decoder's architecture, so it cannot start as the "
                         "decoder: pass generator_init='scratch'.")
    model.d_widths, model.d_out_channels = tuple(d_widths), int(d_out_channels)
    if generator != "dcgan" and g_upsample != "transpose":
        raise ValueError(f"g_upsample={g_upsample!r} is an option of generator='dcgan' (got {generator!r}).")
    model.generator_kind, model.g_base_channels, model.g_upsample = generator, int(g_base_channels), g_upsample
    if generator == "dcgan":
        model.generator = dcgan_generator(model.latent_dim, model.image_size, model.channels, model.g_base_channels,
                                          upsample=g_upsample)
    else:
        model.generator = build_decoder(model.image_size, model.channels, model.latent_dim, model.decoder_widths,
                                        model.base, name="generator")
    model.discriminator = (build_critic(model) if build_critic else
                           build_discriminator(model.image_size, model.channels, model.d_widths, model.d_out_channels))
    model._init_stages(vae_epochs, generator_init, loss, r1_weight)
    if vae_path is not None:
        model.load_vae(vae_path)


def gan_config(model) -> dict:
    """The constructor kwargs `attach_gan` took (``vae_path`` None: the saved weights hold the VAE, so reloading a
    model must not need the VAE's file)."""
    return {"loss": model.loss_name, "d_widths": model.d_widths, "d_out_channels": model.d_out_channels,
            "vae_epochs": model.vae_epochs, "generator_init": model.generator_init, "vae_path": None,
            "r1_weight": model.r1_weight, "generator": model.generator_kind,
            "g_base_channels": model.g_base_channels, "g_upsample": model.g_upsample}


@register_model("lsr_gan", family="vae_gan", configs=CONFIGS)
class LSRGAN(TwoStageMixin, VAE):
    """Stage 1: the VAE (`zoo.vae.VAE`). Stage 2: the encoder is frozen and a GAN is trained with

        L_D = -E_x[log D(x)] - E_z[log(1 - D(G(z)))]                         (eq. 3)
        L_G = -E_z[log D(G(z))] + lambda * E_z[-log q(z | G(z))]              (eq. 4, non-saturating form)

    z ~ N(0, I); q(z|x) = N(mu(x), diag(exp(logvar(x)))) is the frozen encoder run in inference mode (BatchNorm
    uses its moving statistics, and nothing of the encoder is updated). ``-log q`` is the per-dimension Gaussian
    negative log-likelihood, averaged over the latent dimensions (``lsr_reduction="mean"``, as the reference code;
    ``"sum"`` is the exact log-density, i.e. lambda times latent_dim). The generator is a network of the decoder's
    architecture (table 3) whose weights are the trained decoder's at the switch (``generator_init="decoder"``;
    ``"scratch"`` keeps a fresh initialisation). The VAE decoder itself stays as stage 1 left it, so the two can be
    compared: ``decoder(mu(x))`` is the VAE's reconstruction and ``generator(mu(x))`` (``model(x)``) LSR-GAN's
    "seeded" image.

    Both stages run in one ``fit`` (``vae_epochs`` epochs of stage 1, then stage 2); ``vae_epochs=0`` with
    ``vae_path`` (or :meth:`load_vae`) starts from a VAE trained before.

    Args:
        lsr_weight: lambda of eq. 4 (the paper: 1; appendix C sweeps 0.01 to 20).
        lsr_reduction: ``"mean"`` (default) or ``"sum"`` over latent dimensions.
        loss: the adversarial loss (`trainers.losses`), ``non_saturating`` as eq. 3/4.
        d_widths, d_out_channels: the table-3 discriminator (32, 64, 128; 3 output channels).
        vae_epochs, generator_init: see `zoo.lsr_gan.stages.TwoStageMixin`.
        vae_path: a trained `vae`'s ``model.keras`` to start from.
        r1_weight: gamma of an R1 penalty on the discriminator (`zoo.lsr_gan.stages.TwoStageMixin`; 0: none).
        generator, g_base_channels, g_upsample: ``"decoder"`` (the paper's) or ``"dcgan"`` at that width and
            upsampling (`attach_gan`).
        **kwargs: the VAE's (`zoo.vae.VAE`): image_size, channels, latent_dim, beta, reconstruction, widths, seed.
    """

    latent_term_name = "lsr"

    def __init__(self, lsr_weight=1.0, lsr_reduction="mean", loss="non_saturating", d_widths=(32, 64, 128),
                 d_out_channels=3, vae_epochs=10, generator_init="decoder", vae_path=None, r1_weight=0.0,
                 generator="decoder", g_base_channels=32, g_upsample="transpose", **kwargs):
        if lsr_reduction not in losses.REDUCTIONS:
            raise ValueError(f"Unknown lsr_reduction {lsr_reduction!r}. Known: {', '.join(losses.REDUCTIONS)}.")
        super().__init__(**kwargs)
        self.lsr_weight, self.lsr_reduction = float(lsr_weight), lsr_reduction
        attach_gan(self, d_widths, d_out_channels, vae_epochs, generator_init, loss, vae_path, r1_weight,
                   generator=generator, g_base_channels=g_base_channels, g_upsample=g_upsample)

    def get_config(self):
        return {**super().get_config(), **gan_config(self), "lsr_weight": self.lsr_weight,
                "lsr_reduction": self.lsr_reduction}

    def lsr_term(self, z, fake):
        """``E_z[-log q(z | G(z))]`` under the frozen encoder (inference mode)."""
        mu, logvar = self.encoder(fake, training=False)
        return tf.reduce_mean(losses.gaussian_nll(z, mu, logvar, self.lsr_reduction))

    def latent_term(self, z, fake, prior_mean):
        lsr = self.lsr_term(z, fake)
        return self.lsr_weight * lsr, lsr
