"""The latent-distribution family (latentgan_ae, sngan, feature_conditioned_gan): the numbers of their losses,
Algorithm 1, the code specification, and short real trainings (scikit-learn digits, 16x16)."""
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from export import computing_in_float32
from zoo_app.fit import build_compiled, train
from zoo.latentgan_ae import CodeSpec
from zoo.latentgan_ae import losses as lg_losses
from zoo.lsc_conditioned import extractor as extractor_lib
from zoo.lsc_conditioned import losses as lsc_losses
from zoo.metrics import scores


# ------------------------------------------------------------------ triple coupled loss (eqs. 2-5)
def test_triple_coupled_loss_matches_the_equations():
    adv, same, diff = np.array([[0.3], [-1.2]]), np.array([[2.0], [0.1]]), np.array([[-0.5], [1.5]])
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    l_adv = np.mean(np.log(1 - sig(adv)))   # eq. 2
    l_same = np.mean(np.log(sig(same)))    # eq. 3
    l_diff = np.mean(np.log(1 - sig(diff)))  # eq. 4
    lam = (0.5, 2.0, 3.0)
    total, terms = lsc_losses.triple_coupled_d_loss(tf.constant(adv), tf.constant(same), tf.constant(diff), lam)
    # D maximises eq. 5, so its loss is minus it
    np.testing.assert_allclose(float(total), -(lam[0] * l_adv + lam[1] * l_same + lam[2] * l_diff), rtol=1e-6)
    np.testing.assert_allclose([float(t) for t in terms], [-l_adv, -l_same, -l_diff], rtol=1e-6)
    g = lsc_losses.triple_coupled_g_loss(tf.constant(adv))
    np.testing.assert_allclose(float(g), np.mean(-np.log(sig(adv))), rtol=1e-6)
    hinge, _ = lsc_losses.triple_coupled_d_loss(tf.constant(adv), tf.constant(same), tf.constant(diff), lam, "hinge")
    expect = lam[0] * np.mean(np.maximum(0, 1 + adv)) + lam[1] * np.mean(np.maximum(0, 1 - same)) + lam[2] * np.mean(
        np.maximum(0, 1 + diff))
    np.testing.assert_allclose(float(hinge), expect, rtol=1e-6)


def test_ablation_prototypes_drop_their_terms():
    m = {p: zoo.build_model("feature_conditioned_gan", config="smoke", prototype=p) for p in ("A", "B", "C", "full")}
    assert m["A"].weights_used == (1.0, 0.0, 0.0) and m["B"].weights_used == (1.0, 1.0, 0.0)
    assert m["C"].weights_used == (1.0, 0.0, 1.0) and m["full"].weights_used == (1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="Known: full, A, B, C"):
        zoo.build_model("feature_conditioned_gan", config="smoke", prototype="D")


# ------------------------------------------------------------------ Algorithm 1
def test_algorithm1_nearest_and_farthest_on_a_hand_made_batch():
    f = tf.constant([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0], [0.0, 0.4], [4.0, 7.0]])
    # L1 distances, row 0: 1, 10, 0.4, 11; row 1: 1, 9, 1.4, 10; row 2: 10, 9, 9.6, 3; row 3: 0.4, 1.4, 9.6, 10.6;
    # row 4: 11, 10, 3, 10.6
    nearest, farthest = lsc_losses.neighbours(f)
    d = np.abs(f.numpy()[:, None] - f.numpy()[None]).sum(-1)
    np.testing.assert_allclose(lsc_losses.pairwise_l1(f).numpy(), d)
    assert nearest.numpy().tolist() == [3, 0, 4, 0, 2]
    assert farthest.numpy().tolist() == [4, 4, 0, 4, 0]
    assert all(n != i and fa != i for i, (n, fa) in enumerate(zip(nearest.numpy(), farthest.numpy())))


def test_algorithm1_never_picks_the_image_itself_when_features_repeat():
    nearest, farthest = lsc_losses.neighbours(tf.zeros([4, 3]))
    assert all(n != i for i, n in enumerate(nearest.numpy())) and all(f != i for i, f in enumerate(farthest.numpy()))


# ------------------------------------------------------------------ mutual information term (eq. 3)
def test_information_terms_match_cross_entropy_and_gaussian_nll():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 10)).astype(np.float32)
    c = rng.integers(0, 10, 6)
    onehot = np.eye(10, dtype=np.float32)[c]
    cont, mu = rng.uniform(-1, 1, (6, 2)).astype(np.float32), rng.normal(size=(6, 2)).astype(np.float32)
    q = {"categorical_0": tf.constant(logits), "continuous": tf.constant(mu)}
    loss, cat, cnt = lg_losses.info_loss(q, [tf.constant(onehot)], tf.constant(cont), lambda_disc=0.1, lambda_cont=1.0)
    log_softmax = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    ce = -np.mean(log_softmax[np.arange(6), c])
    nll = np.mean(np.sum(0.5 * (cont - mu) ** 2, 1))
    np.testing.assert_allclose([float(cat), float(cnt), float(loss)], [ce, nll, 0.1 * ce + nll], rtol=1e-5)


def test_mutual_information_bound_is_log_k_for_a_perfect_q_and_zero_for_a_blind_one():
    c = tf.one_hot([0, 3, 7, 9], 10)
    perfect, _ = lg_losses.info_terms({"categorical_0": 50.0 * c}, [c], tf.zeros([4, 0]))
    blind, _ = lg_losses.info_terms({"categorical_0": tf.zeros([4, 10])}, [c], tf.zeros([4, 0]))
    assert abs(lg_losses.mutual_information_bound(float(perfect), 0.0, (10,), 0) - math.log(10)) < 1e-5
    assert abs(lg_losses.mutual_information_bound(float(blind), 0.0, (10,), 0)) < 1e-5


# ------------------------------------------------------------------ code specification
def test_code_specification_that_does_not_fit_the_generator_fails_at_build():
    with pytest.raises(ValueError, match=r"generator_input=76 but noise_dim \+ sum\(categorical\) \+ continuous = "
                                         r"64 \+ 12 \+ 2 = 78"):
        zoo.build_model("latentgan_ae", config="mnist32", categorical=(12,))
    with pytest.raises(ValueError, match=r"64 \+ 10 \+ 3 = 77"):
        zoo.build_model("latentgan_ae", config="mnist32", continuous=3)
    with pytest.raises(ValueError, match="every K in categorical"):
        CodeSpec(categorical=(1,))
    spec = CodeSpec(noise_dim=4, categorical=(3, 5), continuous=2)
    assert spec.dim == 4 + 3 + 5 + 2
    with pytest.raises(ValueError, match="K=3: values 0..2"):
        spec.assemble(np.zeros((2, 4)), [[0, 3], [0, 0]], np.zeros((2, 2)))
    with pytest.raises(ValueError, match="Expected 2 continuous"):
        spec.assemble(np.zeros((2, 4)), [[0, 1], [0, 4]], np.zeros((2, 1)))


def test_code_layout_and_sampling():
    spec = CodeSpec(noise_dim=4, categorical=(3, 5), continuous=2)
    lc = spec.sample(1000, tf.constant([1, 2]))
    noise, (c1, c2), cont = spec.split(lc)
    assert noise.shape == (1000, 4) and c1.shape == (1000, 3) and c2.shape == (1000, 5) and cont.shape == (1000, 2)
    np.testing.assert_array_equal(tf.reduce_sum(c1, -1).numpy(), 1.0)
    assert -1 <= cont.numpy().min() and cont.numpy().max() <= 1 and abs(cont.numpy().mean()) < 0.1
    assert set(c2.numpy().argmax(-1)) == set(range(5))
    np.testing.assert_array_equal(lc.numpy(), spec.sample(1000, tf.constant([1, 2])).numpy())


# ------------------------------------------------------------------ training on real data
def test_latentgan_ae_trains_clusters_and_generates_from_codes(tmp_path):
    model, hist = train("latentgan_ae", "digits", config="smoke", epochs=4, steps_per_epoch=10, verbose=0,
                        out=tmp_path / "run")
    ae = hist.history["ae_loss"]
    assert ae[-1] < 0.8 * ae[0], ae  # the autoencoder learns
    assert all(np.isfinite(hist.history[k]).all() for k in ("d_loss", "g_loss", "info_categorical"))
    x, y = zoo.load_arrays("digits", "test", image_size=16)
    clusters = model.cluster(x)
    assert clusters.shape == (len(x),) and set(clusters) <= {0, 1, 2}
    rec = scores.clustering_scores(y, clusters)
    # the Hungarian error and purity of these real clusters, against a brute force over every one-to-one map of
    # the 3 clusters to the 10 classes, and a hand count (the vacuous 0 <= error <= 1 used to stand here)
    import itertools

    table = np.zeros((3, 10), int)
    np.add.at(table, (clusters, y), 1)
    best = max(sum(table[c, k] for c, k in enumerate(ks)) for ks in itertools.permutations(range(10), 3))
    assert rec["error"] == pytest.approx(1 - best / len(y), abs=1e-12)
    assert rec["purity"] == pytest.approx(table.max(1).sum() / len(y), abs=1e-12)
    imgs = model.generate_from_codes([[0, 1, 2]], continuous=[[-1.5], [0.0], [1.5]], seed=3)
    assert imgs.shape == (3, 16, 16, 1) and float(tf.reduce_max(tf.abs(imgs))) <= 1.0
    # the composite generator is Dec(G(lc) * sigma + mu)
    lc = model.sample_latent(4, tf.constant([0, 0]))
    np.testing.assert_allclose(model.generator(lc).numpy(),
                               model.decoder(model.latent_scale(model.latent_generator(lc))).numpy(), atol=1e-6)
    loaded = keras.saving.load_model(tmp_path / "run" / "model.keras")
    with computing_in_float32(model):  # train() picked bf16 where the CPU has it; a loaded model computes in f32
        np.testing.assert_allclose(loaded.generator(lc).numpy(), model.generator(lc).numpy(), atol=1e-6)
        np.testing.assert_array_equal(loaded.cluster(x), model.cluster(x))


def test_sngan_discriminator_kernels_are_spectrally_normalised():
    model, hist = train("sngan", "digits", config="smoke", epochs=3, steps_per_epoch=4, verbose=0)
    assert np.isfinite(hist.history["d_loss"]).all()
    sigmas = []
    for layer in model.discriminator.layers:
        if isinstance(layer, keras.layers.SpectralNormalization):
            w = layer.kernel.numpy().reshape(-1, layer.kernel.shape[-1])
            sigmas.append(np.linalg.svd(w, compute_uv=False)[0])
    assert len(sigmas) == 6  # 16x16: two (conv3x3, conv4x4/2) pairs, conv_last, the dense logit
    # one power iteration per call: sigma is ~1 after a few steps (W <- W / sigma_estimate)
    assert max(abs(s - 1.0) for s in sigmas) < 0.15, sigmas


def test_reparametrised_spectral_norm_runs_w_over_sigma_and_projects_its_gradient(tmp_path):
    """``spectral="reparam"`` (Miyato et al. eq. 8): the layer computes with W / sigma(W) while storing W; with u at
    the converged singular vector, the gradient through the normalisation is eq. 12's
    (G - <G, W_SN> u1 v1^T) / sigma for G = dL/dW_SN, which is orthogonal to W: no step goes into W's scale, which
    W_SN does not see; a saved model loads back with its u."""
    from zoo.sngan.networks import SNDense, spectral

    rng = np.random.default_rng(0)
    dense = spectral(keras.layers.Dense(3, name="d"), kind="reparam")
    assert isinstance(dense, SNDense)
    x = tf.constant(rng.normal(size=(5, 4)), tf.float32)
    dense(x)
    dense.kernel.assign(3.0 * rng.normal(size=(4, 3)).astype("float32"))
    for _ in range(50):  # converge the power iteration
        dense(x, training=True)
    w = dense.kernel.numpy()
    u_svd, s, vt = np.linalg.svd(w)
    w_sn = w / s[0]
    np.testing.assert_allclose(dense(x).numpy(), x.numpy() @ w_sn + dense.bias.numpy(), rtol=1e-5, atol=1e-5)
    target = tf.constant(rng.normal(size=(5, 3)), tf.float32)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(dense(x) * target)
    grad = tape.gradient(loss, dense.kernel).numpy()
    g_sn = x.numpy().T @ target.numpy()  # dL/dW_SN of the linear loss
    a, b = u_svd[:, 0], vt[0]  # W's top left / right singular vectors (the layer's v and u)
    np.testing.assert_allclose(grad, (g_sn - np.sum(g_sn * w_sn) * np.outer(a, b)) / s[0], rtol=1e-3, atol=1e-4)
    assert abs(np.sum(grad * w)) < 1e-4 * np.abs(grad).sum()  # nothing along W's own scale

    model, hist = train("sngan", "digits", config="smoke", epochs=2, steps_per_epoch=3, verbose=0, spectral="reparam",
                        out=tmp_path / "run")
    assert np.isfinite(hist.history["d_loss"]).all()
    kinds = {type(layer).__name__ for layer in model.discriminator.layers if hasattr(layer, "kernel")}
    assert kinds == {"SNConv2D", "SNDense"}, kinds
    loaded = keras.saving.load_model(tmp_path / "run" / "model.keras")
    images = model.generate(4, seed=0)
    with computing_in_float32(model):
        np.testing.assert_allclose(loaded.discriminator(images).numpy(), model.discriminator(images).numpy(),
                                   atol=1e-5)
    with pytest.raises(ValueError, match="spectral='power'"):
        zoo.build_model("sngan", "smoke", spectral="power")


PAPER = {"features": "per_sample", "neighbours": "batch", "conditioning": "concat", "mode_seeking": 0.0}


def test_feature_conditioned_gan_trains_with_a_frozen_untrained_extractor(tmp_path):
    """The paper's setting (per-sample standardised features, Algorithm 1 in the batch, z ⊕ f into G)."""
    model, cfg = build_compiled("feature_conditioned_gan", "smoke", dataset="digits", seed=0, **PAPER)
    before = [w.numpy().copy() for w in model.extractor.weights]
    ds = zoo.load_dataset("digits", batch_size=16, image_size=16).take(6)
    hist = model.fit(ds, epochs=2, verbose=0)
    assert all(np.isfinite(v).all() for v in hist.history.values())
    for a, b in zip(before, model.extractor.weights):
        np.testing.assert_array_equal(a, b.numpy())  # E is fixed
    assert int(model.bank_count.numpy()) == 32
    x, _ = zoo.load_arrays("digits", "test", image_size=16)
    like = model.generate_like(x[:5], seed=1)
    assert like.shape == (5, 16, 16, 1)
    assert model.discriminator.input_shape[-1] == 2  # couples of 1-channel images
    f = model.features(x[:5]).numpy()
    np.testing.assert_allclose(f.mean(-1), 0, atol=1e-5)
    np.testing.assert_allclose(f.std(-1), 1, atol=1e-3)
    g = model.generate(4, seed=0)
    np.testing.assert_array_equal(g.numpy(), model.generate(4, seed=0).numpy())
    # the bank's features condition unconditional samples
    lc = model.sample_latent(64, tf.constant([0, 0])).numpy()[:, model.noise_dim:]
    bank = model.feature_bank.numpy()
    assert all(np.abs(bank - row).sum(-1).min() < 1e-5 for row in lc)


def test_rotation_extractor_is_trained_once_then_frozen():
    model, _ = build_compiled("feature_conditioned_gan", "smoke", dataset="digits", seed=0, extractor="rotation",
                              extractor_steps=15)
    before = [w.numpy().copy() for w in model.extractor.weights]
    ds = zoo.load_dataset("digits", batch_size=16, image_size=16, with_labels=True).take(4)
    model.fit(ds, epochs=1, verbose=0)
    assert int(model.extractor_ready.numpy()) == 1
    assert int(model.rotation_net.optimizer.iterations.numpy()) == 15
    after = [w.numpy().copy() for w in model.extractor.weights]
    assert any(np.abs(a - b).max() > 1e-4 for a, b in zip(before, after))
    model.fit(ds, epochs=1, verbose=0)  # the second fit does not train E again
    assert int(model.rotation_net.optimizer.iterations.numpy()) == 15
    for a, b in zip(after, model.extractor.weights):
        np.testing.assert_array_equal(a, b.numpy())
    x, r = extractor_lib.rotation_batch(tf.constant(np.arange(8, dtype=np.float32).reshape(2, 2, 2, 1)))
    assert x.shape == (8, 2, 2, 1) and r.numpy().tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    np.testing.assert_array_equal(x[2].numpy(), np.rot90(np.arange(4).reshape(2, 2)).reshape(2, 2, 1))
