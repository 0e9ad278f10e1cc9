"""Configs of `lsr_gan` (LSR-GAN appendix D: Adam 2e-4, beta_1 0.5 for every network, batch 32).

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
    "cifar32": {"model": {"image_size": 32, "channels": 3, "latent_dim": 128, "vae_epochs": 10},
                "train": _train(32, 20, 1000)},
}
