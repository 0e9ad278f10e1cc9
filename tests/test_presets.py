"""Shipped presets: every family, at most 80 MB together, load offline with their sha256 checked, reproduce their model
card's metric with its own protocol, refuse tampered weights; URLs only with permission; CLI sample/export."""
import json
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest

import zoo
from tests.conftest import slow_unless
from zoo import pretrained
from zoo_app.cli import main

ROOT = Path(__file__).resolve().parents[1]

PRESETS = pretrained.list_presets()
# The default tier reproduces the cards of three presets (fd / precision-recall, the Swiss roll's point distance,
# clustering); the slow tier (`pytest -m slow`) every other card, the conditioning and LSC control records included
# (the default tier runs their metrics elsewhere: conditional accuracy in test_metrics, the LSC control metrics on a
# saved lsc_gan in test_cli). A card takes 15-40 s of the 2-core machine: all 18 took a quarter of the default run's
# 15 minutes.
CARDS_DEFAULT = ("dcgan_fashion_mnist", "growing_mlp_gan_swiss_roll", "latentgan_ae_mnist")


def test_every_family_has_presets_and_all_fit_in_80_mb():
    families = {zoo.model_family(pretrained.read_card(pretrained.find_preset(n))["method"]) for n in PRESETS}
    assert {"baseline", "growing", "vae_gan", "latent_distribution"} <= families
    total = sum(f.stat().st_size for f in pretrained.PACKAGE_PRESETS.rglob("*") if f.is_file())
    assert total <= 80e6, f"presets take {total / 1e6:.1f} MB (issue 20: at most 80 MB in the package)"



def test_every_card_gives_recipe_steps_wall_clock_and_machine():
    """Issue 20: every card says how its preset was trained, how many steps and how long it took, and where."""
    for name in PRESETS:
        training = pretrained.read_card(pretrained.find_preset(name))["training"]
        missing = [k for k in ("recipe", "optimizer_steps", "wall_seconds", "machine") if not training.get(k)]
        assert not missing, f"{name}'s card has no {missing} (scripts/preset_wall_clock.py times a rerun)"
        assert training["wall_seconds"] > 0 and max(training["optimizer_steps"].values()) > 0, name

@pytest.mark.parametrize("name", slow_unless(PRESETS, CARDS_DEFAULT))
def test_preset_loads_offline_and_reproduces_its_card_metric(name):
    model = zoo.load_pretrained(name)
    card = model.preset_card
    assert card["name"] == name and card["metrics"], card
    points = zoo.dataset_info(card["dataset"]).kind == "points"
    assert {r["metric"] for r in card["metrics"]} == ({"point_distance"} if points else
                                                      {"fd_classifier", "precision_recall"})
    for rec in card["metrics"]:
        p = rec["protocol"]
        assert p["n_fake"] == p["n_real"] == 2000 and p["seed"] == 0 and p["split"] == "test"
        assert p["feature_network"] == (None if points else f"zoo-cnn-{card['dataset']}-v1")
    for check in pretrained.reproduce_metrics(model):
        assert check["measured"] == pytest.approx(check["card"], rel=0.02), check
    if "conditioning" in card:  # generate_like on the card's test images, labelled by the zoo's classifier
        rec = card["conditioning"]
        n = rec["protocol"]["n_fake"]
        x, y = zoo.load_arrays(card["dataset"], "test", image_size=model.image_size)
        now = model.conditioning_record(x[:n], y[:n], card["dataset"], split="test")
        assert now["conditional_accuracy"] == pytest.approx(rec["conditional_accuracy"], abs=0.005), (now, rec)
    if "control" in card:  # LSC: G(z), z ~ N(n_c, I), labelled c; eq. 8's edit labelled j
        rec = card["control"]
        now = model.control_record(card["dataset"], per_class=rec["protocol"]["attribute_accuracy"]["per_class"],
                                   per_pair=rec["protocol"]["edit"]["per_pair"],
                                   seed=rec["protocol"]["attribute_accuracy"]["seed"])
        for key in ("attribute_accuracy", "edit"):
            assert now[key] == pytest.approx(rec[key], abs=0.005), (key, now, rec)
    if "clustering" in card:  # cluster() and k-means are deterministic: the record reproduces exactly
        x, y = zoo.load_arrays(card["dataset"], "test", image_size=model.image_size)
        now = model.clustering_record(x, y, split="test")
        for key in ("error", "purity", "kmeans_error", "kmeans_purity"):
            assert now[key] == pytest.approx(card["clustering"][key], abs=1e-9), (key, now, card["clustering"])


def test_latentgan_ae_presets_cluster_better_than_kmeans_and_fit_in_10_mb():
    """Issue 14's preset targets: each under 10 MB (float16 storage), its clustering error at most 25% on MNIST,
    purity at least 0.61 on Fashion-MNIST, both below k-means on the same latent."""
    for name in ("latentgan_ae_mnist", "latentgan_ae_fashion_mnist"):
        path = pretrained.find_preset(name)
        card = pretrained.read_card(path)
        assert (path / pretrained.WEIGHTS).stat().st_size < 10e6 and card["weights_dtype"] == "float16"
        rec = card["clustering"]
        assert rec["error"] < rec["kmeans_error"], rec
    assert pretrained.read_card(pretrained.find_preset("latentgan_ae_mnist"))["clustering"]["error"] <= 0.25
    assert pretrained.read_card(pretrained.find_preset("latentgan_ae_fashion_mnist"))["clustering"]["purity"] >= 0.61


def test_feature_conditioned_presets_condition_as_issue_15_asks():
    """Conditional accuracy of generate_like on 2,000 test images: >= 72% on MNIST (the paper); on Fashion-MNIST
    at least 60% (issue 15). The conditioning costs little fidelity: a conditioning preset's unconditional
    fd_classifier is at most 1.2x that of the best SNGAN of its dataset trained on the same recipe at the same
    width with the same critic (the config's train settings and width equal the card's, Keras' projection spectral
    norm): the shipped SNGAN preset where it is one, and the recorded runs in
    docs/results/candidates/sngan_recipes.json (`scripts/sngan_study.py`). Both datasets have such a baseline."""
    datasets = ("mnist", "fashion_mnist")
    cards = {d: pretrained.read_card(pretrained.find_preset(f"lsc_conditioned_gan_{d}")) for d in datasets}
    assert cards["mnist"]["conditioning"]["conditional_accuracy"] >= 0.72
    assert cards["fashion_mnist"]["conditioning"]["conditional_accuracy"] >= 0.60
    recorded = json.loads((ROOT / "docs" / "results" / "candidates" / "sngan_recipes.json").read_text())["runs"]
    for d, card in cards.items():
        sngan = pretrained.read_card(pretrained.find_preset(f"sngan_{d}"))
        runs = [{"config": sngan["config"], "fd_classifier": _fd(sngan)}] + \
            [r for r in recorded.values() if r["dataset"] == d]
        same = [r for r in runs if (cfg := zoo.get_config("sngan", r["config"]))["train"] ==
                card["training"]["train_config"] and cfg["model"]["width"] == card["model_config"]["width"]
                and cfg["model"].get("spectral", "projection") == "projection"]  # the conditioning model's D
        assert same, f"no SNGAN on {d} trained on lsc_conditioned_gan_{d}'s recipe and width to compare with"
        best = min(same, key=lambda r: r["fd_classifier"])  # the strictest baseline
        assert _fd(card) <= 1.2 * best["fd_classifier"], (d, _fd(card), best)


def _fd(card):
    return next(r["value"] for r in card["metrics"] if r["metric"] == "fd_classifier")


def test_lsc_gan_presets_generate_the_class_asked_for():
    """The LSC-GAN presets' control, from the cards (which the test above recomputes) against issue 13's targets:
    the requested class generated >= 90% on Fashion-MNIST (chance 10%; the paper's objective gave 21.5%) with every
    class >= 75%, and >= 95% on MNIST, eq. 8's edit labelled as the class added >= 80% on both."""
    fashion = pretrained.read_card(pretrained.find_preset("lsc_gan_fashion_mnist"))["control"]
    mnist = pretrained.read_card(pretrained.find_preset("lsc_gan_mnist"))["control"]
    assert fashion["attribute_accuracy"] >= 0.90 and mnist["attribute_accuracy"] >= 0.95, (fashion, mnist)
    assert min(fashion["per_class"].values()) >= 0.75, fashion["per_class"]
    assert fashion["edit"] >= 0.80 and mnist["edit"] >= 0.80, (fashion, mnist)


def _copy(name, tmp_path):
    return shutil.copytree(pretrained.find_preset(name), tmp_path / name)


def test_tampered_weights_are_refused(tmp_path):
    path = _copy("dcgan_fashion_mnist", tmp_path)
    weights = path / pretrained.WEIGHTS
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(pretrained.PresetHashError, match="does not match .* nothing was loaded"):
        zoo.load_pretrained(str(path))


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ValueError, match="Unknown preset 'dcgan_fashion'.*Did you mean 'dcgan_fashion_mnist'"):
        zoo.load_pretrained("dcgan_fashion")


def test_urls_need_permission_and_then_load_into_zoo_home(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ZOO_ALLOW_DOWNLOAD", raising=False)
    src = _copy("dcgan_fashion_mnist", tmp_path / "src")
    archive = tmp_path / "dcgan_mine.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(src, arcname="dcgan_mine")
    url = archive.as_uri()
    with pytest.raises(ValueError, match="downloads are off"):
        zoo.load_pretrained(url)
    model = zoo.load_pretrained(url, allow_download=True)
    assert "dcgan_mine" in zoo.list_presets()  # now in the ZOO_HOME cache, loadable by name
    assert (tmp_path / "home" / "downloads").is_dir()  # the archive too (not Keras' shared /tmp/.keras fallback)
    np.testing.assert_allclose(zoo.load_pretrained("dcgan_mine").generate(4, seed=3).numpy(),
                               model.generate(4, seed=3).numpy())
    np.testing.assert_allclose(model.generate(4, seed=3).numpy(),
                               zoo.load_pretrained("dcgan_fashion_mnist").generate(4, seed=3).numpy())


def test_cli_samples_and_exports_a_preset(tmp_path):
    png = tmp_path / "grid.png"
    assert main(["sample", "--preset", "lggan_fashion_mnist", "--n", "16", "--out", str(png)]) == 0
    assert png.stat().st_size > 1000
    assert main(["export", "--preset", "lsr_gan_fashion_mnist", "--out", str(tmp_path / "serve")]) == 0
    card = json.loads((tmp_path / "serve" / "1" / "assets.extra" / "model_card.json").read_text())
    assert card["method"] == "lsr_gan" and card["preset"] == "lsr_gan_fashion_mnist" and card["metrics"]
    assert {"encode", "reconstruct"} <= set(card["signatures"])


@pytest.mark.parametrize("names", [
    ("latentgan_ae_mnist", "lsc_conditioned_gan_mnist", "lsc_gan_mnist"),
    pytest.param(("latentgan_ae_fashion_mnist", "lsc_conditioned_gan_fashion_mnist", "lsc_gan_fashion_mnist"),
                 marks=pytest.mark.slow)], ids=["mnist", "fashion_mnist"])
def test_method_signatures_of_the_presets_run_without_keras_and_equal_the_python_api(tmp_path, names):
    """The latentgan_ae presets' ``cluster`` and ``generate_from_codes`` and the conditioned GANs' ``generate_like``,
    exported and run with keras blocked, equal the Python API (`cluster`, `generate_from_codes`,
    `generate_like`) to 1e-5."""
    from export import export_generator, signatures_for
    from tests.conftest import signatures_without_keras

    rng = np.random.default_rng(0)
    x, _ = zoo.load_arrays("mnist", "test", image_size=32)
    made = {}
    for name in names:
        model = zoo.load_pretrained(name)
        path = export_generator(model, tmp_path / name, model_card={"preset": name})
        sigs = signatures_for(model)
        images = x[rng.choice(len(x), 5)]
        if "cluster" in sigs:
            inputs = {"cluster": {"images": images}, "generate_from_codes": sigs["generate_from_codes"].example(4, rng)}
        elif "edit" in sigs:
            inputs = {s: sigs[s].example(4, rng) for s in ("generate_with_attributes", "edit")}
        else:
            inputs = {"generate_like": {"images": images, "seed": np.int64(3)}}
        made[str(path)] = (model, sigs, inputs)
    out, _ = signatures_without_keras(tmp_path, {p: inputs for p, (_, _, inputs) in made.items()})
    for path, (model, sigs, inputs) in made.items():
        for sig, x_in in inputs.items():
            for key, want in sigs[sig].reference(model, x_in).items():
                got = out[path][sig][key]
                if got.dtype == np.uint8:
                    assert np.max(np.abs(got.astype(int) - np.asarray(want, int))) <= 1, (path, sig, key)
                else:
                    np.testing.assert_allclose(got, np.asarray(want), atol=1e-5, err_msg=f"{path} {sig} {key}")
