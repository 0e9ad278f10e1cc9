"""dcgan's generator exports to a TF Serving SavedModel whose signatures run with keras blocked."""
import json
import subprocess

import numpy as np
import pytest
import tensorflow as tf

import zoo
from export import export_generator
from tests.conftest import run_python
from zoo.visualize import to_uint8


@pytest.fixture(scope="module")
def trained():
    model = zoo.build_model("dcgan", config="smoke")
    model.compile()
    model.fit(zoo.load_dataset("digits", batch_size=16, image_size=16).take(3), epochs=1, verbose=0)
    return model


def test_export_signatures_match_keras_in_a_process_without_keras(trained, tmp_path, scripts):
    path = export_generator(trained, tmp_path / "dcgan", model_card={"dataset": "digits"})
    assert path == tmp_path / "dcgan" / "1"
    shown = subprocess.run(["saved_model_cli", "show", "--dir", str(path), "--all"], capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    for sig in ("serving_default", "generate_from_seed"):
        assert f"signature_def['{sig}']" in shown.stdout
    assert shown.stdout.count("Method name is: tensorflow/serving/predict") >= 2

    latent = np.random.default_rng(0).normal(size=(5, trained.latent_dim)).astype(np.float32)
    np.savez(tmp_path / "in.npz", latent=latent, seed=7, count=3)
    run_python([scripts / "run_export_without_keras.py", path, tmp_path / "in.npz", tmp_path / "out.npz"])
    out = np.load(tmp_path / "out.npz")
    expected = trained.generator(latent, training=False).numpy()
    np.testing.assert_allclose(out["default_images"], expected, atol=1e-5)
    np.testing.assert_array_equal(out["default_images_uint8"], to_uint8(expected))
    np.testing.assert_allclose(out["seed_images"], trained.generate(3, seed=7).numpy(), atol=1e-5)

    card = json.loads((path / "assets.extra" / "model_card.json").read_text())
    assert card["method"] == "dcgan" and card["dataset"] == "digits"
    assert card["model_config"]["latent_dim"] == trained.latent_dim
    warmup = list(tf.data.TFRecordDataset(str(path / "assets.extra" / "tf_serving_warmup_requests")))
    assert len(warmup) == 2


def test_versions_are_atomic_and_immutable(trained, tmp_path):
    base = tmp_path / "m"
    assert export_generator(trained, base).name == "1"
    assert export_generator(trained, base).name == "2"
    assert export_generator(trained, base, version=7).name == "7"
    assert export_generator(trained, base).name == "8"
    with pytest.raises(FileExistsError, match="versions are immutable"):
        export_generator(trained, base, version=2)
    assert sorted(p.name for p in base.iterdir()) == ["1", "2", "7", "8"]  # no temporary directory left


@pytest.mark.parametrize("name", ["latentgan_ae", "sngan", "lsc_conditioned_gan"])
def test_latent_distribution_generators_export_and_match_keras(name, tmp_path, scripts):
    model = zoo.build_model(name, config="smoke")
    model.compile()
    model.fit(zoo.load_dataset("digits", batch_size=16, image_size=16).take(3), epochs=1, verbose=0)
    path = export_generator(model, tmp_path / name)
    latent = np.asarray(model.sample_latent(4, tf.constant([5, 0])))
    np.savez(tmp_path / "in.npz", latent=latent, seed=7, count=3)
    run_python([scripts / "run_export_without_keras.py", path, tmp_path / "in.npz", tmp_path / "out.npz"])
    out = np.load(tmp_path / "out.npz")
    np.testing.assert_allclose(out["default_images"], model.generator(latent, training=False).numpy(), atol=1e-5)
    np.testing.assert_allclose(out["seed_images"], model.generate(3, seed=7).numpy(), atol=1e-5)
