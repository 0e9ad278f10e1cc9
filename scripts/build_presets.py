"""Build the pretrained presets shipped in ``zoo/presets/`` from finished training runs (run by hand).

    python scripts/build_presets.py            # every preset below whose run exists
    python scripts/build_presets.py NAME ...
    python scripts/build_presets.py --recard [NAME ...]   # re-measure shipped cards with METRICS (runs not needed)

Each preset gets the run's weights without optimizer state, a model card (method, config, dataset, training
recipe, steps and wall clock, metric records with their protocol, sha256 of the weights) and a sample grid. The
image metrics are fd_classifier, the Fréchet distance in the features of the project's own classifier of the preset's
dataset (``zoo-cnn-fashion_mnist-v1`` or ``zoo-cnn-mnist-v1``, not Inception), and improved precision / recall
(k = 3) in the same features, on one draw of 2,000 generated images (seeds 0.., ``model.generate``) against 2,000
test images drawn with seed 0, on the machine named in the record; the Swiss roll preset's is
``point_distance`` (Chamfer distance, sliced W1 in its details) of 2,000 samples against 2,000 test points. Models that
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
import numpy as np

import zoo  # noqa: F401  (registers the model classes)
from zoo.metrics import evaluate_generator
from zoo import pretrained
from zoo.pretrained import PACKAGE_PRESETS

RUNS = Path("/work/runs")
PRESETS = {  # name: (run directory, what it is)
    # the VAE, then a DCGAN generator from scratch with lambda 0.01 and its moving average, in one fit; the recipe's
    # seeds 1 and 2 in docs/results/preset_seeds.json
    "lsr_gan_fashion_mnist": (RUNS / "preset_seeds/lsr_gan_longer_s0",
                              "`zoo train lsr_gan --dataset fashion_mnist --config fashion32_dcgan_longer --seed 0 "
                              "--precision float32` (scripts/preset_seeds.py lsr_gan_longer_s0; wall clock: beside one "
                              "other training run on the 2 cores)"),
    "dcgan_fashion_mnist": (RUNS / "preset_seeds/dcgan_r1_s0",
                            "`zoo train dcgan --dataset fashion_mnist --config fashion32_r1_long --seed 0` "
                            "(scripts/preset_seeds.py dcgan_r1_s0; wall clock: beside one other training run on the "
                            "2 cores)"),
    "latentgan_ae_mnist": (RUNS / "lgae/mnist_s0", "scripts/latentgan_ae_study.py mnist_s0 "
                                                   "(docs/results/latent_distribution.md)"),
    "latentgan_ae_fashion_mnist": (RUNS / "lgae/fashion_s0", "scripts/latentgan_ae_study.py fashion_s0 "
                                                           "(docs/results/latent_distribution.md)"),
    # the paper's spectral norm (scripts/sngan_study.py: Keras' projection left the critic short of its margins)
    "sngan_mnist": (RUNS / "sngan/mnist_reparam_s0",
                    "`zoo train sngan --dataset mnist --config fashion32_reparam_long --seed 0 --precision float32` "
                    "(scripts/sngan_study.py mnist_reparam_s0; wall clock: beside one other training run on the 2 "
                    "cores)"),
    "lsc_conditioned_gan_mnist": (RUNS / "presets20/lscc_mnist32_long_s0",
                                  "`zoo train lsc_conditioned_gan --dataset mnist --config fashion32_long --seed 0`"),
    # (RECIPE_CONFIG: this run was trained as `--config fashion32_adc_ema_long --set g_real_class_weight=1.0`)
    "lsc_gan_fashion_mnist": (RUNS / "lsc/fashion_adc_ema_real1_s0", "`zoo train lsc_gan --dataset fashion_mnist "
                                                                     "--config fashion32_adc_ema_real_long --seed 0 "
                                                                     "--precision float32` (scripts/lsc_gan_study.py "
                                                                     "fashion_adc_ema_real1_s0, docs/results/"
                                                                     "vae_gan.md)"),
    # (RECIPE_CONFIG: this run is the 16-epoch *_scratch_s0 run resumed to 36 epochs, the command's steps)
    "lsc_gan_mnist": (RUNS / "lsc/mnist_long_s0", "`zoo train lsc_gan --dataset mnist --config mnist32_scratch_long "
                                                  "--seed 0` (scripts/lsc_gan_study.py mnist_long_s0)"),
    "lsc_conditioned_gan_fashion_mnist": (RUNS / "presets20/lscc_fashion32_long_s0",
                                          "`zoo train lsc_conditioned_gan --dataset fashion_mnist --config "
                                          "fashion32_long --seed 0`"),
    "vae_fashion_mnist": (RUNS / "presets20/vae_fashion32_s0",
                          "`zoo train vae --dataset fashion_mnist --config fashion32 --seed 0`"),
    "lsc_vae_fashion_mnist": (RUNS / "presets20/lsc_vae_fashion32_s0",
                              "`zoo train lsc_vae --dataset fashion_mnist --config fashion32 --seed 0`"),
    "sngan_fashion_mnist": (RUNS / "sngan/fashion_mnist_reparam_s0",
                            "`zoo train sngan --dataset fashion_mnist --config fashion32_reparam_long --seed 0 "
                            "--precision float32` (scripts/sngan_study.py fashion_mnist_reparam_s0; wall clock: "
                            "beside one other training run on the 2 cores)"),
    "growing_mlp_gan_swiss_roll": (RUNS / "presets20/growing_mlp_gan_default_s0",
                                   "`zoo train growing_mlp_gan --dataset swiss_roll --config default --seed 0`"),
}
# the growing CNNs: their fashion32_long run of scripts/ema_study.py, the generator its moving average (FROM_SWEEP)
LONG = ("bgan", "bggan", "cggan", "lggan", "clggan")
PRESETS.update({f"{m}_fashion_mnist": (RUNS / f"ema/{m}_long_s0", f"`zoo train {m} --dataset fashion_mnist --config "
                                       f"fashion32_long --seed 0` (this run: scripts/ema_study.py {m}_long_s0)")
                for m in LONG})
# presets stored at half size (issue 14: under 10 MB; issue 20: all presets within the size limit), their metrics
# measured on the loaded float16 preset
FLOAT16 = {"latentgan_ae_mnist", "latentgan_ae_fashion_mnist", "lsc_gan_mnist", "lsc_gan_fashion_mnist",
           "vae_fashion_mnist", "lsc_vae_fashion_mnist", "sngan_fashion_mnist", "sngan_mnist", "dcgan_fashion_mnist",
           *(f"{m}_fashion_mnist" for m in LONG)}
METRICS = ("fd_classifier", "precision_recall")  # measured on one draw of 2,000 samples
POINT_METRICS = ("point_distance",)  # 2-D point sets (the Swiss roll): Chamfer and sliced W1, 2,000 vs 2,000
PROTOCOL = {"n": 2000, "split": "test", "seed": 0}


def card_records(model, dataset):
    names = POINT_METRICS if zoo.dataset_info(dataset).kind == "points" else METRICS
    return evaluate_generator(model, dataset, names, n_fake=PROTOCOL["n"], n_real=PROTOCOL["n"],
                              split=PROTOCOL["split"], seed=PROTOCOL["seed"])


# presets whose generator is the moving average that scripts/ema_study.py kept beside the run: (momentum, the config
# that trains it in one go, with use_ema in g_optimizer; tests/test_ema.py shows the two averages equal)
FROM_SWEEP = {f"{m}_fashion_mnist": (0.998, "fashion32_long") for m in LONG}
# presets whose run was started under another config name than the recipe's: the config whose recipe it ran.
# lsc_gan_mnist: a 16-epoch *_scratch run resumed exactly to 36 epochs (`--epochs 36`); lsc_gan_fashion_mnist:
# `--config fashion32_adc_ema_long --set g_real_class_weight=1.0`. `build` checks the run's model config is the
# named config's.
RECIPE_CONFIG = {"lsc_gan_mnist": "mnist32_scratch_long", "lsc_gan_fashion_mnist": "fashion32_adc_ema_real_long"}


def tensorboard_seconds(run: Path) -> float | None:
    """The fit's wall clock from the run's TensorBoard event files (``logs/train``): each file spans one ``fit`` call,
    from its header (written at train begin) to its last epoch summary; a resumed run's files are summed, so the time
    it lay killed is not counted. None when the run has no event file."""
    import tensorflow as tf

    spans = []
    for f in sorted((run / "logs" / "train").glob("events.out.tfevents.*")):
        times = [e.wall_time for e in tf.compat.v1.train.summary_iterator(str(f))]
        spans.append(max(times) - min(times))
    return round(sum(spans), 1) if spans else None


def build(name: str) -> Path:
    run, recipe = PRESETS[name]
    info = json.loads((run / "run.json").read_text())
    state = json.loads((run / "state.json").read_text()) if (run / "state.json").exists() else {}
    model = keras.saving.load_model(run / "model.keras", compile=False)
    if name in FROM_SWEEP:
        momentum, info["config"] = FROM_SWEEP[name]
        averages = np.load(run / "weights.npz")
        for v in model.generator.trainable_variables:
            v.assign(averages[f"{momentum}|{v.path}"])
    if name in RECIPE_CONFIG:
        info["config"] = RECIPE_CONFIG[name]
        recipe_config = zoo.get_config(info["model"], info["config"])
        ran = {k: v for k, v in info["model_config"].items() if k in recipe_config["model"]}
        if json.loads(json.dumps(recipe_config["model"])) != ran:
            raise SystemExit(f"{name}: the run's model config {ran} is not {info['config']}'s")
        info["train_config"] = recipe_config["train"]
    dtype = "float16" if name in FLOAT16 else "float32"
    if dtype != "float32":  # measure what ships: write the weights, load them back rounded
        model.save_to_preset(PACKAGE_PRESETS / name, name=name, samples=0, weights_dtype=dtype)
        model = zoo.from_preset(str(PACKAGE_PRESETS / name))
    records = card_records(model, info["dataset"])
    wall = run / "wall_seconds.txt"
    steps = {k: v for k, v in state.items() if k.endswith("_iterations")}
    training = {"recipe": recipe, "epochs": state.get("epochs_done", info.get("epochs")),
                "batch_size": info.get("batch_size"), "steps_per_epoch": info.get("steps_per_epoch"),
                "seed": info.get("seed"), "optimizer_steps": steps, "train_config": info.get("train_config"),
                "wall_seconds": float(wall.read_text()) if wall.exists() else tensorboard_seconds(run),
                "machine": records[0].protocol["machine"], "versions": info.get("versions")}
    if name in FROM_SWEEP:  # the recipe is the config's; the average was taken beside the run
        training["train_config"] = zoo.get_config(info["model"], info["config"])["train"]
        training["generator_average"] = (f"momentum {FROM_SWEEP[name][0]}, kept in numpy beside the run by "
                                         "scripts/ema_study.py (= use_ema in g_optimizer, tests/test_ema.py)")
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


def recard(name: str) -> Path:
    """Re-measure the card of a shipped preset (whose run may be gone) with `METRICS`: the loaded preset must
    reproduce its card's fd_classifier (1e-4 relative), then the card's records are replaced, nothing else."""
    path = PACKAGE_PRESETS / name
    model = zoo.load_pretrained(str(path))
    card = model.preset_card
    records = card_records(model, card["dataset"])
    old = next(r["value"] for r in card["metrics"] if r["metric"] == "fd_classifier")
    if abs(records[0].value - old) > 1e-4 * abs(old):
        raise SystemExit(f"{name}: fd_classifier {records[0].value} does not reproduce the card's {old}")
    card["metrics"] = [r.to_dict() for r in records]
    (path / pretrained.CARD).write_text(json.dumps(card, indent=1, default=str))
    print(name, [str(r) for r in records], flush=True)
    return path


if __name__ == "__main__":
    if sys.argv[1:2] == ["--recard"]:
        for preset in sys.argv[2:] or pretrained.list_presets():
            recard(preset)
        sys.exit()
    for preset in sys.argv[1:] or [n for n, (run, _) in PRESETS.items() if (run / "model.keras").exists()]:
        build(preset)
