"""Configs of the growing CNN GANs. ``model`` = constructor kwargs, ``train`` = the fit recipe.

* ``celeba128``: the thesis (7.2.3) exactly: 128x128x3, latent 8 -> 256 (bgan, lggan: 256), C_0 = 256, WGAN-GP
  lambda 10, one critic step, Adam(1e-4, beta_1 0, beta_2 0.99, eps 1e-8), batch 16, 44 epochs: 4 for the first
  network, 8 per grown stage (4 fading, 4 stable). ``zoo train clggan --dataset celeb_a --config celeba128``.
* ``fashion32``: the same recipe at 32x32x1 for Fashion-MNIST / MNIST: latent 8 -> 64, C_0 = 64, 4 stages; epochs
  are 200 steps of 32 so that the 2-core CPU runs in docs/results/growing.md finish (lr 5e-4 for the short run).
* ``fashion32_long``: the presets' recipe: ``fashion32`` with 28 more epochs at the last stage (8,400 steps in all)
  and the generator's moving average (``use_ema``, momentum 0.998, written into the generator when ``fit`` ends,
  `trainers.base.Model.finalize_ema`); measured in docs/results/ema.md.
* ``fashion32_thesis_long``: ``fashion32_long``'s 8,400 steps and moving average in the thesis' proportions
  (7.2.3: the first network 4 epochs, each grown one 8, half of them fading) instead of the extra steps at the last
  stage: 6 + 3 x 12 epochs, 6 fading; thesis section 8's clggan vs lggan comparison in docs/results/growing.md.
* ``fashion32_thesis_long_copy`` (cggan, clggan, whose channels grow): ``fashion32_thesis_long`` with
  ``channel_growth="copy"``: new channels start as noisy copies of trained ones (Net2WiderNet,
  `zoo.growing.widen`) instead of fading in from random, the deviation from the thesis measured in
  docs/results/growing.md.
* ``smoke``: 8x8, two stages (the second fades over its 2 epochs), a few steps, for tests.
"""
from __future__ import annotations

THESIS_ADAM = {"learning_rate": 1e-4, "beta_1": 0.0, "beta_2": 0.99, "epsilon": 1e-8}


def _schedule(stages, first, grown):
    return tuple([first] + [grown] * (stages - 2)) if stages > 1 else ()


def _config(name, image_size, channels, latent_start, latent_end, base, stages, first, grown, fade, train):
    grows_latent = name not in ("bgan", "lggan")
    n = stages if name != "bgan" else 1
    model = {"image_size": image_size, "channels": channels, "latent_end": latent_end, "base_channels": base,
             "latent_start": latent_start if grows_latent else None,
             "stage_epochs": _schedule(n, first, grown), "fade_epochs": fade if n > 1 else 0}
    return {"model": model, "train": train}


def _train(batch_size, epochs, steps_per_epoch, optimizer):
    return {"batch_size": batch_size, "epochs": epochs, "steps_per_epoch": steps_per_epoch,
            "g_optimizer": optimizer, "d_optimizer": optimizer}


def for_model(name: str) -> dict:
    """The named configs of growing model `name`."""
    fast_adam = dict(THESIS_ADAM, learning_rate=5e-4)
    # the same 42 epochs as fashion32_long in the thesis' 1 : 2 : 2 : 2 (first : grown), half of each grown stage fading
    thesis_long = _config(name, 32, 1, 8, 64, 64, 4, 6, 12, 6, dict(
        _train(32, 42, 200, fast_adam), g_optimizer=dict(fast_adam, use_ema=True, ema_momentum=0.998)))
    copy = {"fashion32_thesis_long_copy": {"model": dict(thesis_long["model"], channel_growth="copy"),
                                           "train": thesis_long["train"]}} if name in ("cggan", "clggan") else {}
    return {
        "smoke": _config(name, 8, 1, 4, 8, 8, 2, 1, 2, 2, _train(8, 3, 3, THESIS_ADAM)),
        # 4 stages x (first 2 epochs, then 4 per grown stage: 2 fading, 2 stable) = 14 epochs.
        "fashion32": _config(name, 32, 1, 8, 64, 64, 4, 2, 4, 2, _train(32, 14, 200, fast_adam)),
        "fashion32_long": _config(name, 32, 1, 8, 64, 64, 4, 2, 4, 2, dict(
            _train(32, 42, 200, fast_adam), g_optimizer=dict(fast_adam, use_ema=True, ema_momentum=0.998))),
        "fashion32_thesis_long": thesis_long,
        **copy,
        # thesis 7.2.3: 44 epochs = 4 + 5 x 8; epochs are passes over CelebA's 162,770 training images.
        "celeba128": _config(name, 128, 3, 8, 256, 256, 6, 4, 8, 4, _train(16, 44, None, THESIS_ADAM)),
    }
