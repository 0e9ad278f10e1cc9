"""Latent Space Conditioning's working pipeline (issue 15): the whitened feature bank, bank neighbours, conditional
BatchNorm, the mode-seeking term, and `generate_like` (scikit-learn digits, 16x16)."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from export import computing_in_float32
from zoo_app.fit import build_compiled, train
from zoo.lsc_conditioned import bank as bank_lib
from zoo.lsc_conditioned import losses
from zoo.lsc_conditioned.networks import ConditionalBatchNorm, conditional_generator


# ------------------------------------------------------------------ the bank
def test_whitening_gives_unit_covariance_on_the_bank_and_matches_numpy():
    rng = np.random.default_rng(0)
    mix = rng.normal(size=(12, 12))
    raw = rng.normal(size=(500, 12)) @ mix + 3.0 * rng.normal(size=12)  # correlated, offset, unequal scales
    mean, scale, proj = bank_lib.fit_whitening(raw, 6)
    np.testing.assert_allclose(mean, raw.mean(0), rtol=1e-5)
    np.testing.assert_allclose(scale, raw.std(0), rtol=1e-5)
    f = bank_lib.whiten(raw, mean, scale, proj).numpy()
    np.testing.assert_allclose(f.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(np.cov(f, rowvar=False), np.eye(6), atol=1e-4)
    # the kept directions are the top principal components of the per-dimension standardised features
    z = (raw - raw.mean(0)) / raw.std(0)
    top = np.linalg.eigh(np.cov(z, rowvar=False))[0][::-1][:6]
    np.testing.assert_allclose(np.var(z @ proj * np.sqrt(top), axis=0, ddof=1), top, rtol=1e-3)
    with pytest.raises(ValueError, match="bank_dim=13 must be between 1 and the feature size 12"):
        bank_lib.fit_whitening(raw, 13)


def test_bank_neighbours_match_a_brute_force_search_and_never_pick_the_query():
    rng = np.random.default_rng(1)
    bank = rng.normal(size=(40, 3)).astype(np.float32)
    bank[7] = bank[3]  # an exact duplicate: it counts as the image itself for a query equal to row 3
    queries = bank[[3, 10, 25]]
    k, m, draws = 4, 10, 400
    u = rng.uniform(size=(draws, 3, 1 + bank_lib.CANDIDATES)).astype(np.float32)
    d = ((queries[:, None] - bank[None]) ** 2).sum(-1)
    for row, q in enumerate((3, 10, 25)):
        order = [j for j in np.argsort(d[row], kind="stable") if d[row, j] >= bank_lib.SELF_RADIUS]
        allowed_same, inside = set(order[:k]), set(order[:m]) | {q} | ({3, 7} if q == 3 else set())
        seen_same, seen_diff = set(), set()
        for t in range(draws):
            same, diff = bank_lib.bank_neighbours(tf.constant(queries), tf.constant(bank), k, m,
                                                  tf.constant(u[t, :, 0]), tf.constant(u[t, :, 1:]))
            seen_same.add(int(same[row]))
            seen_diff.add(int(diff[row]))
        assert seen_same == allowed_same  # every one of the k nearest is drawn, nothing else
        assert not seen_diff & inside and len(seen_diff) > 20  # only from outside the m nearest, widely spread


def test_mode_seeking_term_matches_its_formula():
    rng = np.random.default_rng(2)
    a, b = rng.uniform(-1, 1, (2, 4, 4, 4, 1)).astype(np.float32)
    za, zb = rng.normal(size=(2, 4, 8)).astype(np.float32)
    expect = 1.0 / (np.mean(np.abs(a - b)) / np.mean(np.abs(za - zb)) + 1e-5)
    np.testing.assert_allclose(float(losses.mode_seeking_loss(a, b, za, zb)), expect, rtol=1e-5)
    assert float(losses.mode_seeking_loss(a, a, za, zb)) == pytest.approx(1e5)  # z ignored: the largest penalty


# ------------------------------------------------------------------ the generator
def test_conditional_batchnorm_starts_as_batchnorm_and_then_follows_the_condition():
    h = tf.constant(np.random.default_rng(3).normal(size=(8, 4, 4, 3)), tf.float32)
    f = tf.constant(np.random.default_rng(4).normal(size=(8, 5)), tf.float32)
    cbn = ConditionalBatchNorm()
    out = cbn([h, f], training=True).numpy()
    mu, var = h.numpy().mean((0, 1, 2)), h.numpy().var((0, 1, 2))
    np.testing.assert_allclose(out, (h.numpy() - mu) / np.sqrt(var + 1e-3), atol=1e-4)
    cbn.gamma.kernel.assign(np.ones((5, 3), np.float32))
    cbn.beta.kernel.assign(np.full((5, 3), 2.0, np.float32))
    out = cbn([h, f], training=True).numpy()
    s = f.numpy().sum(1)[:, None, None, None]
    np.testing.assert_allclose(out, (1 + s) * (h.numpy() - mu) / np.sqrt(var + 1e-3) + 2 * s, atol=1e-3)
    g = conditional_generator(4, 5, image_size=16, width=4)
    assert sum(isinstance(layer, ConditionalBatchNorm) for layer in g.layers) == 2
    with pytest.raises(ValueError, match="Known: concat, cbn"):
        conditional_generator(4, 5, conditioning="film")


# ------------------------------------------------------------------ the model
@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("lscc")
    model, hist = train("feature_conditioned_gan", "digits", config="smoke", epochs=2, steps_per_epoch=4, verbose=0,
                        out=out / "run")
    return model, hist, out / "run"


def test_the_working_model_trains_on_its_whitened_bank(trained):
    model, hist, run = trained
    assert all(np.isfinite(v).all() for v in hist.history.values()) and "ms_ratio" in hist.history
    x_train, _ = zoo.load_arrays("digits", "train", image_size=16)
    f = model.features(x_train).numpy()  # the bank: standardised and whitened over the training set
    np.testing.assert_allclose(f.mean(0), 0, atol=1e-3)
    np.testing.assert_allclose(np.cov(f, rowvar=False), np.eye(model.bank_dim), atol=1e-3)
    bank = model.feature_bank.numpy()  # the saved rows that condition unconditional samples are bank rows
    assert int(model.bank_count.numpy()) == model.bank_size
    assert all(np.abs(f - row).sum(-1).min() < 1e-4 for row in bank)
    lc = model.sample_latent(64, tf.constant([0, 0])).numpy()[:, model.noise_dim:]
    assert all(np.abs(bank - row).sum(-1).min() < 1e-6 for row in lc)
    loaded = keras.saving.load_model(run / "model.keras")  # the whitening and the rows are saved
    x, _ = zoo.load_arrays("digits", "test", image_size=16)
    with computing_in_float32(model):  # train() picked bf16 where the CPU has it; a loaded model computes in f32
        np.testing.assert_allclose(loaded.features(x[:8]).numpy(), model.features(x[:8]).numpy(), atol=1e-5)
        np.testing.assert_allclose(loaded.generate_like(x[:8], seed=3).numpy(),
                                   model.generate_like(x[:8], seed=3).numpy(), atol=1e-5)


def test_generate_like_is_deterministic_per_seed_and_uses_z_and_f(trained):
    model, _, _ = trained
    x, _ = zoo.load_arrays("digits", "test", image_size=16)
    a = model.generate_like(x[:6], seed=1).numpy()
    np.testing.assert_array_equal(a, model.generate_like(x[:6], seed=1).numpy())
    assert np.abs(a - model.generate_like(x[:6], seed=2).numpy()).max() > 1e-4  # z matters
    assert np.abs(a - model.generate_like(x[6:12], seed=1).numpy()).max() > 1e-4  # f matters


@pytest.mark.parametrize("shape", [(2, 16, 16, 3), (2, 32, 32, 1), (16, 16, 1)])
def test_generate_like_on_images_of_the_wrong_shape_names_the_expected_one(trained, shape):
    model, _, _ = trained
    with pytest.raises(ValueError, match=r"generate_like takes images \[N, 16, 16, 1\].*Resize to 16x16 with 1"):
        model.generate_like(np.zeros(shape, np.float32))


def test_fit_on_an_endless_dataset_without_bank_images_says_what_to_do():
    model, _ = build_compiled("feature_conditioned_gan", "smoke", dataset="digits", seed=0)
    ds = zoo.load_dataset("digits", batch_size=16, image_size=16, repeat=True)
    with pytest.raises(ValueError, match=r"use_bank_images\(train_images\)"):
        model.fit(ds, epochs=1, steps_per_epoch=2, verbose=0)
    with pytest.raises(ValueError, match=r"Bank images must be \[N, 16, 16, 1\]"):
        model.use_bank_images(np.zeros((10, 8, 8, 1)))


def test_new_bank_images_between_fits_are_the_ones_the_next_fit_searches():
    """The train step captures the bank's tensors when traced: new bank images must bring a new trace."""
    model, _ = build_compiled("feature_conditioned_gan", "smoke", dataset="digits", seed=0)
    x, _ = zoo.load_arrays("digits", "train", image_size=16)
    model.fit(x[:64], epochs=1, batch_size=16, verbose=0)
    traced = model.train_function
    model.fit(x[:64], epochs=1, batch_size=16, verbose=0)
    assert model.train_function is traced  # same bank: the trace is reused
    model.use_bank_images(x[64:160])
    model.fit(x[:64], epochs=1, batch_size=16, verbose=0)
    assert model.train_function is not traced
    np.testing.assert_array_equal(model._train_bank[2].numpy(), x[64:160])
