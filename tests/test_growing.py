"""Growing by dynamic model reconstruction: function preserved, weights and optimizer state carried, inside fit."""
import sys

import keras
import numpy as np
import pytest

import zoo
from tests.conftest import kill_then_resume
from trainers.growing import GrowthSchedule, copy_into_leading_slice


def _trained(config="smoke", steps=5, **kw):
    model = zoo.build_model("growing_mlp_gan", config=config, **kw)
    model.compile(g_optimizer=keras.optimizers.Adam(1e-3), d_optimizer=keras.optimizers.Adam(1e-3))
    model.fit(zoo.load_dataset("swiss_roll", batch_size=64), epochs=1, steps_per_epoch=steps, verbose=0)
    return model


def test_growth_preserves_the_function_and_carries_weights_bit_identically():
    model = _trained()
    old_g, old_d = model.generator, model.discriminator
    old_weights = [w.numpy().copy() for w in old_g.weights]
    z1 = np.random.default_rng(0).uniform(-1, 1, (256, 1)).astype(np.float32)
    before = old_g(z1).numpy()
    x = np.random.default_rng(1).normal(size=(64, 2)).astype(np.float32)
    critic_before = old_d(x).numpy()
    model.grow()
    assert model.latent_dim == 2 and model.generator.weights[0].shape == (2, 16)
    for z2 in (0.0, 0.7, -1.0):  # the new latent coordinate has no effect right after growth
        z = np.concatenate([z1, np.full_like(z1, z2)], 1)
        np.testing.assert_allclose(model.generator(z).numpy(), before, atol=1e-6)
    np.testing.assert_array_equal(model.discriminator(x).numpy(), critic_before)
    new = [w.numpy() for w in model.generator.weights]
    np.testing.assert_array_equal(new[0][:1], old_weights[0])  # old kernel row, bit-identical
    np.testing.assert_array_equal(new[0][1:], 0.0)  # the new row starts at zero (thesis 6.1)
    for a, b in zip(old_weights[1:], new[1:]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("reset", [False, True])
def test_optimizer_state_of_carried_weights_is_kept_or_reset(reset):
    model = _trained(reset_optimizer=reset)
    opt = model.g_optimizer
    old_vars = model.generator.trainable_variables
    old_m = [opt._momentums[opt._get_variable_index(v)].numpy().copy() for v in old_vars]
    iterations = int(opt.iterations.numpy())
    model.grow()
    new_opt = model.g_optimizer
    assert new_opt is not opt and int(new_opt.iterations.numpy()) == iterations
    new_m = [new_opt._momentums[new_opt._get_variable_index(v)].numpy() for v in model.generator.trainable_variables]
    if reset:
        assert all(np.all(m == 0) for m in new_m)
    else:
        np.testing.assert_array_equal(new_m[0][:1], old_m[0])
        np.testing.assert_array_equal(new_m[0][1:], 0.0)
        for a, b in zip(old_m[1:], new_m[1:]):
            np.testing.assert_array_equal(a, b)
        assert any(np.abs(m).max() > 0 for m in new_m)


def test_fit_grows_at_the_stage_boundary_and_trains_the_new_weights():
    model = zoo.build_model("growing_mlp_gan", config="smoke", stage_epochs=(2,))
    model.compile()
    seen = []
    probe = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: seen.append(model.latent_dim))
    model.fit(zoo.load_dataset("swiss_roll", batch_size=64), epochs=4, steps_per_epoch=5, verbose=0,
              callbacks=[GrowthSchedule(), probe])
    assert seen == [1, 1, 2, 2]
    assert np.abs(model.generator.weights[0].numpy()[1]).max() > 0  # the zero row trained after growth
    assert int(model.g_optimizer.iterations.numpy()) == 20


def test_bad_schedules_name_the_fix():
    with pytest.raises(ValueError, match="increasing positive sizes"):
        zoo.build_model("growing_mlp_gan", config="smoke", latent_schedule=(2, 1))
    with pytest.raises(ValueError, match="one positive length per stage but the last: 2"):
        zoo.build_model("growing_mlp_gan", config="smoke", latent_schedule=(1, 2, 4), stage_epochs=(1,))
    model = zoo.build_model("growing_mlp_gan", config="smoke")
    model.grow()
    with pytest.raises(ValueError, match="Already at the last stage"):
        model.grow()


def test_grown_model_saves_and_reloads(tmp_path):
    model = _trained()
    model.grow()
    model.save(tmp_path / "g.keras")
    loaded = keras.saving.load_model(tmp_path / "g.keras", compile=False)
    assert loaded.stage == 1 and loaded.latent_dim == 2
    np.testing.assert_array_equal(loaded.generate(16, seed=2).numpy(), model.generate(16, seed=2).numpy())


def test_sigkill_after_growth_resumes_at_the_grown_stage(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "zoo", "train", "growing_mlp_gan", "--dataset", "swiss_roll", "--config", "smoke",
           "--epochs", "8", "--steps-per-epoch", "40", "--out", str(out), "--no-export", "--verbose", "2"]
    # Stage 1 (latent 2) begins at epoch index 1: killed at epoch 3, the backup holds grown shapes.
    saved, state = kill_then_resume(cmd, out, kill_after_epoch=3)
    assert state["started_at_epoch"] == saved["epoch"] >= 3
    assert state["g_optimizer_iterations"] == state["d_optimizer_iterations"] == 8 * 40
    loaded = keras.saving.load_model(out / "model.keras", compile=False)
    assert loaded.latent_dim == 2


def test_copy_into_leading_slice_refuses_to_shrink():
    big, small = keras.Variable(np.ones((3, 2), np.float32)), keras.Variable(np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match="Cannot grow"):
        copy_into_leading_slice(big, small)


@pytest.mark.parametrize("loss_scaled", [False, True])
def test_growth_carries_adam_moments_also_under_a_loss_scale_optimizer(loss_scaled):
    """Under mixed_float16 the optimizers are LossScaleOptimizers, whose Adam moments live in the inner optimizer:
    they, the step count and the dynamic loss scale carry into the grown variables (new entries 0)."""
    import tensorflow as tf

    from trainers.growing import rebuild_optimizer

    opt = keras.optimizers.Adam(1e-2)
    if loss_scaled:
        opt = keras.optimizers.LossScaleOptimizer(opt, initial_scale=4.0)
    old, new = keras.Variable(np.ones((2, 3), np.float32)), keras.Variable(np.ones((4, 3), np.float32))
    opt.build([old])
    for _ in range(3):
        opt.apply_gradients([(tf.fill((2, 3), 2.0), old)])
    grown = rebuild_optimizer(opt, [(old, new)], [new])
    assert type(grown) is type(opt)
    inner_old, inner_new = (opt.inner_optimizer, grown.inner_optimizer) if loss_scaled else (opt, grown)
    for slots in ("_momentums", "_velocities"):
        before, after = getattr(inner_old, slots)[0].numpy(), getattr(inner_new, slots)[0].numpy()
        assert np.abs(before).min() > 0
        np.testing.assert_array_equal(after[:2], before)
        np.testing.assert_array_equal(after[2:], 0.0)
    assert int(inner_new.iterations.numpy()) == int(inner_old.iterations.numpy()) == 3
    if loss_scaled:
        assert float(grown.dynamic_scale.numpy()) == float(opt.dynamic_scale.numpy())
