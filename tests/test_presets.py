"""Shipped presets: one per family, at most 50 MB, load offline with their sha256 checked, reproduce their model
card's metric with its own protocol, refuse tampered weights; URLs only with permission; CLI sample/export."""
import json
import shutil
import tarfile

import numpy as np
import pytest

import zoo
from zoo import pretrained
from zoo_app.cli import main

PRESETS = pretrained.list_presets()


def test_one_preset_per_family_within_50_mb():
    families = {zoo.model_family(pretrained.read_card(pretrained.find_preset(n))["method"]) for n in PRESETS}
    assert {"baseline", "growing", "vae_gan", "latent_distribution"} <= families
    total = sum(f.stat().st_size for f in pretrained.PACKAGE_PRESETS.rglob("*") if f.is_file())
    assert total <= 50e6, f"presets take {total / 1e6:.1f} MB"


@pytest.mark.parametrize("name", PRESETS)
def test_preset_loads_offline_and_reproduces_its_card_metric(name):
    model = zoo.load_pretrained(name)
    card = model.preset_card
    assert card["name"] == name and card["metrics"], card
    for rec in card["metrics"]:
        p = rec["protocol"]
        assert p["feature_network"] == "zoo-cnn-fashion_mnist-v1" and p["n_fake"] == 2000 and p["seed"] == 0
    for check in pretrained.reproduce_metrics(model):
        assert check["measured"] == pytest.approx(check["card"], rel=0.02), check


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
