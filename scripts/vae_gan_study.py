"""Fashion-MNIST 32x32 study of LSR-GAN (issue 4; docs/results/vae_gan.md; LSC-GAN's is scripts/lsc_gan_study.py).

    python scripts/vae_gan_study.py train  [--out runs/vae_gan]    # trains what is missing (resumes a killed run)
    python scripts/vae_gan_study.py report [--out runs/vae_gan]    # measures, writes the tables and figures
    (--only a,b: only those runs, for either command)

Runs (config ``fashion32`` of each model, seed 0):

* ``lsr_b{beta}``: `lsr_gan`, 8 epochs of VAE (beta) then 8 of LSR-GAN with lambda = 1, beta in BETAS;
* ``lsr_b1_l{lambda}``: LSR-GAN stage 2 only, from the beta = 1 run's VAE, lambda in LAMBDAS;
* ``lsr_b1_long``: ``lsr_b1`` continued to 40 epochs (32 of LSR-GAN), for the random-sample comparison.
* ``lsr_b1_long_ema``: the same 8 + 32 epochs in one run with the generator's moving average (config
  ``fashion32_long``: Keras ``use_ema`` on ``g_optimizer``, momentum 0.998), the ``lsr_gan_fashion_mnist`` preset's
  run (issue 20; issue 13's random-z ratio).
* ``lsr_dcgan``: LSR-GAN stage 2 with a DCGAN generator trained from scratch (``generator="dcgan"``, as
  `lsc_gan`'s ``*_scratch`` configs) instead of the decoder, the table-3 discriminator at 32/64/128 with R1
  (gamma 10) and lambda = 0.1, 16 epochs (3,200 steps) on ``lsr_b1_long_ema``'s VAE (issue 13's random-z ratio);
  ``lsr_dcgan_l0.01``: the same with lambda = 0.01 (the low end of appendix C's sweep), stage-2 seeds 0, 1, 2
  (``lsr_dcgan_l0.01``, ``_s1``, ``_s2``) on that one VAE; the report writes the mean ± sample std of their
  random-z ratio (``groups``).
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import tensorflow as tf

from zoo.batching import batched

BETAS = (0.1, 1.0, 5.0)
LAMBDAS = (0.1, 10.0)
STRENGTHS = (-1.0, 0.0, 1.0, 2.0)
LONG_EPOCHS = 40  # lsr_b1_long: lsr_b1 resumed (BackupAndRestore) for 24 more stage-2 epochs
ROOT = Path(__file__).resolve().parents[1]
DCGAN_SEEDS = (0, 1, 2)  # lsr_dcgan_l0.01's stage-2 seeds (one VAE: lsr_b1_long_ema's)
# not in the seeded sweep; compared with the VAE
BEYOND_SWEEP = ("lsr_b1_long", "lsr_b1_long_ema", "lsr_dcgan", "lsr_dcgan_l0.01",
                *(f"lsr_dcgan_l0.01_s{s}" for s in DCGAN_SEEDS[1:]))


def _tag(x: float) -> str:
    return f"{x:g}"


def runs() -> list[tuple[str, str, dict]]:
    """``(run name, model, constructor overrides)`` in training order."""
    out = [(f"lsr_b{_tag(b)}", "lsr_gan", {"beta": b}) for b in BETAS]
    out += [(f"lsr_b1_l{_tag(lam)}", "lsr_gan", {"lsr_weight": lam, "vae_epochs": 0, "vae_from": "lsr_b1"})
            for lam in LAMBDAS]
    out.append(("lsr_b1_long", "lsr_gan", {"beta": 1.0, "continue_from": "lsr_b1", "epochs": LONG_EPOCHS}))
    out.append(("lsr_b1_long_ema", "lsr_gan", {"config": "fashion32_long"}))
    out.append(("lsr_dcgan", "lsr_gan", {"generator": "dcgan", "generator_init": "scratch", "d_widths": (32, 64, 128),
                                         "r1_weight": 10.0, "lsr_weight": 0.1, "vae_epochs": 0,
                                         "vae_from": "lsr_b1_long_ema", "epochs": 16}))
    out.append(("lsr_dcgan_l0.01", "lsr_gan", {**out[-1][2], "lsr_weight": 0.01}))
    out += [(f"lsr_dcgan_l0.01_s{s}", "lsr_gan", {**out[-1][2], "seed": s}) for s in DCGAN_SEEDS[1:]]
    return out


def train_all(out: Path, only=None):
    from zoo_app.fit import train

    for name, model, overrides in runs():
        run = out / name
        if (only and name not in only) or (run / "model.keras").exists():
            continue
        overrides = dict(overrides)
        epochs = overrides.pop("epochs", None)
        if "continue_from" in overrides:  # a copy of a finished run, resumed from its backup for more epochs
            shutil.copytree(out / overrides.pop("continue_from"), run, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("model.keras", "export"))
        if "vae_from" in overrides:
            overrides["vae_path"] = str(out / overrides.pop("vae_from") / "model.keras")
            epochs = epochs or 8  # stage 2 only
        print(f"== {name}: {model} {overrides}", flush=True)
        config, seed = overrides.pop("config", "fashion32"), overrides.pop("seed", 0)
        train(model, "fashion_mnist", config=config, out=run, seed=seed, verbose=2, epochs=epochs,
              precision="float32", **overrides)


# ------------------------------------------------------------------ measurements
def _unit(x):
    return (np.asarray(x, np.float32) + 1.0) / 2.0


def _mean_sem(v):
    v = np.asarray(v, np.float64)
    return [float(v.mean()), float(v.std(ddof=1) / np.sqrt(len(v)))]


def seeded_table(model, x, y, net, k=10, seed=0):
    """Appendix C's measurements of the VAE decoder and the LSR-GAN generator on test images x (labels y).

    mse: per image, sum over pixels of the squared error between x and network(mu(x)), pixels in [0, 1].
    variance: per image, k latents z ~ q(z|x) are rendered; the per-pixel variance over the k images is summed
    over pixels ([0, 1] scale). absolute accuracy: classifier(network(mu(x))) == label; relative: ==
    classifier(x). Values are mean and standard error over the images."""
    moments = batched(lambda b: np.stack([t.numpy() for t in model.encoder(b, training=False)], axis=1), x)
    mu, logvar = moments[:, 0], moments[:, 1]
    rng = np.random.default_rng(seed)
    eps = rng.standard_normal((k,) + mu.shape).astype(np.float32)
    raw_pred = net.predict_labels(x)
    out = {}
    for which in ("decoder", "generator"):
        net_g = getattr(model, which)
        render = lambda z: batched(lambda b: net_g(b, training=False), z)  # noqa: E731
        rec = render(mu)
        samples = np.stack([render(mu + np.exp(0.5 * logvar) * e) for e in eps])
        pred = net.predict_labels(rec)
        out[which] = {"mse": _mean_sem(((_unit(rec) - _unit(x)) ** 2).sum((1, 2, 3))),
                      "variance": _mean_sem(_unit(samples).var(0).sum((1, 2, 3))),
                      "absolute_accuracy": float(np.mean(pred == y)),
                      "relative_accuracy": float(np.mean(pred == raw_pred))}
    return out


def lsr_vs_vae(model, real, seeds, n=2000, seed=0):
    """FD (project classifier) and sharpness of the VAE decoder vs the LSR-GAN generator, random and seeded."""
    from zoo import metrics

    z = model.sample_latent(n, tf.constant([seed, 0])).numpy()
    mu = batched(lambda b: model.encoder(b, training=False)[0], seeds)
    out = {}
    for which in ("decoder", "generator"):
        net_g = getattr(model, which)
        for kind, latents in (("random", z), ("seeded", mu)):
            images = batched(lambda b: net_g(b, training=False), latents)
            fd = metrics.compute("fd_classifier", real=real, fake=images, dataset="fashion_mnist", split="test",
                                 seed=seed)
            sharp = metrics.compute("sharpness", images=images)
            out[f"{which}_{kind}"] = {"fd_classifier": fd.value, "sharpness": [sharp.value, sharp.details["std"]]}
    out["real_sharpness"] = metrics.compute("sharpness", images=real).value
    out["protocol"] = fd.protocol
    return out


# ------------------------------------------------------------------ figures
def figures(out: Path, fig: Path, xt):
    from zoo.visualize import save_grid

    fig.mkdir(parents=True, exist_ok=True)
    found = [name for name in ("lsr_b1_long", "lsr_b1") if (out / name / "model.keras").exists()]
    if not found:  # (a report of other runs only: the figures stay as they are)
        return
    lsr = _load(out / found[0])
    z = lsr.sample_latent(16, tf.constant([7, 0]))
    save_grid(np.concatenate([lsr.decoder(z), lsr.generator(z)]), fig / "lsr_random.png", cols=16)
    mu = lsr.encoder(xt[:16], training=False)[0]
    save_grid(np.concatenate([xt[:16], lsr.decoder(mu), lsr.generator(mu)]), fig / "lsr_seeded.png", cols=16)
    sweep = [_load(out / name) for name, *_ in runs()
             if name.startswith("lsr_") and name not in BEYOND_SWEEP and (out / name / "model.keras").exists()]
    rows = [xt[:12]] + [m.generator(m.encoder(xt[:12], training=False)[0], training=False) for m in sweep]
    save_grid(np.concatenate(rows), fig / "lsr_sweep_seeded.png", cols=12)


def _load(run: Path):
    import keras

    return keras.saving.load_model(run / "model.keras", compile=False)


def report(out: Path, docs: Path, only=None):
    import zoo
    from zoo import metrics
    from zoo.metrics.record import machine

    net = metrics.ClassifierFeatures("fashion_mnist")
    xt, yt = zoo.load_arrays("fashion_mnist", "test", image_size=32)
    result = {"machine": machine(), "classifier": net.name, "classifier_sha256": net.sha256,
              "classifier_test_accuracy": net.test_accuracy()[0],
              "protocol": "Fashion-MNIST test split resized to 32x32. FD: project classifier features (NOT "
                          "Inception FID), 2,000 generated vs test images 2000-3999; seeded = network(mu(x)) for "
                          "test images 0-1999; random = network(z), z ~ N(0, I), 2,000 latents, seed 0. Sweep "
                          "tables: test images 0-999, k = 10 samples of q(z|x) per image, seed 0.",
              "runs": {}}
    path = docs / "vae_gan.json"
    if only and path.exists():  # measure some runs again, keep the others' entries
        result["runs"] = json.loads(path.read_text())["runs"]
    for name, model_name, overrides in runs():
        run = out / name
        if not (run / "model.keras").exists() or (only and name not in only):
            continue
        model = _load(run)
        entry = {"model": model_name, "overrides": overrides, "run": json.loads((run / "run.json").read_text())}
        entry["sweep"] = seeded_table(model, xt[:1000], yt[:1000], net)
        if name == "lsr_b1" or name in BEYOND_SWEEP:
            entry["lsr_vs_vae"] = lsr_vs_vae(model, xt[2000:4000], xt[:2000])
        result["runs"][name] = entry
        print(name, json.dumps({k: v for k, v in entry.items() if k != "run"}, default=str)[:1500], flush=True)
    ratios = [r["lsr_vs_vae"]["generator_random"]["fd_classifier"] / r["lsr_vs_vae"]["decoder_random"]["fd_classifier"]
              for name, r in result["runs"].items() if name.startswith("lsr_dcgan_l0.01") and "lsr_vs_vae" in r]
    if len(ratios) > 1:
        result["groups"] = {"lsr_dcgan_l0.01": {"seeds": len(ratios), "random_ratio_mean": float(np.mean(ratios)),
                                                "random_ratio_std": float(np.std(ratios, ddof=1))}}
    path.write_text(json.dumps(result, indent=1, default=str))
    figures(out, docs / "vae_gan", xt)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("command", choices=["train", "report"])
    p.add_argument("--out", default=str(ROOT / "runs" / "vae_gan"))
    p.add_argument("--only", help="comma-separated run names")
    p.add_argument("--docs", default=str(ROOT / "docs" / "results"))
    args = p.parse_args(argv)
    out = Path(args.out)
    if args.command == "train":
        train_all(out, args.only.split(",") if args.only else None)
    else:
        report(out, Path(args.docs), args.only.split(",") if args.only else None)


if __name__ == "__main__":
    main()
