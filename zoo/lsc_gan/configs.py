"""Configs of `lsc_vae` and `lsc_gan` (20 latent dimensions per attribute, section 4.1).

The paper gives no optimiser or architecture: the networks are LSR-GAN's table-3 ResNets (`zoo.vae`), at a quarter
of the widths for the 32x32 sets this project trains on a 2-core CPU, with Adam 2e-4, beta_1 0.5.

* ``fashion32`` / ``mnist32``: class attributes (one-hot), 10 x 20 = 200 latent dimensions, batch 64,
  8 epochs of 200 steps per stage.
* ``celeba64``: the paper's setting, 14 attributes x 20 = 280 dimensions, 64x64 crops (178x218 -> 138 -> 64),
  table-3 widths with one more block for 64x64; needs a prepared TFDS celeb_a.
* ``smoke``: tiny, for tests.
"""
from zoo.lsr_gan.configs import SMALL, _train

_SMOKE = {"image_size": 32, "attributes": "fashion_mnist", "block_size": 2, "encoder_widths": (8, 16, 8),
          "decoder_widths": (16, 8, 8), "hidden": 16, "base": 8}
_CELEBA = {"image_size": 64, "channels": 3, "attributes": "celeb_a", "block_size": 20,
           "encoder_widths": (64, 128, 128, 32), "decoder_widths": (128, 128, 64, 32)}


def _small(dataset):
    return {"image_size": 32, "attributes": dataset, "block_size": 20, **SMALL}


def _vae(model, train):
    out = {k: v for k, v in train.items() if k not in ("g_optimizer", "d_optimizer")}
    return {"model": model, "train": out}


VAE_CONFIGS = {
    "smoke": _vae(_SMOKE, _train(16, 2, 3)),
    "fashion32": _vae(_small("fashion_mnist"), _train(64, 8, 200)),
    "mnist32": _vae(_small("mnist"), _train(64, 8, 200)),
    "celeba64": _vae(_CELEBA, _train(64, 10, 2500)),
}
GAN_CONFIGS = {
    "smoke": {"model": {**_SMOKE, "d_widths": (8, 16, 16), "vae_epochs": 1}, "train": _train(16, 2, 3)},
    "fashion32": {"model": {**_small("fashion_mnist"), "d_widths": (16, 32, 64), "vae_epochs": 8},
                  "train": _train(64, 16, 200)},
    "mnist32": {"model": {**_small("mnist"), "d_widths": (16, 32, 64), "vae_epochs": 8},
                "train": _train(64, 16, 200)},
    "celeba64": {"model": {**_CELEBA, "vae_epochs": 10}, "train": _train(64, 20, 2500)},
}
