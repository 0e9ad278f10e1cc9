"""Training configs of `dcgan`. ``model``: constructor kwargs; ``train``: the fit recipe.

Run one with ``zoo train dcgan --dataset fashion_mnist --config quick --out runs/dcgan``.
"""

_ADAM = {"learning_rate": 2e-4, "beta_1": 0.5, "beta_2": 0.999}
_QUICK_NET = {"image_size": 32, "channels": 1, "base_channels": 32, "latent_dim": 64}
# batch 64, 112 epochs of 150 steps (16,800), the generator's average at m = 0.999
_B64_LONG = {"batch_size": 64, "epochs": 112, "steps_per_epoch": 150,
             "g_optimizer": dict(_ADAM, use_ema=True, ema_momentum=0.999), "d_optimizer": _ADAM}

CONFIGS = {
    # Seconds on 2 CPU cores: tests and CI.
    "smoke": {
        "model": {"image_size": 16, "channels": 1, "base_channels": 8, "latent_dim": 16},
        "train": {"batch_size": 32, "epochs": 2, "steps_per_epoch": 4, "g_optimizer": _ADAM, "d_optimizer": _ADAM},
    },
    # The README's main job: a few minutes on 2 CPU cores, recognisable Fashion-MNIST samples.
    "quick": {
        "model": _QUICK_NET,
        "train": {"batch_size": 128, "epochs": 3, "steps_per_epoch": 150, "g_optimizer": _ADAM,
                  "d_optimizer": _ADAM},
    },
    # The preset's recipe until ``fashion32_r1_long``: ``quick``'s network trained 56 epochs (8,400 steps, what the
    # growing presets take) with the generator's moving average (Keras ``use_ema``, momentum 0.998, written into the
    # generator when ``fit`` ends, `trainers.base.Model.finalize_ema`); measured beside the run in
    # docs/results/ema.md.
    "fashion32_long": {
        "model": _QUICK_NET,
        "train": {"batch_size": 128, "epochs": 56, "steps_per_epoch": 150,
                  "g_optimizer": dict(_ADAM, use_ema=True, ema_momentum=0.998), "d_optimizer": _ADAM},
    },
    # ``fashion32_long`` at half the batch and twice the steps (the same 1.07M images, 16,800 generator updates), the
    # average at m = 0.999 (the same horizon in images as 0.998 at batch 128): ``fashion32_long``'s fd_classifier
    # was 8.81 / 10.57 / 8.36 at seeds 0 / 1 / 2 (docs/results/ema.md), above issue 20's 10 at seed 1. Seed 1:
    # 9.60 (docs/results/preset_seeds.json); not run further once ``fashion32_r1_long`` scored 4.21 there.
    "fashion32_b64_long": {"model": _QUICK_NET, "train": _B64_LONG},
    # The preset's recipe: ``fashion32_b64_long`` with a resize-convolution generator (``g_upsample="resize"``) and
    # R1 on the discriminator (gamma 10, Mescheder et al. 2018), what LSR-GAN's preset trains in its stage 2 (the
    # same base-32 DCGAN generator and discriminator widths; `zoo.lsr_gan.configs` ``fashion32_dcgan_longer``),
    # which scored better per step. fd_classifier 5.03 / 4.21 / 4.29 at seeds 0 / 1 / 2
    # (docs/results/preset_seeds.json); ~0.11 s a step beside another run on the 2-core VM.
    "fashion32_r1_long": {"model": dict(_QUICK_NET, g_upsample="resize", r1_weight=10.0), "train": _B64_LONG},
    # The DCGAN paper's recipe at 32x32 (batch 128, Adam 2e-4, beta_1 0.5, z of 100 dims).
    "default": {
        "model": {"image_size": 32, "channels": 1, "base_channels": 64, "latent_dim": 100},
        "train": {"batch_size": 128, "epochs": 25, "g_optimizer": _ADAM, "d_optimizer": _ADAM},
    },
    "wgan_gp": {
        "model": {"image_size": 32, "channels": 1, "base_channels": 64, "latent_dim": 128, "loss": "wasserstein",
                  "d_norm": "layer", "n_critic": 5},
        "train": {"batch_size": 64, "epochs": 25,
                  "g_optimizer": {"learning_rate": 1e-4, "beta_1": 0.0, "beta_2": 0.9},
                  "d_optimizer": {"learning_rate": 1e-4, "beta_1": 0.0, "beta_2": 0.9}},
    },
}
