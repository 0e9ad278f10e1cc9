"""The growing family (Sandström's latent space growing: growing_mlp_gan and the five CNN models bgan, bggan, cggan,
lggan, clggan): growth by dynamic reconstruction preserves the function and carries weights and optimizer state,
inside fit, under mixed precision, and across a SIGKILL before, during and after a fade.
"""

import os
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from tests.conftest import slow_unless
from trainers.growing import GrowthSchedule, copy_into_leading_slice
from zoo.growing import GrowingConvGAN
from zoo.growing.layers import upsample
from zoo_app.fit import build_compiled


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


MODELS = ("bgan", "bggan", "cggan", "lggan", "clggan")
GROWING = MODELS[1:]


def _model(name, image_size=16, **kw):
    """A small model of 3 stages (16x16: blocks 4, 8, 16; latent 4 -> 16; C_0 16)."""
    args = dict(image_size=image_size, channels=1, latent_end=16, base_channels=16, fade_epochs=1,
                latent_start=None if name in ("bgan", "lggan") else 4)
    stages = 1 if name == "bgan" else 3
    args.update(stage_epochs=(1,) * (stages - 1), **kw)
    model = zoo.build_model(name, config="smoke", **args)
    model.compile(g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.0, beta_2=0.99),
                  d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.0, beta_2=0.99))
    return model


def _images(n, size, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, size, size, 1)).astype(np.float32)


def _train_steps(model, steps=2):
    """A few real optimizer steps at the current stage (so that the weights are not the initial ones)."""
    model.fit(_images(8 * steps, model.image_size, seed=model.stage), batch_size=8, epochs=1, verbose=0)


# the default tier: cggan (channels and latent grow) and clggan (channels, latent and resolution); bggan's input-only
# growth and lggan's resolution-only growth are parts of those and run in the slow tier
@pytest.mark.parametrize("name", slow_unless(GROWING, {"cggan", "clggan"}))
def test_growth_preserves_both_networks_and_carries_weights_bit_identically(name):
    model = _model(name)
    for _ in range(len(model.plan) - 1):
        _train_steps(model)
        model.set_fade(1.0)  # the stage's fade has finished
        old_res, z = model.plan[model.stage].resolution, model.sample_latent(16, tf.constant([3, 4]))
        x_old = _images(16, old_res, seed=9)
        g_before, d_before = model.generator(z).numpy(), model.discriminator(x_old).numpy()
        layers = model.generator.layers + model.discriminator.layers
        old_weights = {(layer.name, i): w.numpy().copy()
                       for layer in layers for i, w in enumerate(layer.trainable_weights)}
        model.grow()
        st = model.plan[model.stage]
        factor = st.resolution // old_res
        assert model.fades() == {"alpha": 0.0, "beta": 0.0 if name != "lggan" else 1.0, "tau": 0.0}
        z_new = model.sample_latent(16, tf.constant([3, 4]))  # same draw: the first k entries are the old z
        np.testing.assert_array_equal(z_new[:, :z.shape[1]], z)
        np.testing.assert_allclose(model.generator(z_new).numpy(), upsample(g_before, factor), atol=1e-5)
        # the grown critic on the (nearest-upsampled) input equals the old critic: D_new(x) = D_old(avgpool(x))
        np.testing.assert_allclose(model.discriminator(np.asarray(upsample(x_old, factor))).numpy(), d_before,
                                   atol=1e-5)
        carried = 0
        for layer in model.generator.layers + model.discriminator.layers:
            for i, w in enumerate(layer.trainable_weights):
                if (layer.name, i) in old_weights:
                    old = old_weights[(layer.name, i)]
                    np.testing.assert_array_equal(w.numpy()[tuple(slice(0, d) for d in old.shape)], old)
                    carried += 1
        assert carried >= 10


@pytest.mark.parametrize("name", slow_unless(["cggan", "clggan"], {"clggan"}))
def test_copy_growth_keeps_the_function_starts_new_channels_as_copies_and_averages_follow(name):
    """channel_growth="copy" (Net2WiderNet): without noise the grown networks equal the old ones at every stage
    (with beta at 1, not 0), every new filter is a copy of a trained one, and the generator's moving average moves
    with the weights; with noise the copies differ, so they can learn different features."""
    model = _model(name, channel_growth="copy", copy_noise=0.0)
    model.compile(g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.0, beta_2=0.99, use_ema=True, ema_momentum=0.9),
                  d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.0, beta_2=0.99))
    for _ in range(len(model.plan) - 1):
        _train_steps(model)
        model.set_fade(1.0)
        old_res, z = model.plan[model.stage].resolution, model.sample_latent(16, tf.constant([3, 4]))
        x_old = _images(16, old_res, seed=9)
        g_before, d_before = model.generator(z).numpy(), model.discriminator(x_old).numpy()
        kernel = model.generator.get_layer("g4_conv").kernel
        old_kernel = kernel.numpy().copy()
        opt = model.g_optimizer  # fit ended by writing the average into the weights: set one apart from them
        old_gap = np.random.default_rng(model.stage).normal(0, 0.01, old_kernel.shape).astype(np.float32)
        opt._model_variables_moving_average[opt._get_variable_index(kernel)].assign(old_kernel + old_gap)
        model.grow()
        factor = model.plan[model.stage].resolution // old_res
        assert model.fades()["beta"] == 1.0 and model.fades()["alpha"] == 0.0
        z_new = model.sample_latent(16, tf.constant([3, 4]))
        np.testing.assert_allclose(model.generator(z_new).numpy(), upsample(g_before, factor), atol=1e-5)
        np.testing.assert_allclose(model.discriminator(np.asarray(upsample(x_old, factor))).numpy(), d_before,
                                   atol=1e-5)
        new = model.generator.get_layer("g4_conv").kernel
        c_in, c_out = old_kernel.shape[2:]
        assert new.shape[3] == 2 * c_out  # every 4x4 channel doubled: channel c + j copies channel j, read half
        np.testing.assert_allclose(new.numpy()[:, :, :c_in, c_out:], old_kernel / 2, rtol=1e-6)
        opt = model.g_optimizer
        gap = opt._model_variables_moving_average[opt._get_variable_index(new)].numpy() - new.numpy()
        np.testing.assert_allclose(gap[:, :, :c_in, c_out:], old_gap / 2, atol=1e-6)
        np.testing.assert_allclose(gap[:, :, :c_in, :c_out], old_gap / 2, atol=1e-6)
    noisy = _model(name, channel_growth="copy", copy_noise=0.1)
    _train_steps(noisy)
    noisy.grow()
    k = noisy.generator.get_layer("g4_conv").kernel.numpy()
    c_out = k.shape[3] // 2
    assert 0 < np.abs(k[..., c_out:] - k[..., :c_out]).max() < 0.5 * np.abs(k).max()


def test_bgan_is_the_final_network_and_cannot_grow():
    bgan, clggan = _model("bgan"), _model("clggan", stage=2)
    assert len(bgan.plan) == 1 and bgan.plan[0] == clggan.plan[-1]
    fading = ("g_torgb8", "d_fromrgb8")  # clggan keeps the faded-out 8x8 toRGB/fromRGB until its next growth
    for a, b in ((bgan.generator, clggan.generator), (bgan.discriminator, clggan.discriminator)):
        shapes = lambda net: {(layer.name, tuple(w.shape)) for layer in net.layers if layer.name not in fading
                              for w in layer.trainable_weights}
        assert shapes(a) == shapes(b)
    with pytest.raises(ValueError, match="already at its last stage"):
        bgan.grow()


def test_channel_growth_keeps_the_adam_moments_of_carried_weights_by_name():
    model = _model("clggan")
    _train_steps(model)
    opt = model.g_optimizer
    kernel = model.generator.get_layer("g4_conv").kernel
    m_old = opt._momentums[opt._get_variable_index(kernel)].numpy().copy()
    model.grow()
    new_kernel = model.generator.get_layer("g4_conv").kernel
    m_new = model.g_optimizer._momentums[model.g_optimizer._get_variable_index(new_kernel)].numpy()
    assert m_new.shape[2:] == (8, 8) and m_old.shape[2:] == (4, 4)
    np.testing.assert_array_equal(m_new[:, :, :4, :4], m_old)
    assert np.abs(m_old).max() > 0 and np.all(m_new[:, :, 4:, :] == 0)


def test_fades_move_every_step_inside_one_trace_per_stage(monkeypatch):
    traces = []
    original = GrowingConvGAN.real_curriculum
    monkeypatch.setattr(GrowingConvGAN, "real_curriculum",
                        lambda self, x: traces.append(self.stage) or original(self, x))
    model = zoo.build_model("clggan", config="smoke")  # 8x8: stage 0 for epoch 0, then a 2-epoch fade
    model.compile()
    seen = []
    probe = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(model.fades()["beta"]))
    model.fit(_images(32, 8), batch_size=8, epochs=4, verbose=0, callbacks=[probe])
    assert traces == [0, 1]  # one trace per stage: the fade is read from variables, not baked in
    assert not model.fades_settled  # 6 steps were left after the fade: too few for a retrace to pay
    np.testing.assert_allclose(seen, [1, 1, 1, 1] + [i / 8 for i in range(8)] + [1, 1, 1, 1])
    assert model.fades() == {"alpha": 1.0, "beta": 1.0, "tau": 0.5}
    # the compiled generator reads the variable: another beta, another output, no retrace
    fn = tf.function(lambda z: model.generator(z))
    z = model.sample_latent(4, tf.constant([0, 1]))
    full = fn(z).numpy()
    model.set_fade(0.0)
    assert np.abs(fn(z).numpy() - full).max() > 1e-4 and fn.experimental_get_tracing_count() == 1


@pytest.mark.parametrize("precision", slow_unless(["float32", "mixed_bfloat16"], {"mixed_bfloat16"}))
def test_a_finished_fade_settles_into_the_same_run_without_the_masks(precision, monkeypatch):
    """Once a stage's fade is over, the channel-masked layers compute with their weights themselves (the factor
    m + 1 * (1 - m) is exactly 1): the step is traced again without the multiplies, and the run is the same bit for
    bit as one that keeps them. Anything traced outside the train step keeps reading beta."""
    runs = {}
    for settle in (False, True):
        keras.utils.set_random_seed(0)
        model, _ = build_compiled("clggan", "smoke", stage_epochs=(2,), fade_epochs=1, seed=0, precision=precision)
        changes, original = [], model.settle_fades

        def settle_fades(on=True, original=original, changes=changes, settle=settle):  # keep the masks, or record
            changed = settle and original(on)
            return changes.append(on) or True if changed else False

        monkeypatch.setattr(model, "settle_fades", settle_fades)
        history = model.fit(_images(48, 8), batch_size=8, epochs=4, verbose=0, shuffle=False,
                            callbacks=[GrowthSchedule(settle_min_steps=6)])  # the whole last epoch: 6 steps
        runs[settle] = model, history.history, changes
    (a, logs_a, _), (b, logs_b, changes) = runs[False], runs[True]
    assert b.stage == 1 and b.fades()["beta"] == 1.0
    assert changes == [True] and b.fades_settled and not a.fades_settled  # once: when the fade reached 1 (epoch 3)
    for key in ("g_loss", "d_loss"):
        np.testing.assert_array_equal(logs_a[key], logs_b[key])
    for x, y in zip(a.weights, b.weights):
        assert x.path == y.path
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    # only the train step drops the masks: a function traced now still reads beta
    fn = tf.function(lambda z: b.generator(z))
    z = b.sample_latent(4, tf.constant([0, 1]))
    full = fn(z).numpy()
    b.set_fade(0.0)
    assert np.abs(fn(z).numpy() - full).max() > 1e-4
    # and any fade below 1 unsettles the model and retraces its step, which then reads beta again
    assert not b.fades_settled and b.train_function is not None
    b.set_fade(1.0)
    assert b.settle_fades() and b.fades_settled and not b.settle_fades()


def test_a_run_resumed_after_the_fade_settles_again_and_ends_like_the_uninterrupted_one(tmp_path):
    """The kill window of settling: a run stopped after its fade has settled resumes (exactly, `zoo_app.fit.train`'s
    backup) unsettled, settles again at its first batch (f = 1 is set again) and ends bit for bit where the
    uninterrupted run does."""
    from zoo_app.fit import train

    def run(out, epochs):
        model, history = train("clggan", "digits", config="smoke", out=tmp_path / out, epochs=epochs, steps_per_epoch=6,
                         batch_size=8, seed=0, precision="float32", verbose=0, stage_epochs=(2,), fade_epochs=1,
                         callbacks=[GrowthSchedule(settle_min_steps=6)])
        return model, history.epoch

    whole, _ = run("whole", 5)
    killed, _ = run("killed", 4)
    assert killed.fades_settled  # the kill point: after epoch 3, the stage's first settled epoch
    resumed, epochs = run("killed", 5)
    assert epochs == [4]  # it resumed from the backup: only the last epoch ran
    assert resumed.fades_settled and resumed.stage == whole.stage == 1
    for a, b in zip(whole.weights, resumed.weights):
        assert a.path == b.path
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_backup_taken_mid_fade_restores_stage_fades_and_weights(tmp_path):
    backup = str(tmp_path / "backup")
    x = _images(32, 8)
    a = zoo.build_model("clggan", config="smoke")
    a.compile()
    a.fit(x, batch_size=8, epochs=2, verbose=0,
          callbacks=[keras.callbacks.BackupAndRestore(backup, delete_checkpoint=False)])
    assert a.stage == 1 and 0 < a.fades()["beta"] < 1  # the kill point: half-way through the fade
    b = zoo.build_model("clggan", config="smoke")
    b.compile()
    b.fit(x, batch_size=8, epochs=2, verbose=0, callbacks=[keras.callbacks.BackupAndRestore(backup)])
    assert b.stage == a.stage and b.fades() == a.fades()
    for w_a, w_b in zip(a.generator.weights + a.discriminator.weights, b.generator.weights + b.discriminator.weights):
        np.testing.assert_array_equal(w_a.numpy(), w_b.numpy())
    assert int(b.g_optimizer.iterations.numpy()) == int(a.g_optimizer.iterations.numpy()) == 8


def test_keras_backup_taken_at_the_epoch_before_a_growth_resumes(tmp_path):
    """Keras' epoch backup holds the weights of the last finished epoch's stage; the growth due at the next epoch
    happens after the restore (it once grew first, and the stage-0 weights did not load)."""
    backup, x = str(tmp_path / "backup"), _images(32, 8)
    a = zoo.build_model("clggan", config="smoke")
    a.compile()
    a.fit(x, batch_size=8, epochs=1, verbose=0, callbacks=[keras.callbacks.BackupAndRestore(backup,
                                                                                             delete_checkpoint=False)])
    assert a.stage == 0
    b = zoo.build_model("clggan", config="smoke")
    b.compile()
    b.fit(x, batch_size=8, epochs=2, verbose=0, callbacks=[keras.callbacks.BackupAndRestore(backup)])
    assert b.stage == 1 and int(b.g_optimizer.iterations.numpy()) == 8


@pytest.mark.parametrize("name", slow_unless(MODELS, {"cggan", "clggan"}))
def test_thesis_celeba128_config_runs_one_step(name):  # bgan trains at 128x128 from its first step: ~15 s, slow tier
    cfg = zoo.get_config(name, "celeba128")
    assert cfg["train"]["batch_size"] == 16 and cfg["train"]["epochs"] == 44
    assert cfg["train"]["g_optimizer"] == {"learning_rate": 1e-4, "beta_1": 0.0, "beta_2": 0.99, "epsilon": 1e-8}
    model = zoo.build_model(name, config="celeba128")
    assert model.image_size == 128 and model.plan[-1].latent == 256 and model.plan[-1].widths[0] == 256
    if name != "bgan":
        assert len(model.plan) == 6 and model.stage_epochs == (4, 8, 8, 8, 8) and model.fade_epochs == 4
    model.compile()
    x = np.random.default_rng(0).uniform(-1, 1, (2, 128, 128, 3)).astype(np.float32)
    logs = model.fit(x, batch_size=2, epochs=1, verbose=0).history
    assert np.isfinite(logs["d_loss"][0]) and np.isfinite(logs["g_loss"][0])
    assert model.generate(1).shape[-1] == 3


def test_prior_is_unit_normalised_256d_cut_to_the_first_k():
    model = _model("clggan")
    z = model.sample_latent(5, tf.constant([1, 1]))
    full = tf.math.l2_normalize(tf.random.stateless_normal([5, 256], seed=[1, 1]), axis=1)
    assert z.shape == (5, 4)
    np.testing.assert_allclose(z, full[:, :4], atol=1e-7)


def test_bad_sizes_and_schedules_fail_at_build_time_naming_the_valid_choices():
    with pytest.raises(ValueError, match="image_size=28 is not a power of two >= 4. Valid sizes: 4, 8, 16, 32"):
        zoo.build_model("clggan", config="fashion32", image_size=28)
    with pytest.raises(ValueError, match=r"exactly 4 stages.*Valid \(latent_start, latent_end\): \(8, 64\)"):
        zoo.build_model("clggan", config="fashion32", latent_start=4)
    with pytest.raises(ValueError, match="at most 4 stages"):
        zoo.build_model("bggan", config="fashion32", latent_start=4)
    with pytest.raises(ValueError, match="one positive length per stage but the last: 3"):
        zoo.build_model("cggan", config="fashion32", stage_epochs=(2, 2))
    with pytest.raises(ValueError, match="does not grow its latent"):
        zoo.build_model("lggan", config="fashion32", latent_start=8)
    model = zoo.build_model("lggan", config="smoke")
    model.compile()
    with pytest.raises(ValueError, match="built for 8x8 images but got 28x28.*image_size=8"):
        model.fit(_images(8, 28), batch_size=8, epochs=1, verbose=0)


def test_a_mixed_precision_model_grows_mixed_after_the_global_policy_is_restored():
    import keras


    model, _ = build_compiled("clggan", "smoke", dataset="digits", precision="mixed_bfloat16")
    assert keras.config.dtype_policy().name == "float32"
    model.grow()
    assert keras.config.dtype_policy().name == "float32"
    from zoo.growing.networks import build_generator

    keras.config.set_dtype_policy("mixed_bfloat16")
    try:  # the grown generator has the dtypes of one built at that stage under the mixed policy
        want = {layer.name: layer.compute_dtype for layer in build_generator(model.plan, model.stage, model.channels)
                .layers}
    finally:
        keras.config.set_dtype_policy("float32")
    got = {layer.name: layer.compute_dtype for layer in model.generator.layers}
    assert got == want and "bfloat16" in got.values()


@pytest.mark.parametrize("name", slow_unless(["clggan", "growing_mlp_gan", "clggan/mixed_float16", "clggan/copy"],
                                             {"clggan"}))
def test_growth_prepared_ahead_equals_synchronous_growth(name):
    """`trainers.growth_ahead`: the next stage's networks, optimizers and traced step made in a background thread
    while the stage before trains, and run there once on zero stand-ins of its variables so that TensorFlow
    instantiates it ahead, give the run that synchronous growth gives, bit for bit (weights, Adam slots, step
    counters, logged losses), and the prepared step is the one that runs (no retrace at the switch)."""
    runs, nice = {}, os.getpriority(os.PRIO_PROCESS, 0)
    for ahead in (False, True):  # (a dataset reshuffles at each pass: one per run)
        keras.utils.set_random_seed(0)  # first: a non-repeated dataset's shuffle also draws on TF's global seed
        data = (_images(48, 8) if name.startswith("clggan")
                else zoo.load_dataset("swiss_roll", batch_size=64, seed=0).take(6))
        if name.startswith("clggan"):  # under mixed_float16 the optimizers are LossScaleOptimizers
            variant = name.partition("/")[2]
            model, _ = build_compiled("clggan", "smoke", stage_epochs=(2,), fade_epochs=1, seed=0,
                                      precision=variant if variant == "mixed_float16" else "float32",
                                      channel_growth="copy" if variant == "copy" else "fade")
        else:
            model = zoo.build_model(name, config="smoke", stage_epochs=(2,), seed=0)
            model.compile(g_optimizer="rmsprop", d_optimizer="rmsprop")
        schedule = GrowthSchedule(ahead=ahead)
        history = model.fit(data, batch_size=8, epochs=4, verbose=0, callbacks=[schedule], shuffle=False)
        runs[ahead] = model, schedule, history.history
    (a, _, logs_a), (b, schedule, logs_b) = runs[False], runs[True]
    assert a.stage == b.stage == 1 and len(schedule.ahead_seconds) == 1 and schedule.ahead_seconds[0] > 0
    assert schedule.ahead_warmed == [True]  # the step also ran once ahead, on stand-ins: nothing of the run moved
    # the preparing thread ran at the lowest priority; the training thread's own is untouched
    if sys.platform == "linux":  # (threads have their own nice values there)
        assert schedule.ahead_nice == [19]
    assert os.getpriority(os.PRIO_PROCESS, 0) == nice
    assert b.train_function is not None and b.generator is not None
    for key in ("g_loss", "d_loss"):
        np.testing.assert_array_equal(logs_a[key], logs_b[key])
    for opt in ("g_optimizer", "d_optimizer"):
        va, vb = getattr(a, opt).variables, getattr(b, opt).variables
        assert [v.shape for v in va] == [v.shape for v in vb] and len(va) > 2  # (auto-named optimizers: not paths)
        for x, y in zip(va, vb):
            np.testing.assert_array_equal(x.numpy(), y.numpy())
    for x, y in zip(a.weights, b.weights):
        assert x.path == y.path
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    with pytest.raises(ValueError, match="ahead must be True, False or 'auto'"):
        GrowthSchedule(ahead="yes")


def test_warm_up_runs_a_traced_step_on_stand_ins_and_refuses_kernel_state():
    """`trainers.growth_ahead.warm_up` runs the step (TensorFlow instantiates it) without moving the variables it
    captures, so the next real call finds it made; a step with a stateful random op (state in its kernel, which a
    run would move) is not run."""
    from trainers.growth_ahead import warm_up

    spec = tf.data.IteratorSpec(tf.TensorSpec((2,), tf.float32))
    total = tf.Variable(1.0)

    @tf.function
    def step(iterator):
        return total.assign_add(tf.reduce_sum(next(iterator)))

    @tf.function
    def noisy(iterator):
        return total.assign_add(tf.reduce_sum(next(iterator)) + tf.random.uniform(()))

    assert warm_up(step.get_concrete_function(spec), spec)
    assert total.numpy() == 1.0  # the run added to the stand-in
    assert step(iter(tf.data.Dataset.from_tensors(tf.ones(2)))).numpy() == 3.0  # the real call, on the real variable
    assert not warm_up(noisy.get_concrete_function(spec), spec) and total.numpy() == 3.0
