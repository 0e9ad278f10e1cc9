"""Train dcgan (or $ZOO_TEST_MODEL=clggan: growth inside fit; =lsr_gan: two stages inside fit; =feature_conditioned_gan /
=latentgan_ae: spectral norm, the feature bank, three optimizers) a few steps on digits under a strategy and save all
weights and the final stage: used by test_distribute.

    python tests/scripts/train_weights.py default|mirrored OUT.npz
    python tests/scripts/train_weights.py multi_worker OUT.npz INDEX PORT0,PORT1
"""
import json
import os
import sys

mode, out = sys.argv[1], sys.argv[2]
if mode == "multi_worker":
    index, ports = int(sys.argv[3]), sys.argv[4].split(",")
    os.environ["TF_CONFIG"] = json.dumps({"cluster": {"worker": [f"localhost:{p}" for p in ports]},
                                          "task": {"type": "worker", "index": index}})

import numpy as np  # noqa: E402

from trainers import get_strategy, split_cpu  # noqa: E402

if mode != "multi_worker":
    split_cpu(2)
strategy = get_strategy(mode)

import keras  # noqa: E402

import zoo  # noqa: E402
from zoo_app.fit import build_compiled  # noqa: E402

keras.utils.set_random_seed(0)  # initial weights, as zoo_app.fit.train does
if os.environ.get("ZOO_TEST_MODEL") == "clggan":  # 8x8 digits, grows 4 -> 8 latent dims at epoch 1
    model, _ = build_compiled("clggan", "smoke", dataset="digits", strategy=strategy, seed=3)
    ds = zoo.load_dataset("digits", batch_size=32, image_size=8, shuffle=False).take(4)
elif os.environ.get("ZOO_TEST_MODEL") == "lsr_gan":  # Fashion-MNIST 32x32, VAE for 1 epoch, then LSR-GAN
    model, _ = build_compiled("lsr_gan", "smoke", dataset="fashion_mnist", strategy=strategy, seed=3)
    ds = zoo.load_dataset("fashion_mnist", batch_size=16, image_size=32, shuffle=False).take(4)
elif os.environ.get("ZOO_TEST_MODEL") in ("feature_conditioned_gan", "latentgan_ae"):
    model, _ = build_compiled(os.environ["ZOO_TEST_MODEL"], "smoke", dataset="digits", strategy=strategy, seed=3)
    ds = zoo.load_dataset("digits", batch_size=16, image_size=16, shuffle=False).take(4)
else:
    model, _ = build_compiled("dcgan", "smoke", dataset="digits", strategy=strategy, seed=3, loss="wasserstein",
                              d_norm="layer")
    ds = zoo.load_dataset("digits", batch_size=32, image_size=16, shuffle=False).take(4)
hist = model.fit(ds, epochs=2, verbose=0)
weights = [v.numpy() for v in model.generator.weights + model.discriminator.weights]
np.savez(out, *weights, replicas=strategy.num_replicas_in_sync, iterations=int(model.g_optimizer.iterations.numpy()),
         stage=getattr(model, "stage", 0),
         **{f"log_{k}": np.asarray(v, np.float64) for k, v in hist.history.items()})
