"""Configs of `growing_mlp_gan` (thesis 7.1: Swiss roll with noise 0.5, batch 128, 1.92M real examples seen).

``zoo train growing_mlp_gan --dataset swiss_roll --config default --out runs/mlp``
"""

_RMSPROP = {"class": "RMSprop", "learning_rate": 1e-3}
_ADAM_WGAN = {"learning_rate": 1e-4, "beta_1": 0.5, "beta_2": 0.9}


def _train(optimizer, batch_size=128, epochs=30, steps_per_epoch=500):
    """The fit recipe; default: 30 x 500 = 15,000 steps of 128 = the thesis' 1.92M real examples."""
    return {"batch_size": batch_size, "epochs": epochs, "steps_per_epoch": steps_per_epoch,
            "g_optimizer": optimizer, "d_optimizer": optimizer}


CONFIGS = {
    "smoke": {"model": {"latent_schedule": (1, 2), "stage_epochs": (1,), "hidden": (16, 16)},
              "train": _train(_RMSPROP, batch_size=64, epochs=2, steps_per_epoch=5)},
    # The thesis text: 4 x 32 hidden, non-saturating loss, RMSprop 1e-3, batch 128; half the steps at 1 latent
    # dimension, half at 2.
    "default": {"model": {"latent_schedule": (1, 2), "stage_epochs": (15,), "loss": "non_saturating"},
                "train": _train(_RMSPROP)},
    # The same MLP trained at 2 latent dimensions from scratch (thesis figure 8), for comparison.
    "scratch": {"model": {"latent_schedule": (2,), "stage_epochs": (), "loss": "non_saturating"},
                "train": _train(_RMSPROP)},
    # The thesis' reference code: WGAN-GP, lambda 10.
    "reference": {"model": {"latent_schedule": (1, 2), "stage_epochs": (15,), "loss": "wasserstein"},
                  "train": _train(_ADAM_WGAN)},
}
