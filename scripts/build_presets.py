"""Build the pretrained presets shipped in ``zoo/presets/`` from finished training runs (run by hand).

    python scripts/build_presets.py            # every preset below whose run exists
    python scripts/build_presets.py NAME ...

Each preset gets the run's weights without optimizer state, a model card (method, config, dataset, training
recipe and steps, metric records with their protocol, sha256 of the weights) and a sample grid. The metric is
fd_classifier: the Fréchet distance in the features of the project's own classifier of the preset's dataset
(``zoo-cnn-fashion_mnist-v1`` or ``zoo-cnn-mnist-v1``, not Inception), 2,000 generated images (seeds 0..,
``model.generate``) against 2,000 test images drawn with seed 0, on the machine named in the record. Models that
cluster (``latentgan_ae``) add their clustering record on the test split; models that condition on images
(``feature_conditioned_gan``) their conditional-accuracy record on the first 2,000 test images; LSC models
(``lsc_gan``) their control record (`zoo.metrics.attribute_control`: the requested class generated, 100 per class,
and eq. 8's edit). ``tests/test_presets.py`` recomputes all three.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import keras

import zoo  # noqa: F401  (registers the model classes)
from zoo.metrics import evaluate_generator
from zoo.pretrained import PACKAGE_PRESETS

RUNS = Path("/work/runs")
PRESETS = {  # name: (run directory, what it is)
    "dcgan_fashion_mnist": (RUNS / "presets/dcgan", "`zoo train dcgan --config quick --epochs 8`"),
    "lggan_fashion_mnist": (RUNS / "growing/lggan", "scripts/growing_fashion.py (docs/results/growing.md)"),
    "lsr_gan_fashion_mnist": (RUNS / "vae_gan/lsr_b1_long", "scripts/vae_gan_study.py lsr_b1_long "
                                                           "(docs/results/vae_gan.md)"),
    "latentgan_ae_mnist": (RUNS / "lgae/mnist_s0", "scripts/latentgan_ae_study.py mnist_s0 "
                                                   "(docs/results/latent_distribution.md)"),
    "latentgan_ae_fashion_mnist": (RUNS / "lgae/fashion_s0", "scripts/latentgan_ae_study.py fashion_s0 "
                                                           "(docs/results/latent_distribution.md)"),
    "sngan_mnist": (RUNS / "latent/sngan_mnist_s0", "scripts/latent_distribution_study.py sngan_mnist_s0 "
                                                   "(docs/results/latent_distribution.md)"),
    "lsc_conditioned_gan_mnist": (RUNS / "latent/lscc_mnist_s0", "scripts/latent_distribution_study.py lscc_mnist_s0 "
                                                                 "(docs/results/latent_distribution.md)"),
    "lsc_gan_fashion_mnist": (RUNS / "lsc/fashion_s0", "scripts/lsc_gan_study.py fashion_s0 (docs/results/vae_gan.md)"),
    "lsc_gan_mnist": (RUNS / "lsc/mnist_s0", "scripts/lsc_gan_study.py mnist_s0 (docs/results/vae_gan.md)"),
    "lsc_conditioned_gan_fashion_mnist": (RUNS / "latent/lscc_fashion32_s0",
                                          "scripts/latent_distribution_study.py lscc_fashion32_s0 "
                                          "(docs/results/latent_distribution.md)"),
}
# presets stored at half size (issue 14: under 10 MB; issue 20: all presets within the size limit), their metrics
# measured on the loaded float16 preset
FLOAT16 = {"latentgan_ae_mnist", "latentgan_ae_fashion_mnist", "lsc_gan_mnist", "lsc_gan_fashion_mnist"}
METRIC = {"metric": "fd_classifier", "n": 2000, "split": "test", "seed": 0}


def build(name: str) -> Path:
    run, recipe = PRESETS[name]
    info = json.loads((run / "run.json").read_text())
    state = json.loads((run / "state.json").read_text()) if (run / "state.json").exists() else {}
    model = keras.saving.load_model(run / "model.keras", compile=False)
    dtype = "float16" if name in FLOAT16 else "float32"
    if dtype != "float32":  # measure what ships: write the weights, load them back rounded
        model.save_to_preset(PACKAGE_PRESETS / name, name=name, samples=0, weights_dtype=dtype)
        model = zoo.from_preset(str(PACKAGE_PRESETS / name))
    records = evaluate_generator(model, info["dataset"], [METRIC["metric"]], n_fake=METRIC["n"], n_real=METRIC["n"],
                                 split=METRIC["split"], seed=METRIC["seed"])
    steps = {k: v for k, v in state.items() if k.endswith("_iterations")}
    training = {"recipe": recipe, "epochs": state.get("epochs_done", info.get("epochs")),
                "batch_size": info.get("batch_size"), "steps_per_epoch": info.get("steps_per_epoch"),
                "seed": info.get("seed"), "optimizer_steps": steps, "train_config": info.get("train_config"),
                "machine": records[0].protocol["machine"], "versions": info.get("versions")}
    extra = {}
    if hasattr(model, "clustering_record"):
        x, y = zoo.load_arrays(info["dataset"], "test", image_size=model.image_size)
        extra["clustering"] = model.clustering_record(x, y, split="test")
    if hasattr(model, "conditioning_record"):  # generate_like on the first 2,000 test images
        x, y = zoo.load_arrays(info["dataset"], "test", image_size=model.image_size)
        extra["conditioning"] = model.conditioning_record(x[:2000], y[:2000], info["dataset"], split="test")
    if hasattr(model, "control_record"):  # LSC models: the requested class, and eq. 8's edit
        extra["control"] = model.control_record(info["dataset"])
    out = model.save_to_preset(PACKAGE_PRESETS / name, name=name, dataset=info["dataset"], config=info["config"],
                               training=training, metrics=records, weights_dtype=dtype, **extra)
    print(name, [str(r) for r in records], flush=True)
    return out


if __name__ == "__main__":
    for preset in sys.argv[1:] or [n for n, (run, _) in PRESETS.items() if (run / "model.keras").exists()]:
        build(preset)
