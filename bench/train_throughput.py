"""Images per second of the `dcgan` train step vs (a) a keras.io-style implementation of the same networks and
(b) the same networks in PyTorch on the CPU, measured in one run, reported as ratios.

    python bench/train_throughput.py [--steps 60] [--batch 64] [--out bench/results/train_throughput.json]

Protocol: 32x32x1 images (Fashion-MNIST, resized), the zoo's DCGAN networks (base_channels 32, latent 100),
non-saturating loss, Adam 2e-4/0.5, one D and one G step per batch. Every implementation runs a warm-up
(tracing/compilation) then `--steps` timed steps per round; implementations are interleaved for `--rounds`
rounds and the median per implementation is reported, so machine noise hits all of them alike.

(a) keras.io-style = the DCGAN example of keras.io (generative/dcgan_overriding_train_step): real and fake
concatenated into one discriminator batch, label noise, BinaryCrossentropy on a sigmoid output,
`model.compile()` defaults (one step per execution).
Verbatim under Keras 3 that reference runs BatchNorm in inference mode (see `KerasIOGAN`), so the bench also
times it with ``training=True`` (the same work as ours). The zoo runs both of its update orders
(``alternating``: the paper's; ``simultaneous``: one generator pass for both updates), BatchNorm in training
mode, ``steps_per_execution=8``. XLA is off everywhere: on this CPU it made the zoo's step slower.
(b) PyTorch: the same networks, alternating updates, train-mode BatchNorm, all CPU threads.
Both wall-clock and CPU-time throughput are reported: on a shared 2-core VM the wall clock swings up to 2x
between rounds, CPU seconds of the process much less.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import zoo  # noqa: E402
from zoo.dcgan.networks import dcgan_discriminator, dcgan_generator  # noqa: E402

IMAGE, CH, BASE, LATENT = 32, 1, 32, 100


class KerasIOGAN(keras.Model):
    """keras.io's DCGAN train_step, verbatim in structure (sigmoid D output, BCE, concat, label noise).

    Verbatim, it calls the networks without ``training=``; under Keras 3 BatchNorm then runs in inference
    mode inside fit (moving statistics never change: checked in this file's ``--check-bn``), so it does less
    work than a DCGAN step. ``training=True`` gives the corrected reference that does the same work as ours.
    """

    def __init__(self, discriminator, generator, latent_dim, training=None):
        super().__init__()
        self.discriminator, self.generator, self.latent_dim = discriminator, generator, latent_dim
        self.training = training
        self.seed_generator = keras.random.SeedGenerator(1337)

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer, self.g_optimizer, self.loss_fn = d_optimizer, g_optimizer, loss_fn
        self.d_loss_metric = keras.metrics.Mean(name="d_loss")
        self.g_loss_metric = keras.metrics.Mean(name="g_loss")

    @property
    def metrics(self):
        return [self.d_loss_metric, self.g_loss_metric]

    def train_step(self, real_images):
        batch_size = tf.shape(real_images)[0]
        z = keras.random.normal(shape=(batch_size, self.latent_dim), seed=self.seed_generator)
        generated = self.generator(z, training=self.training)
        combined = tf.concat([generated, real_images], axis=0)
        labels = tf.concat([tf.ones((batch_size, 1)), tf.zeros((batch_size, 1))], axis=0)
        labels += 0.05 * tf.random.uniform(tf.shape(labels))
        with tf.GradientTape() as tape:
            d_loss = self.loss_fn(labels, self.discriminator(combined, training=self.training))
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
        z = keras.random.normal(shape=(batch_size, self.latent_dim), seed=self.seed_generator)
        misleading = tf.zeros((batch_size, 1))
        with tf.GradientTape() as tape:
            g_loss = self.loss_fn(misleading, self.discriminator(self.generator(z, training=self.training),
                                                                 training=self.training))
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        self.d_loss_metric.update_state(d_loss)
        self.g_loss_metric.update_state(g_loss)
        return {"d_loss": self.d_loss_metric.result(), "g_loss": self.g_loss_metric.result()}


def _data(batch):
    x, _ = zoo.load_arrays("fashion_mnist", "train", image_size=IMAGE)
    return tf.data.Dataset.from_tensor_slices(x[:batch * 64]).cache().repeat().batch(batch, drop_remainder=True) \
        .prefetch(tf.data.AUTOTUNE)


def _timed(run):
    """(wall seconds, CPU seconds of this process) of ``run()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def make_zoo(update, steps_per_execution):
    model = zoo.get_model_class("dcgan")(image_size=IMAGE, channels=CH, base_channels=BASE, latent_dim=LATENT,
                                         update=update)
    model.compile(g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                  d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), steps_per_execution=steps_per_execution)
    return model


def bn_updates(model, ds) -> bool:
    """Whether fit changes the generator's first BatchNorm moving mean."""
    bn = next(layer for layer in model.generator.layers if isinstance(layer, keras.layers.BatchNormalization))
    before = bn.moving_mean.numpy().copy()
    model.fit(ds, epochs=1, steps_per_epoch=2, verbose=0)
    return not np.allclose(before, bn.moving_mean.numpy())


def make_kerasio(training=None):
    g = dcgan_generator(LATENT, IMAGE, CH, BASE, sync_batchnorm=False)
    d_logits = dcgan_discriminator(IMAGE, CH, BASE, "batch", sync_batchnorm=False)
    d = keras.Sequential([d_logits, keras.layers.Activation("sigmoid")])
    model = KerasIOGAN(d, g, LATENT, training)
    model.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                  g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), loss_fn=keras.losses.BinaryCrossentropy())
    return model


def torch_runner(batch):
    import torch
    from torch import nn

    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count())
    w = BASE * 2 ** (int(np.log2(IMAGE)) - 3)

    class G(nn.Module):
        def __init__(self):
            super().__init__()
            self.project = nn.Sequential(nn.Linear(LATENT, 16 * w, bias=False))
            layers, c = [nn.BatchNorm2d(w), nn.ReLU()], w
            while c > BASE:
                layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c // 2), nn.ReLU()]
                c //= 2
            layers += [nn.ConvTranspose2d(c, CH, 4, 2, 1), nn.Tanh()]
            self.body = nn.Sequential(*layers)

        def forward(self, z):
            return self.body(self.project(z).view(-1, w, 4, 4))

    layers, c, size = [nn.Conv2d(CH, BASE, 4, 2, 1), nn.LeakyReLU(0.2)], BASE, IMAGE // 2
    while size > 4:
        layers += [nn.Conv2d(c, 2 * c, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * c), nn.LeakyReLU(0.2)]
        c, size = 2 * c, size // 2
    d = nn.Sequential(*layers, nn.Flatten(), nn.Linear(c * 16, 1))
    g = G()
    og = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
    od = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    sp = nn.functional.softplus
    x_all, _ = zoo.load_arrays("fashion_mnist", "train", image_size=IMAGE)
    x_all = torch.from_numpy(np.ascontiguousarray(x_all[:batch * 64].transpose(0, 3, 1, 2)))

    def run(steps):
        for i in range(steps):
            real = x_all[(i % 64) * batch:(i % 64 + 1) * batch]
            with torch.no_grad():
                fake = g(torch.randn(batch, LATENT))
            od.zero_grad()
            (sp(-d(real)).mean() + sp(d(fake)).mean()).backward()
            od.step()
            og.zero_grad()
            sp(-d(g(torch.randn(batch, LATENT)))).mean().backward()
            og.step()

    return run, torch.__version__


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=96)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps-per-execution", type=int, default=8)
    p.add_argument("--out", default=str(Path(__file__).parent / "results" / "train_throughput.json"))
    args = p.parse_args()
    keras.utils.set_random_seed(0)
    ds = _data(args.batch)
    models = {"zoo_alternating": make_zoo("alternating", args.steps_per_execution),
              "zoo_simultaneous": make_zoo("simultaneous", args.steps_per_execution),
              "kerasio_verbatim": make_kerasio(None), "kerasio_training_true": make_kerasio(True)}
    runs = {k: (lambda m=m: m.fit(ds, epochs=1, steps_per_epoch=args.steps, verbose=0)) for k, m in models.items()}
    bn = {k: bn_updates(m, ds) for k, m in models.items()}
    try:
        run_torch, torch_version = torch_runner(args.batch)
        runs["torch"] = lambda: run_torch(args.steps)
        bn["torch"] = True
    except ImportError:
        torch_version = None
    for run in runs.values():
        run()  # warm-up: tracing, compilation, caches
    wall = {k: [] for k in runs}
    cpu = {k: [] for k in runs}
    for _ in range(args.rounds):  # interleaved, so machine noise hits every implementation alike
        for name, run in runs.items():
            w, c = _timed(run)
            wall[name].append(w)
            cpu[name].append(c)
    n = args.batch * args.steps
    ips = {k: n / statistics.median(v) for k, v in wall.items()}
    ips_cpu = {k: n / statistics.median(v) for k, v in cpu.items()}
    refs = [k for k in runs if not k.startswith("zoo")]
    result = {
        "images_per_second_wall": {k: round(v, 1) for k, v in ips.items()},
        "images_per_cpu_second": {k: round(v, 1) for k, v in ips_cpu.items()},
        "ratios_wall": {f"{z}/{r}": round(ips[z] / ips[r], 3) for z in models if z.startswith("zoo") for r in refs},
        "ratios_cpu": {f"{z}/{r}": round(ips_cpu[z] / ips_cpu[r], 3) for z in models if z.startswith("zoo")
                       for r in refs},
        "batchnorm_statistics_update_in_fit": bn,
        "protocol": {"image": f"{IMAGE}x{IMAGE}x{CH}", "base_channels": BASE, "latent_dim": LATENT,
                     "batch": args.batch, "timed_steps_per_round": args.steps, "rounds": args.rounds,
                     "statistic": "median over interleaved rounds", "zoo_steps_per_execution": args.steps_per_execution,
                     "data": "Fashion-MNIST train, first batch*64 images, cached in memory"},
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "processor": platform.processor(),
                    "gpu": bool(tf.config.list_physical_devices("GPU"))},
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__, "torch": torch_version},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
