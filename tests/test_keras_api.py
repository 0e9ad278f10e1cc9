"""What a Keras user expects of every model family: ``keras.saving.load_model`` returns a compiled model with its
optimizers' state, so ``fit`` continues; presets load trainable through ``zoo.from_preset`` / ``Class.from_preset``;
and the CLI's ``--set`` / ``--preset`` / exit statuses."""
import warnings

import keras
import numpy as np
import pytest

import zoo
from tests.conftest import run_python
from tests.test_cli import zoo_in_process

# one model per kind of network set: GAN (g, d), two-stage (the VAE's optimizer, g, d), latentgan_ae (three),
# feature_conditioned_gan (g, d, and its own train step)
FAMILIES = ["dcgan", "lsr_gan", "latentgan_ae", "feature_conditioned_gan"]


def _optimizer_state(model):
    return {role: [v.numpy().copy() for v in opt.variables] for role, opt in model._named_optimizers().items()}


@pytest.mark.parametrize("name", FAMILIES)
def test_load_model_returns_a_compiled_model_that_continues_training(name, tmp_path):
    data = zoo.load_dataset("fashion_mnist" if name in ("vae", "lsr_gan") else "digits", batch_size=16,
                            image_size=32 if name in ("vae", "lsr_gan") else 16)
    model = zoo.build_model(name, config="smoke")
    model.compile()
    model.fit(data.take(2), epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert not [w for w in caught if "compile" in str(w.message).lower()], [str(w.message) for w in caught]
    assert loaded.compiled and set(loaded._named_optimizers()) == set(model._named_optimizers())
    saved, restored = _optimizer_state(model), _optimizer_state(loaded)
    for role in saved:  # iterations and Adam moments, not fresh optimizers
        assert len(saved[role]) == len(restored[role]) > 1, role
        for a, b in zip(saved[role], restored[role]):
            np.testing.assert_array_equal(a, b, err_msg=role)
    before = [w.numpy().copy() for w in loaded.trainable_weights]
    loaded.fit(data.take(1), epochs=1, verbose=0)
    assert any(np.abs(a - w.numpy()).max() > 0 for a, w in zip(before, loaded.trainable_weights))


def test_presets_load_trainable_through_from_preset():
    model = zoo.from_preset("dcgan_fashion_mnist")
    assert model.trainable and model.generator.trainable_weights
    assert isinstance(zoo.get_model_class("dcgan").from_preset("dcgan_fashion_mnist"), zoo.get_model_class("dcgan"))
    with pytest.raises(ValueError, match="is a DCGAN .* not a SNGAN"):
        zoo.get_model_class("sngan").from_preset("dcgan_fashion_mnist")


_cli = zoo_in_process  # ``(exit status, stdout, stderr)`` of ``zoo ARGS`` in-process


@pytest.mark.parametrize("item,message", [
    ("nope=1", "dcgan takes no 'nope'. Valid keys: base_channels, channels,"),
    ("latent_dim=abc", "latent_dim is a number (default 128)"),
    ("latent_dim", "expected KEY=VALUE"),
    ("seed=3", "use --seed"),
])
def test_set_is_checked_against_the_constructor(capsys, item, message):
    status, _, err = _cli(capsys, "train", "dcgan", "--dataset", "digits", "--set", item)
    assert status == 2 and message in err


def test_set_reaches_the_model_and_runtime_failures_exit_1_with_a_traceback(tmp_path, capsys):
    from zoo_app.cli import parse_overrides

    assert parse_overrides("dcgan", ["latent_dim=32", "loss=hinge", "gp_weight=1"]) == {
        "latent_dim": 32, "loss": "hinge", "gp_weight": 1.0}
    run = tmp_path / "run"
    status, _, _ = _cli(capsys, "train", "dcgan", "--dataset", "digits", "--config", "smoke", "--set", "latent_dim=24",
                        "--epochs", "1", "--steps-per-epoch", "2", "--out", str(run), "--no-export", "--verbose", "0")
    assert status == 0
    model = keras.saving.load_model(run / "model.keras")
    assert model.latent_dim == 24 and model.compiled
    status, _, err = _cli(capsys, "train", "dcgan", "--dataset", "digits", "--config", "smoke", "--set", "loss=nope",
                          "--out", str(tmp_path / "bad"), "--no-export")
    assert status == 1
    assert "Traceback (most recent call last)" in err and "Unknown loss 'nope'" in err
    # --preset wherever --run is taken
    status, out, _ = _cli(capsys, "walk", "--preset", "lggan_fashion_mnist", "--kind", "variability")
    assert status == 0 and out.strip().startswith(("{", "["))
    status, out, _ = _cli(capsys, "evaluate", "--preset", "dcgan_fashion_mnist", "--metrics", "sharpness",
                          "--n", "64")
    assert status == 0 and "sharpness" in out
    status, _, err = _cli(capsys, "evaluate", "--preset", "no_such_preset")
    assert status == 2 and "dcgan_fashion_mnist" in err  # the known ones are listed


def test_the_zoo_command_hides_tensorflows_start_up_lines_unless_verbose():
    quiet = run_python(["-m", "zoo_app", "list"])
    assert "dcgan" in quiet.stdout
    noise = [ln for ln in quiet.stderr.splitlines() if ln.startswith(("I0000", "W0000", "E0000", "WARNING: All log"))]
    assert not noise, noise
    verbose = run_python(["-m", "zoo_app", "--verbose", "list"])
    assert "dcgan" in verbose.stdout


def test_the_former_name_of_the_durall_model_still_works_with_a_deprecation_warning():
    with pytest.warns(DeprecationWarning, match="'lsc_conditioned_gan' is deprecated: use 'feature_conditioned_gan'"):
        cls = zoo.get_model_class("lsc_conditioned_gan")
    assert cls is zoo.get_model_class("feature_conditioned_gan") and "lsc_conditioned_gan" not in zoo.list_models()
    with pytest.warns(DeprecationWarning):
        assert zoo.list_configs("lsc_conditioned_gan") == zoo.list_configs("feature_conditioned_gan")
    with pytest.warns(DeprecationWarning):
        assert zoo.build_model("lsc_conditioned_gan", config="smoke").zoo_name == "feature_conditioned_gan"


def test_save_to_preset_then_from_preset_round_trips_hash_checked(tmp_path):
    from zoo.pretrained import PresetHashError

    model = zoo.build_model("dcgan", config="smoke")
    model.compile()
    model.fit(zoo.load_dataset("digits", batch_size=16, image_size=16).take(2), epochs=1, verbose=0)
    path = model.save_to_preset(tmp_path / "my_dcgan", dataset="digits", config="smoke", training={"steps": 2})
    card = __import__("json").loads((path / "model_card.json").read_text())
    assert card["method"] == "dcgan" and card["dataset"] == "digits" and card["files"]["model.weights.h5"]["sha256"]
    assert (path / "samples.png").stat().st_size > 100
    loaded = zoo.get_model_class("dcgan").from_preset(str(path))
    np.testing.assert_allclose(loaded.generate(4, seed=1).numpy(), model.generate(4, seed=1).numpy(), atol=1e-6)
    weights = path / "model.weights.h5"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(PresetHashError):
        zoo.from_preset(str(path))


def test_one_compile_shape_with_the_models_own_roles():
    gan = zoo.build_model("dcgan", config="smoke")
    with pytest.raises(ValueError, match="DCGAN trains with g_optimizer, d_optimizer; it has no optimizer"):
        gan.compile(optimizer=keras.optimizers.Adam())
    gan.compile(g_optimizer=keras.optimizers.SGD(0.1))
    assert isinstance(gan.g_optimizer, keras.optimizers.SGD) and isinstance(gan.d_optimizer, keras.optimizers.Adam)
    assert float(gan.d_optimizer.beta_1) == 0.5  # the model's documented default for a role left out
    vae = zoo.build_model("vae", config="smoke")
    with pytest.raises(ValueError, match="VAE trains with optimizer; it has no d_optimizer, g_optimizer"):
        vae.compile(g_optimizer="adam", d_optimizer="adam")
    vae.compile(optimizer="rmsprop")
    assert isinstance(vae.optimizer, keras.optimizers.RMSprop)
    assert set(zoo.build_model("lsr_gan", config="smoke").optimizer_roles()) == {"optimizer", "g_optimizer",
                                                                                "d_optimizer"}


def test_a_config_names_a_learning_rate_schedule_that_counts_the_optimizers_own_steps_and_round_trips():
    """``learning_rate: {"class": <keras.optimizers.schedules name>, ...}`` in a config's optimizer builds that
    schedule (here held for 3 steps, then cosine-decayed to 0 over 3), it survives Keras's (de)serialisation that
    ``load_model`` uses, and a misspelt schedule names the fix."""
    from zoo_app.fit import make_optimizer

    spec = {"learning_rate": {"class": "CosineDecay", "initial_learning_rate": 1e-3, "warmup_target": 1e-3,
                              "warmup_steps": 3, "decay_steps": 3, "alpha": 0.0}, "beta_1": 0.5}
    opt = make_optimizer(spec)
    assert spec["learning_rate"]["class"] == "CosineDecay"  # the config is not consumed
    again = keras.optimizers.deserialize(keras.optimizers.serialize(opt))
    for o in (opt, again):
        lr = [float(o._learning_rate(step)) for step in (0, 3, 6)]
        np.testing.assert_allclose(lr, [1e-3, 1e-3, 0.0], atol=1e-9)
        assert float(o._learning_rate(4)) < 1e-3
    with pytest.raises(ValueError, match="Unknown learning-rate schedule 'Cosine'.*keras.optimizers.schedules"):
        make_optimizer({"learning_rate": {"class": "Cosine"}})
