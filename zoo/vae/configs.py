"""Configs of `vae` (LSR-GAN appendix D: Adam 2e-4, beta_1 0.5, batch 32; latent 128).

``zoo train vae --dataset fashion_mnist --config fashion32``
"""

_ADAM = {"learning_rate": 2e-4, "beta_1": 0.5}


def _train(batch_size, epochs, steps_per_epoch):
    return {"batch_size": batch_size, "epochs": epochs, "steps_per_epoch": steps_per_epoch, "optimizer": _ADAM}


CONFIGS = {
    "smoke": {"model": {"image_size": 32, "latent_dim": 16, "encoder_widths": (8, 16, 8),
                        "decoder_widths": (16, 8, 8), "hidden": 16, "base": 8}, "train": _train(16, 2, 3)},
    "fashion32": {"model": {"image_size": 32, "latent_dim": 128}, "train": _train(32, 10, 500)},
}
