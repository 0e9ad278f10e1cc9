"""The five growing CNN GANs: function preserved at every growth, weights carried bit-identically, fades moving
inside the compiled step, resume mid-fade, the thesis' CelebA configs, the latent prior and the bad-input errors."""
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from tests.conftest import kill_then_resume
from zoo.growing import GrowingConvGAN
from zoo.growing.layers import upsample

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


@pytest.mark.parametrize("name", GROWING)
def test_growth_preserves_both_networks_and_carries_weights_bit_identically(name):
    model = _model(name)
    for _ in range(len(model.plan) - 1):
        _train_steps(model)
        model.set_fade(1.0)  # the stage's fade has finished
        old_res, z = model.plan[model.stage].resolution, model.sample_latent(16, tf.constant([3, 4]))
        x_old = _images(16, old_res, seed=9)
        g_before, d_before = model.generator(z).numpy(), model.discriminator(x_old).numpy()
        old_weights = {(layer.name, i): w.numpy().copy() for layer in model.generator.layers + model.discriminator.layers
                       for i, w in enumerate(layer.trainable_weights)}
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
    np.testing.assert_allclose(seen, [1, 1, 1, 1] + [i / 8 for i in range(8)] + [1, 1, 1, 1])
    assert model.fades() == {"alpha": 1.0, "beta": 1.0, "tau": 0.5}
    # the compiled generator reads the variable: another beta, another output, no retrace
    fn = tf.function(lambda z: model.generator(z))
    z = model.sample_latent(4, tf.constant([0, 1]))
    full = fn(z).numpy()
    model.set_fade(0.0)
    assert np.abs(fn(z).numpy() - full).max() > 1e-4 and fn.experimental_get_tracing_count() == 1


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


def test_sigkill_mid_fade_resumes_the_fade_where_it_stopped(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "zoo", "train", "clggan", "--dataset", "fashion_mnist", "--config", "smoke",
           "--epochs", "5", "--steps-per-epoch", "40", "--out", str(out), "--no-export", "--verbose", "2"]
    saved, state = kill_then_resume(cmd, out, kill_after_epoch=2)  # stage 1 fades over epochs 2 and 3 (1-based)
    assert state["started_at_epoch"] == saved["epoch"] >= 2
    assert state["g_optimizer_iterations"] == 5 * 40
    rows = [line.split(",") for line in (out / "history.csv").read_text().splitlines()]
    header, rows = rows[0], {int(r[0]): r for r in rows[1:]}
    fade = {e: float(r[header.index("fade")]) for e, r in rows.items()}
    stage = {e: float(r[header.index("stage")]) for e, r in rows.items()}
    # the killed epoch's CSV row may be lost with the process; every epoch the resumed run did is there
    assert set(range(saved["epoch"], 5)) <= set(fade) <= set(range(5))
    expected_fade, expected_stage = [1.0, 39 / 80, 79 / 80, 1.0, 1.0], [0, 1, 1, 1, 1]
    for e in fade:
        assert fade[e] == pytest.approx(expected_fade[e]) and stage[e] == expected_stage[e]
    assert keras.saving.load_model(out / "model.keras", compile=False).fades()["tau"] == 0.5


@pytest.mark.parametrize("name", MODELS)
def test_thesis_celeba128_config_runs_one_step(name):
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

    from zoo_app.fit import build_compiled

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
