"""The VAE-GAN family (vae, lsr_gan, lsc_vae, lsc_gan): the VAE's terms against closed forms and table 3, the
LSR / LSC terms, two stages inside one fit, and a run killed in stage two.
"""
import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

import zoo
from zoo.lsc_gan import AttributeSpace, compression_rate
from zoo.vae import Reparameterize, losses
from zoo_app.fit import build_compiled


def _copy(weights):
    return [w.numpy().copy() for w in weights]


def _equal(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b))


def _data(batch=16, labels=False):
    return zoo.load_dataset("fashion_mnist", batch_size=batch, image_size=32, repeat=True, with_labels=labels)


def test_gaussian_nll_matches_scipy():
    rng = np.random.default_rng(0)
    z, mu = rng.normal(size=(2, 4, 6)).astype(np.float32)
    logvar = rng.uniform(-2, 1, (4, 6)).astype(np.float32)
    hand = -stats.norm.logpdf(z, loc=mu, scale=np.exp(0.5 * logvar))
    np.testing.assert_allclose(losses.gaussian_nll(z, mu, logvar, "sum"), hand.sum(1), rtol=1e-5)
    np.testing.assert_allclose(losses.gaussian_nll(z, mu, logvar, "mean"), hand.mean(1), rtol=1e-5)
    with pytest.raises(ValueError, match="Known: mean, sum"):
        losses.gaussian_nll(z, mu, logvar, "max")


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_lsr_term_is_the_frozen_encoders_negative_log_likelihood(reduction):
    keras.utils.set_random_seed(1)
    model = zoo.build_model("lsr_gan", config="smoke", lsr_reduction=reduction)
    z = tf.random.normal([5, model.latent_dim])
    fake = model.generator(z, training=False)
    mu, logvar = (t.numpy() for t in model.encoder(fake, training=False))
    hand = -stats.norm.logpdf(z.numpy(), loc=mu, scale=np.exp(0.5 * logvar))
    hand = hand.mean(1) if reduction == "mean" else hand.sum(1)
    np.testing.assert_allclose(model.lsr_term(z, fake).numpy(), hand.mean(), rtol=1e-4)
    weighted, raw = zoo.build_model("lsr_gan", config="smoke", lsr_weight=3.0).latent_term(z, fake, None)
    np.testing.assert_allclose(weighted.numpy(), 3.0 * raw.numpy(), rtol=1e-6)


def test_lsc_prior_kl_matches_the_closed_form_of_two_gaussians():
    rng = np.random.default_rng(2)
    mu, logvar = rng.normal(size=(2, 3, 4)).astype(np.float32)
    m = rng.normal(size=(3, 4)).astype(np.float32)
    for i in range(3):  # KL(N0 || N1) = 0.5 [tr(S1^-1 S0) + (m1 - m0)' S1^-1 (m1 - m0) - k + ln det S1 / det S0]
        s0, s1 = np.diag(np.exp(logvar[i])), np.eye(4)
        d = m[i] - mu[i]
        closed = 0.5 * (np.trace(np.linalg.inv(s1) @ s0) + d @ np.linalg.inv(s1) @ d - 4
                        + np.log(np.linalg.det(s1) / np.linalg.det(s0)))
        np.testing.assert_allclose(losses.kl_standard_normal(mu[i:i + 1], logvar[i:i + 1], m[i:i + 1]), [closed],
                                   rtol=1e-5)


def test_lsc_vae_loss_uses_each_examples_class_block():
    keras.utils.set_random_seed(0)
    model = zoo.build_model("lsc_vae", config="smoke")  # 10 classes x 2 dimensions
    x, y = next(iter(_data(8, labels=True)))
    mean = model.prior_mean((x, y)).numpy()
    expected = np.zeros((8, 20), np.float32)
    for i, c in enumerate(y.numpy()):
        expected[i, 2 * c:2 * c + 2] = 1.0
    np.testing.assert_array_equal(mean, expected)
    mu, logvar = (t.numpy() for t in model.encoder(x, training=False))
    closed = 0.5 * np.sum((mu - expected) ** 2 + np.exp(logvar) - 1 - logvar, axis=1).mean()
    model.compile(optimizer="adam")
    logs = model.evaluate(tf.data.Dataset.from_tensors((x, y)), verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["kl"], closed, rtol=1e-4)
    with pytest.raises(ValueError, match="with_labels=True"):
        model.prior_mean(x)


def test_attribute_space_names_blocks_strengths_and_errors():
    space = AttributeSpace("fashion_mnist", block_size=3)
    assert space.latent_dim == 30 and space.block(2) == (6, 9)
    off = space.offset({"Bag": 2, 0: -1})
    assert off[24:27].tolist() == [2, 2, 2] and off[0:3].tolist() == [-1, -1, -1] and off.sum() == 3
    for bad in ("Shoe", 10, -1):
        with pytest.raises(ValueError, match=r"Valid attributes \(index: name\): 0: T-shirt/top, .* 9: Ankle boot"):
            space.weights([bad])
    celeb = AttributeSpace("celeb_a")
    assert celeb.size == 14 and celeb.latent_dim == 280 and "Female" in celeb.names
    labels = np.zeros((2, 40), np.float32)
    labels[0, zoo.data.images.CELEB_A_ATTRIBUTES.index("Male")] = 1
    labels[1, zoo.data.images.CELEB_A_ATTRIBUTES.index("Pale_Skin")] = 1
    hot = celeb.from_labels(labels).numpy()
    assert hot[0, celeb.index("Male")] == 1 and hot[0, celeb.index("Female")] == 0
    assert hot[1, celeb.index("Female")] == 1 and hot[1, celeb.index("Pale_Skin")] == 1 and hot.sum() == 3
    with pytest.raises(ValueError, match="Unknown attribute source 'cifar10'"):
        AttributeSpace("cifar10")
    with pytest.raises(ValueError, match="latent_dim=64 does not fit 10 attributes x block_size 2 = 20"):
        zoo.build_model("lsc_vae", config="smoke", latent_dim=64)


def test_editing_and_compression_rate():
    model = zoo.build_model("lsc_gan", config="smoke")
    z = model.attribute_latent(["Trouser"], 4, seed=0)
    edited = model.edit(z, add=["Sneaker"], remove=["Trouser"]).numpy()
    delta = edited - z.numpy()
    assert np.all(delta[:, 2:4] == -1) and np.all(delta[:, 14:16] == 1) and np.abs(delta).sum() == 4 * 4
    assert model.generate_attributes({"Bag": 2}, 3).shape == (3, 32, 32, 1)
    with pytest.raises(ValueError, match="Unknown attribute 'Boot'"):
        model.generate_attributes(["Boot"], 1)
    rate = compression_rate((64, 64, 3), 280, 14)
    assert rate["rate"] == pytest.approx(64 * 64 * 3 / 280 / 14) and "/ #classes" in rate["formula"]
    assert model.compression_rate()["rate"] == pytest.approx(1024 / 20 / 10)


class _Probe(keras.callbacks.Callback):
    """Weights at the first batch of each epoch (after the stage switch, before any update)."""

    def __init__(self):
        super().__init__()
        self.at = {}

    def on_train_batch_begin(self, batch, logs=None):
        m = self.model
        if batch == 0 and m.epoch_now not in self.at:
            self.at[m.epoch_now] = {k: _copy(getattr(m, k).weights)
                                    for k in ("encoder", "decoder", "generator", "discriminator")}

    def on_epoch_begin(self, epoch, logs=None):
        self.model.epoch_now = epoch


@pytest.mark.parametrize("name,overrides", [("lsr_gan", {}), ("lsc_gan", {}),
                                            pytest.param("lsc_gan", {"stage2_encoder": "trained"},
                                                         marks=pytest.mark.slow)])
def test_stage_two_starts_from_the_decoder_and_freezes_what_it_should(name, overrides):
    keras.utils.set_random_seed(0)
    model, _ = build_compiled(name, "smoke", dataset="fashion_mnist", **overrides)  # vae_epochs = 1
    probe = _Probe()
    hist = model.fit(_data(16, labels=name == "lsc_gan"), epochs=3, steps_per_epoch=4, verbose=0, callbacks=[probe])
    start = probe.at[1]
    assert _equal(start["generator"], start["decoder"])  # the generator IS the trained decoder at the switch
    assert not _equal(probe.at[0]["decoder"], start["decoder"])  # ... which stage 1 trained
    assert _equal(start["decoder"], _copy(model.decoder.weights))  # stage 2 leaves the VAE decoder alone
    assert not _equal(start["generator"], _copy(model.generator.weights))
    frozen = _equal(start["encoder"], _copy(model.encoder.weights))
    # LSR-GAN freezes the encoder (BN statistics too); so does LSC-GAN's working config, and eq. 2 trains it
    assert frozen == (overrides.get("stage2_encoder") != "trained")
    assert hist.history["stage"] == [1, 2, 2]
    assert np.isnan(hist.history["d_loss"][0]) and np.isfinite(hist.history["d_loss"][1:]).all()
    assert int(model.optimizer.iterations) == 4 and int(model.g_optimizer.iterations) == 8


def test_generator_from_scratch_keeps_its_own_initialisation():
    keras.utils.set_random_seed(0)
    model, _ = build_compiled("lsr_gan", "smoke", dataset="fashion_mnist", generator_init="scratch")
    probe = _Probe()
    model.fit(_data(), epochs=2, steps_per_epoch=2, verbose=0, callbacks=[probe])
    assert _equal(probe.at[0]["generator"], probe.at[1]["generator"])
    assert not _equal(probe.at[1]["generator"], probe.at[1]["decoder"])
    with pytest.raises(ValueError, match="Known: decoder, scratch"):
        zoo.build_model("lsr_gan", config="smoke", generator_init="random")


def test_load_vae_starts_stage_two_from_a_trained_vae(tmp_path):
    keras.utils.set_random_seed(0)
    vae, _ = build_compiled("vae", "smoke", dataset="fashion_mnist")
    vae.fit(_data(), epochs=1, steps_per_epoch=3, verbose=0)
    vae.save(tmp_path / "vae.keras")
    model, _ = build_compiled("lsr_gan", "smoke", dataset="fashion_mnist", vae_epochs=0,
                              vae_path=str(tmp_path / "vae.keras"))
    assert _equal(_copy(model.encoder.weights), _copy(vae.encoder.weights))
    probe = _Probe()
    model.fit(_data(), epochs=1, steps_per_epoch=2, verbose=0, callbacks=[probe])
    assert _equal(probe.at[0]["generator"], _copy(vae.decoder.weights))
    assert model.get_config()["vae_path"] is None  # the saved model does not need the VAE's file
    with pytest.raises(ValueError, match="does not fit this model's"):
        zoo.build_model("lsr_gan", config="smoke", latent_dim=8, vae_path=str(tmp_path / "vae.keras"))


def test_reconstruction_terms_match_hand_computation():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-1, 1, (2, 2, 3, 3, 1)).astype(np.float32)
    sq = ((x - y) ** 2).reshape(2, -1)
    np.testing.assert_allclose(losses.reconstruction_loss(x, y, "sse"), sq.sum(1), rtol=1e-6)
    np.testing.assert_allclose(losses.reconstruction_loss(x, y, "optimal_variance"),
                               0.5 * 9 * np.log(sq.mean(1) + 1e-8), rtol=1e-5)
    p, q = ((x + 1) / 2).reshape(2, -1), ((y + 1) / 2).reshape(2, -1)
    np.testing.assert_allclose(losses.reconstruction_loss(x, y, "bernoulli"),
                               -(p * np.log(q) + (1 - p) * np.log(1 - q)).sum(1), rtol=1e-5)
    with pytest.raises(ValueError, match="Known: sse, bernoulli, optimal_variance"):
        losses.reconstruction_loss(x, y, "mse")


def test_kl_matches_closed_form_and_monte_carlo():
    mu, logvar = np.array([[0.5, -1.0]], np.float32), np.array([[0.2, -0.7]], np.float32)
    closed = 0.5 * np.sum(mu ** 2 + np.exp(logvar) - 1 - logvar)
    np.testing.assert_allclose(losses.kl_standard_normal(mu, logvar), [closed], rtol=1e-6)
    z = mu + np.exp(0.5 * logvar) * np.random.default_rng(1).normal(size=(200_000, 2))
    log_q = -0.5 * (((z - mu) ** 2) / np.exp(logvar) + logvar + np.log(2 * np.pi)).sum(1)
    log_p = -0.5 * (z ** 2 + np.log(2 * np.pi)).sum(1)
    assert abs((log_q - log_p).mean() - closed) < 0.01


def test_networks_follow_table_3():
    vae = zoo.build_model("vae", config="fashion32")
    assert vae.encoder.get_layer("flatten").output.shape[-1] == 512  # 4 x 4 x 32
    assert vae.encoder.get_layer("fc").kernel.shape == (512, 128)
    assert [o.shape for o in vae.encoder.outputs] == [(None, 128), (None, 128)]
    assert vae.generator.get_layer("fc").kernel.shape == (128, 512)
    assert vae.generator.output.shape == (None, 32, 32, 1)
    with pytest.raises(ValueError, match="image_size=64 needs log2"):
        zoo.build_model("vae", config="fashion32", image_size=64)


def test_reparameterisation_is_seeded_and_has_the_right_moments():
    mu, logvar = tf.fill([50_000, 2], 1.5), tf.fill([50_000, 2], np.log(0.25).astype(np.float32))
    a, b = Reparameterize(seed=3)(mu, logvar), Reparameterize(seed=3)(mu, logvar)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a.numpy().mean(0), 1.5, atol=0.01)
    np.testing.assert_allclose(a.numpy().std(0), 0.5, atol=0.01)


@pytest.mark.parametrize("beta", [1.0, pytest.param(4.0, marks=pytest.mark.slow)])
def test_training_on_fashion_mnist_lowers_the_loss(beta):
    keras.utils.set_random_seed(0)
    vae = zoo.build_model("vae", config="smoke", beta=beta, reconstruction="sse")
    vae.compile(optimizer=keras.optimizers.Adam(2e-3))
    ds = zoo.load_dataset("fashion_mnist", batch_size=64, image_size=32, repeat=True)
    before = vae.evaluate(ds, steps=4, verbose=0, return_dict=True)
    vae.fit(ds, epochs=1, steps_per_epoch=60, verbose=0)
    after = vae.evaluate(ds, steps=4, verbose=0, return_dict=True)
    assert after["reconstruction"] < 0.7 * before["reconstruction"]
    assert after["loss"] == pytest.approx(after["reconstruction"] + beta * after["kl"], rel=1e-3)
