"""Configs of `feature_conditioned_gan`. The generator and the discriminator are `sngan`'s standard CNN with the same
width as the baseline it is compared with ("the rest of the topology remains unchanged", 4.2); Adam 2e-4,
betas (0.5, 0.999), batch 64, one G step per D step (Algorithm 2's n = 1).

* ``mnist32``: w = 16, noise 64, untrained AlexNet features (conv3, global average pool: 384 dims); also used
  for Fashion-MNIST. Beside `sngan`'s ``mnist32``.
* ``rotation32``: as ``mnist32`` with the extractor first trained on rotation prediction (2,000 steps).
* ``cifar32``: w = 64, noise 128, 3 channels, rotation-trained extractor (the paper's CIFAR-10 route).
* ``smoke``: tiny, for tests.
"""

_ADAM = {"learning_rate": 2e-4, "beta_1": 0.5, "beta_2": 0.999}


def _train(batch_size, epochs, steps_per_epoch):
    return {"batch_size": batch_size, "epochs": epochs, "steps_per_epoch": steps_per_epoch,
            "g_optimizer": _ADAM, "d_optimizer": _ADAM}


_MNIST = {"image_size": 32, "width": 16, "noise_dim": 64, "extractor_width": 64, "feature_layer": "conv3"}

CONFIGS = {
    "smoke": {"model": {"image_size": 16, "width": 4, "noise_dim": 8, "extractor_width": 4, "feature_layer": "conv2",
                        "bank_size": 32}, "train": _train(16, 2, 3)},
    "mnist32": {"model": dict(_MNIST), "train": _train(64, 10, 100)},
    "rotation32": {"model": {**_MNIST, "extractor": "rotation", "extractor_steps": 2000},
                   "train": _train(64, 10, 100)},
    "cifar32": {"model": {"image_size": 32, "channels": 3, "width": 64, "noise_dim": 128, "extractor_width": 64,
                          "feature_layer": "conv3", "extractor": "rotation", "extractor_steps": 20000},
                "train": _train(64, 100, 1000)},
}
