"""Images per second of the `dcgan` train step against keras.io's DCGAN and PyTorch at equal settings, in float32 and
bfloat16, from ONE interleaved run; writes bench/results/train_throughput.json.

    python bench/train_throughput.py [--steps 32] [--rounds 3] [--batch 128] [--out bench/results/...json]

Protocol: dcgan's ``default`` config at 32x32x1 (base_channels 64, latent 100, batch 128: DCGAN's recipe), the
non-saturating loss, Adam 2e-4 / 0.5, one D and one G step per batch, XLA off (on this CPU it made the step slower).
Data: the first batch x 64 Fashion-MNIST training images, cached in memory, tf.data's autotuning off (with it on,
5 of 6 fits on this pipeline ran with one core idle: bench/data_autotune.py). Implementations:

* ``zoo_alternating``: the step ``zoo train dcgan`` runs (the paper's update order);
* ``zoo_simultaneous``: the zoo's one-generator-pass order (``update="simultaneous"``);
* ``kerasio_training_true``: keras.io's DCGAN (generative/dcgan_overriding_train_step) with ``training=True``, the
  reference that does the same work as ours (`KerasIOGAN`), on Keras' own layers (`_as_keras_layers`: Keras'
  BatchNorm, TF's convolution kernels); its output sigmoid in float32 under bfloat16, as the Keras
  mixed-precision guide says;
* ``kerasio_verbatim``: as published (BatchNorm in inference mode under Keras 3: less work), float32, one step per
  execution (its ``compile()`` defaults);
* ``torch``: the same networks in PyTorch (eager, channels-last tensors, all CPU threads), float32 and bfloat16
  autocast.

The Keras implementations run at ``steps_per_execution`` 1 and 8, in float32 and in ``mixed_bfloat16`` (bfloat16
only where `trainers.precision` finds bfloat16 units: ``auto``). Every configuration is built and warmed up by
``--warmup`` steps (tracing, oneDNN primitive caches; PyTorch's bf16 loop took ~100 steps to reach its speed:
with 32, its last round was its fastest in three runs), then the configurations take turns, ``--steps`` timed
steps each per round, for ``--rounds`` rounds: machine noise hits all alike; the median round counts. Wall-clock
and process-CPU throughput are both reported. Measured in the same run: the peak of a 3x3 convolution (batch 64,
32x32, 128 -> 128 channels) in each precision, and the dcgan step's floating-point operations (TensorFlow's
profiler on the traced step: convolutions, their two gradients and the matmuls), so ``percent_of_conv_peak = step
FLOPs x steps/s / peak``.
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
from trainers.precision import BF16_CPU_FLAGS, cpu_flags, resolve_precision  # noqa: E402
from zoo.dcgan.networks import dcgan_discriminator, dcgan_generator  # noqa: E402

IMAGE, CH, BASE, LATENT = 32, 1, 64, 100
CPU_FLAGS_OF_INTEREST = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16",
                         "amx_int8", "fma")


class KerasIOGAN(keras.Model):
    """keras.io's DCGAN train_step, verbatim in structure (sigmoid D output, BCE, concat, label noise).

    Verbatim, it calls the networks without ``training=``; under Keras 3 BatchNorm then runs in inference
    mode inside fit (moving statistics never change: the bench records it), so it does less
    work than a DCGAN step. ``training=True`` gives the corrected reference that does the same work as ours.
    """

    def __init__(self, discriminator, generator, latent_dim, training=None):
        super().__init__()
        self.discriminator, self.generator, self.latent_dim = discriminator, generator, latent_dim
        self.training = training
        self.seed_generator = keras.random.SeedGenerator(1337)

    def compile(self, d_optimizer, g_optimizer, loss_fn, steps_per_execution=1):
        super().compile(steps_per_execution=steps_per_execution)
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
    return x[:batch * 64]


def _dataset(x, batch, autotune=False):
    """tf.data's autotuning off (`zoo.data.pipeline_options`): with it on, 5 of 6 ``fit`` calls on this pipeline ran
    with one core idle (bench/data_autotune.py), which is what read as exactly 400 img/s in earlier runs."""
    return tf.data.Dataset.from_tensor_slices(x).cache().repeat().batch(batch, drop_remainder=True) \
        .prefetch(tf.data.AUTOTUNE).with_options(zoo.data.pipeline_options(autotune))


def _timed(run):
    """(wall seconds, CPU seconds of this process) of ``run()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def interleaved(runs: dict, rounds: int, steps: int, batch: int | None = None) -> tuple[dict, dict]:
    """({name: wall seconds per round}, {name: CPU seconds per round}) of each ``run(steps)`` in ``runs``, the runs
    taking turns for ``rounds`` rounds so that machine noise hits every one alike; with ``batch``, each round's img/s
    is printed."""
    wall, cpu = {k: [] for k in runs}, {k: [] for k in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            w, c = _timed(lambda: run(steps))
            wall[name].append(w)
            cpu[name].append(c)
            if batch:
                print(f"{name}: {batch * steps / w:.0f} img/s", flush=True)
    return wall, cpu


def _under(policy, build):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        return build()
    finally:
        keras.config.set_dtype_policy(previous)


def make_zoo(update, steps_per_execution):
    model = zoo.get_model_class("dcgan")(image_size=IMAGE, channels=CH, base_channels=BASE, latent_dim=LATENT,
                                         update=update)
    model.compile(g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                  d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), steps_per_execution=steps_per_execution)
    return model


def make_kerasio(training, steps_per_execution):
    g = dcgan_generator(LATENT, IMAGE, CH, BASE, sync_batchnorm=False)
    d_logits = dcgan_discriminator(IMAGE, CH, BASE, "batch", sync_batchnorm=False)
    for net in (g, d_logits):  # keras.io's networks use Keras' layers, not the zoo's
        _as_keras_layers(net)
    d = keras.Sequential([d_logits, keras.layers.Activation("sigmoid", dtype="float32")])
    model = KerasIOGAN(d, g, LATENT, training)
    model.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                  g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), loss_fn=keras.losses.BinaryCrossentropy(),
                  steps_per_execution=steps_per_execution)
    return model


def _as_keras_layers(net):
    """Run every `zoo.layers.BatchNormalization` and `zoo.conv` layer of `net` as the Keras layer it extends
    (``fused=False``; TF's kernels for every convolution)."""
    from zoo.conv import configure
    from zoo.layers import BatchNormalization

    for layer in net.layers:
        if isinstance(layer, BatchNormalization):
            layer.fused = False
    configure([net], weight_gradient="native", narrow_transpose="native")


def bn_updates(model, ds) -> bool:
    """Whether fit changes the generator's first BatchNorm moving mean."""
    bn = next(layer for layer in model.generator.layers if isinstance(layer, keras.layers.BatchNormalization))
    before = bn.moving_mean.numpy().copy()
    model.fit(ds, epochs=1, steps_per_epoch=2 * model.steps_per_execution, verbose=0)
    return not np.allclose(before, bn.moving_mean.numpy())


def step_flops(batch) -> float:
    """Floating-point operations of one zoo dcgan train step (TF profiler on the traced graph, float32 shapes)."""
    from tensorflow.python.profiler import model_analyzer, option_builder

    model = make_zoo("alternating", 1)
    graph = tf.function(model.train_step).get_concrete_function(
        tf.TensorSpec([batch, IMAGE, IMAGE, CH], tf.float32)).graph
    opts = option_builder.ProfileOptionBuilder.float_operation()
    opts["output"] = "none"
    return float(model_analyzer.profile(graph, options=opts).total_float_ops)


def conv_peak(dtype, reps=20) -> float:
    """FLOP/s of a 3x3 SAME convolution, batch 64, 32x32, 128 -> 128 channels, in `dtype` (median of 3 timings)."""
    x = tf.random.normal([64, 32, 32, 128], dtype=tf.float32)
    k = tf.random.normal([3, 3, 128, 128], dtype=tf.float32) * 0.05
    x, k = tf.cast(x, dtype), tf.cast(k, dtype)

    @tf.function
    def run():
        acc = tf.zeros([], tf.float32)
        for _ in range(reps):
            acc += tf.cast(tf.reduce_sum(tf.nn.conv2d(x + tf.cast(acc * 0, dtype), k, 1, "SAME")[0, 0, 0]),
                           tf.float32)
        return acc

    run()
    times = []
    for _ in range(3):
        t = time.perf_counter()
        run().numpy()
        times.append(time.perf_counter() - t)
    return 2 * 64 * 32 * 32 * 128 * 128 * 9 * reps / statistics.median(times)


def torch_runner(batch, x, bf16):
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
            return self.body(self.project(z).view(-1, w, 4, 4).contiguous(memory_format=torch.channels_last))

    layers, c, size = [nn.Conv2d(CH, BASE, 4, 2, 1), nn.LeakyReLU(0.2)], BASE, IMAGE // 2
    while size > 4:
        layers += [nn.Conv2d(c, 2 * c, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * c), nn.LeakyReLU(0.2)]
        c, size = 2 * c, size // 2
    d = nn.Sequential(*layers, nn.Flatten(), nn.Linear(c * 16, 1)).to(memory_format=torch.channels_last)
    g = G().to(memory_format=torch.channels_last)
    og = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
    od = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    sp = nn.functional.softplus
    x_all = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))).contiguous(
        memory_format=torch.channels_last)
    cast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16)

    def run(steps):
        for i in range(steps):
            real = x_all[(i % 64) * batch:(i % 64 + 1) * batch]
            with torch.no_grad(), cast:
                fake = g(torch.randn(batch, LATENT))
            od.zero_grad()
            with cast:
                d_loss = sp(-d(real).float()).mean() + sp(d(fake).float()).mean()
            d_loss.backward()
            od.step()
            og.zero_grad()
            with cast:
                g_loss = sp(-d(g(torch.randn(batch, LATENT))).float()).mean()
            g_loss.backward()
            og.step()

    return run, torch.__version__


def configurations(batch, x, bf16):
    """name -> (run(steps), whether BatchNorm statistics move in fit), built under their precision."""
    ds = _dataset(x, batch)
    precisions = ["float32"] + (["mixed_bfloat16"] if bf16 else [])
    runs, bn = {}, {}
    for policy in precisions:
        for spe in (1, 8):
            for name, build in (("zoo_alternating", lambda: make_zoo("alternating", spe)),
                                ("zoo_simultaneous", lambda: make_zoo("simultaneous", spe)),
                                ("kerasio_training_true", lambda: make_kerasio(True, spe))):
                model = _under(policy, build)
                key = f"{name}/{policy}/spe{spe}"
                bn[key] = bn_updates(model, ds)
                runs[key] = lambda steps, m=model: m.fit(ds, epochs=1, steps_per_epoch=steps, verbose=0)
    verbatim = make_kerasio(None, 1)
    bn["kerasio_verbatim/float32/spe1"] = bn_updates(verbatim, ds)
    runs["kerasio_verbatim/float32/spe1"] = lambda steps: verbatim.fit(ds, epochs=1, steps_per_epoch=steps, verbose=0)
    torch_version = None
    try:
        for policy in precisions:
            run, torch_version = torch_runner(batch, x, policy != "float32")
            runs[f"torch/{policy}"] = run
            bn[f"torch/{policy}"] = True
    except ImportError:
        pass
    return runs, bn, torch_version


def machine() -> dict:
    """The CPU this bench ran on: its flags of interest, and whether a GPU was visible."""
    return {"platform": platform.platform(), "cpus": os.cpu_count(), "processor": platform.processor(),
            "cpu_flags": sorted(set(CPU_FLAGS_OF_INTEREST) & cpu_flags()), "bf16_flags_checked": list(BF16_CPU_FLAGS),
            "gpu": bool(tf.config.list_physical_devices("GPU"))}


def write(path, result: dict, shown: str) -> None:
    """Write a bench's ``result`` as JSON at ``path`` (with the library versions), and print its ``shown`` part."""
    result["versions"] = {"tensorflow": tf.__version__, "keras": keras.__version__, **result.get("versions", {})}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result[shown], indent=1))


def summary(ips, image_flops, peaks, bf16) -> dict:
    """The issue's ratios from the measured images per second (`image_flops`: FLOPs of the step per image)."""
    low = "mixed_bfloat16" if bf16 else "float32"
    out = {}
    for spe in (1, 8):
        zoo_auto, zoo_f32 = ips[f"zoo_alternating/{low}/spe{spe}"], ips[f"zoo_alternating/float32/spe{spe}"]
        out[f"zoo_auto_over_float32_spe{spe}"] = zoo_auto / zoo_f32
        out[f"zoo_auto_over_kerasio_training_true_float32_spe{spe}"] = zoo_auto / ips[
            f"kerasio_training_true/float32/spe{spe}"]
        out[f"zoo_over_kerasio_training_true_same_precision_spe{spe}"] = {
            p: ips[f"zoo_alternating/{p}/spe{spe}"] / ips[f"kerasio_training_true/{p}/spe{spe}"]
            for p in ("float32", low)}
    torch_keys = [k for k in ips if k.startswith("torch/")]
    if torch_keys:
        best_torch = max(torch_keys, key=ips.get)
        best_zoo = max((k for k in ips if k.startswith("zoo_alternating/")), key=ips.get)
        out["zoo_best_over_torch_best"] = ips[best_zoo] / ips[best_torch]
        out["zoo_best_over_torch_best_which"] = [best_zoo, best_torch]
    key = f"zoo_alternating/{low}/spe8"
    out["zoo_auto_spe8_percent_of_conv_peak"] = 100 * image_flops * ips[key] / peaks[low]
    return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in out.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=32)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--warmup", type=int, default=128, help="untimed steps per configuration first")
    p.add_argument("--out", default=str(Path(__file__).parent / "results" / "train_throughput.json"))
    args = p.parse_args()
    keras.utils.set_random_seed(0)
    precision = resolve_precision("auto")
    bf16 = precision.policy == "mixed_bfloat16"
    peaks = {"float32": conv_peak(tf.float32)}
    if bf16:
        peaks["mixed_bfloat16"] = conv_peak(tf.bfloat16)
    flops = step_flops(args.batch)
    runs, bn, torch_version = configurations(args.batch, _data(args.batch), bf16)
    for run in runs.values():
        run(args.warmup)  # tracing, oneDNN primitive caches, PyTorch's own warm-up
    wall, cpu = interleaved(runs, args.rounds, args.steps, args.batch)
    n = args.batch * args.steps
    ips = {k: n / statistics.median(v) for k, v in wall.items()}
    ips_cpu = {k: n / statistics.median(v) for k, v in cpu.items()}
    result = {
        "summary_wall": summary(ips, flops / args.batch, peaks, bf16),
        "summary_cpu": summary(ips_cpu, flops / args.batch, peaks, bf16),
        "images_per_second_wall": {k: round(v, 1) for k, v in ips.items()},
        "images_per_cpu_second": {k: round(v, 1) for k, v in ips_cpu.items()},
        "images_per_second_wall_per_round": {k: [round(n / w, 1) for w in v] for k, v in wall.items()},
        "batchnorm_statistics_update_in_fit": bn,
        "conv3x3_peak_gflops": {k: round(v / 1e9, 1) for k, v in peaks.items()},
        "step_gflop": round(flops / 1e9, 2),
        "protocol": {"doc": __doc__.split("\n\n", 2)[2].strip(), "image": f"{IMAGE}x{IMAGE}x{CH}",
                     "base_channels": BASE, "latent_dim": LATENT, "batch": args.batch,
                     "warmup_steps": args.warmup, "timed_steps_per_round": args.steps, "rounds": args.rounds,
                     "statistic": "median over interleaved rounds", "auto_precision": precision.record()},
        "machine": machine(),
        "versions": {"torch": torch_version},
    }
    write(args.out, result, "summary_wall")


if __name__ == "__main__":
    main()
