"""Configs of `lsr_gan` (LSR-GAN appendix D: Adam 2e-4, beta_1 0.5 for every network, batch 32).

* ``fashion32_long``: ``fashion32`` with 32 stage-2 epochs (6,400 steps, the length of
  docs/results/vae_gan.md's ``lsr_b1_long``) and the generator's moving average (Keras ``use_ema`` on
  ``g_optimizer``, momentum 0.998, written into the generator when fit ends), the recipe that took the other GAN
  presets from fd_classifier 16-21 to 4-9. The average starts at stage 2's first step (``g_optimizer`` is idle in
  stage 1). Measured (seed 0, vae_gan.md's ``lsr_b1_long_ema``): no better than ``lsr_b1_long`` without it (random-z
  fd_classifier 21.6 vs 20.5; ratio to the VAE 0.58 vs 0.55), so the preset stays ``lsr_b1_long``.
* ``fashion32_dcgan_longer`` (the ``lsr_gan_fashion_mnist`` preset's recipe, issue 20): ``fashion32_dcgan_long``
  with 45 stage-2 epochs (9,000 steps) instead of 30. At 30 the recipe's fd_classifier was 9.90 / 10.40 / 9.39 at
  seeds 0 / 1 / 2, over issue 20's 10 at seed 1; docs/results/preset_seeds.json has both at three seeds.
* ``fashion32_dcgan_long`` (the preset's recipe before ``fashion32_dcgan_longer``): ``fashion32``'s VAE (8
  epochs), then 30 stage-2 epochs (6,000 steps) of a DCGAN generator trained from scratch (``generator="dcgan"``,
  resize-convolutions) with lambda = 0.01 against the table-3 discriminator at 32/64/128 with R1 (gamma 10), and the
  generator's moving average (m = 0.999): docs/results/vae_gan.md's ``lsr_dcgan_l0.01`` (3,200 steps, no average,
  fd_classifier 15.9) with `lsc_gan`'s Fashion-MNIST stage-2 recipe (``fashion32_adc_ema_long``: 6,000 steps,
  resize-convolutions, m = 0.999, fd_classifier 4.2).
* ``cifar32``: the paper's networks (table 3 widths, latent 128), batch 32; 10 + 10 epochs of 1,000 steps.
* ``fashion32``: the same architecture at a quarter of the channel widths, latent 64, batch 64, 8 + 8 epochs of
  200 steps: what the 2-core CPU of this project trains in minutes (docs/results/vae_gan.md).
* ``smoke``: tiny, for tests.

``zoo train lsr_gan --dataset fashion_mnist --config fashion32``
"""

_ADAM = {"learning_rate": 2e-4, "beta_1": 0.5}
SMALL = {"encoder_widths": (16, 32, 32), "decoder_widths": (32, 16, 16), "hidden": 128, "base": 32}


def _train(batch_size, epochs, steps_per_epoch):
    return {"batch_size": batch_size, "epochs": epochs, "steps_per_epoch": steps_per_epoch,
            "optimizer": _ADAM, "g_optimizer": _ADAM, "d_optimizer": _ADAM}


CONFIGS = {
    "smoke": {"model": {"image_size": 32, "latent_dim": 16, "encoder_widths": (8, 16, 8),
                        "decoder_widths": (16, 8, 8), "hidden": 16, "base": 8, "d_widths": (8, 16, 16),
                        "vae_epochs": 1}, "train": _train(16, 2, 3)},
    "fashion32": {"model": {"image_size": 32, "latent_dim": 64, **SMALL, "d_widths": (16, 32, 64), "vae_epochs": 8},
                  "train": _train(64, 16, 200)},
    "fashion32_long": {"model": {"image_size": 32, "latent_dim": 64, **SMALL, "d_widths": (16, 32, 64),
                                 "vae_epochs": 8},
                       "train": {**_train(64, 40, 200), "g_optimizer": {**_ADAM, "use_ema": True,
                                                                         "ema_momentum": 0.998}}},
    "cifar32": {"model": {"image_size": 32, "channels": 3, "latent_dim": 128, "vae_epochs": 10},
                "train": _train(32, 20, 1000)},
}
_F32 = CONFIGS["fashion32"]["model"]
CONFIGS["fashion32_dcgan_long"] = {  # fashion32's VAE, then 30 stage-2 epochs
    "model": {**_F32, "d_widths": (32, 64, 128), "generator": "dcgan", "generator_init": "scratch",
              "g_upsample": "resize", "r1_weight": 10.0, "lsr_weight": 0.01},
    "train": {**_train(64, _F32["vae_epochs"] + 30, 200), "g_optimizer": {**_ADAM, "use_ema": True,
                                                                          "ema_momentum": 0.999}}}
# fashion32_dcgan_long with 45 stage-2 epochs instead of 30 (the module docstring)
CONFIGS["fashion32_dcgan_longer"] = {
    "model": CONFIGS["fashion32_dcgan_long"]["model"],
    "train": {**CONFIGS["fashion32_dcgan_long"]["train"], "epochs": _F32["vae_epochs"] + 45}}
