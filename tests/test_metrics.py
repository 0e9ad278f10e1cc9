"""Metric formulas against hand computations, and sanity on real data with the shipped classifiers."""
import json
import shutil

import numpy as np
import pytest

import zoo
from zoo import metrics
from zoo.metrics import classifier, scores
from zoo.metrics.features import ClassifierFeatures, InceptionFeatures, WeightsHashError


def test_frechet_distance_closed_form():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(20000, 2))
    b = rng.normal(size=(20000, 2)) * 2 + np.array([3.0, 0.0])
    # N(0, I) vs N((3, 0), 4I): 9 + tr(I + 4I - 2*2I) = 9 + 2 = 11.
    assert scores.frechet_distance(a, b) == pytest.approx(11.0, rel=0.03)
    assert scores.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_kid_is_unbiased_near_zero_for_same_distribution():
    rng = np.random.default_rng(1)
    same = scores.kernel_inception_distance(rng.normal(size=(600, 8)), rng.normal(size=(600, 8)), 20, 300)[0]
    shifted = scores.kernel_inception_distance(rng.normal(size=(600, 8)), rng.normal(size=(600, 8)) + 1, 20, 300)[0]
    assert abs(same) < 0.02 and shifted > 0.5


def test_precision_recall_on_hand_made_sets():
    rng = np.random.default_rng(2)
    real = rng.normal(size=(400, 2)).astype(np.float32)
    covered = rng.normal(size=(400, 2)).astype(np.float32)
    collapsed = (rng.normal(size=(400, 2)) * 0.05).astype(np.float32)  # all fakes at the centre
    far = covered + 50
    p, r = scores.precision_recall(real, covered)
    assert p > 0.9 and r > 0.9
    p, r = scores.precision_recall(real, collapsed)
    assert p > 0.95 and r < 0.3  # mode collapse: precise, poor recall
    assert scores.precision_recall(real, far) == (0.0, 0.0)


def test_clustering_error_hungarian_vs_purity():
    labels = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 2])
    clusters = np.array([5, 5, 7, 7, 7, 7, 9, 9, 9, 9])  # clusters 5 -> 0, 7 -> 1, 9 -> 2
    s = scores.clustering_scores(labels, clusters)
    assert s["error"] == pytest.approx(0.1) and s["purity"] == pytest.approx(0.9)
    assert s["mapping"] == {5: 0, 7: 1, 9: 2}
    # Two clusters of one class: purity forgives it, one-to-one matching does not.
    s = scores.clustering_scores(np.array([0, 0, 1, 1]), np.array([0, 1, 2, 2]))
    assert s["purity"] == 1.0 and s["error"] == pytest.approx(0.25)


def test_knn_same_class_rates():
    z = np.array([[0.0], [0.1], [0.25], [10.0], [10.1], [10.3]])
    y = np.array([0, 0, 1, 1, 1, 0])
    rates = scores.knn_same_class_rates(z, y, ks=(1, 2))
    # 1st neighbours: 0->1 (same), 1->0 (same), 2->1 (diff), 3->4 (same), 4->3 (same), 5->4 (diff)
    assert rates[1] == pytest.approx(4 / 6)
    assert rates[2] == 0.0  # 2nd: 0->2, 1->2, 2->0, 3->5, 4->5, 5->3: every one of another class


def test_sharpness_of_flat_and_edged_images():
    flat = np.zeros((2, 8, 8, 1), np.float32)
    edged = flat.copy()
    edged[:, :, 4:] = 1.0
    assert scores.sharpness(flat)[0] == 0.0
    # luminance 0.5 left, 1 right; |Laplacian| is 0.5 on the two columns beside the edge (2 of 6 interior
    # columns): mean |L| = 1/6, mean luminance = 0.75 -> 2/9.
    assert scores.sharpness(edged)[0] == pytest.approx((1 / 6) / 0.75, rel=1e-5)
    blurred = (edged[:, :, 1:] + edged[:, :, :-1]) / 2
    assert scores.sharpness(blurred)[0] < scores.sharpness(edged)[0]


def test_mode_coverage():
    from zoo.data import toy2d

    pts, _ = zoo.load_arrays("ring8", "train", n_points=2000)
    rec = metrics.compute("mode_coverage", points=pts, dataset="ring8", seed=0)
    assert rec.value == 8 and rec.details["high_quality_rate"] > 0.98
    one_mode = toy2d.mode_centers("ring8")[[0]] + np.random.default_rng(0).normal(0, 0.02, (500, 2))
    assert metrics.compute("mode_coverage", points=one_mode, dataset="ring8").value == 1
    noise = np.random.default_rng(0).uniform(-3, 3, (2000, 2))
    assert metrics.compute("mode_coverage", points=noise, dataset="ring8").details["high_quality_rate"] < 0.05


def test_records_carry_protocol_and_append_to_jsonl(tmp_path):
    rec = metrics.compute("clustering", labels=np.array([0, 1, 1]), clusters=np.array([1, 0, 0]), split="test",
                          seed=3)
    assert rec.value == 0.0
    for key in ("feature_network", "feature_sha256", "n_real", "n_fake", "split", "seed", "machine"):
        assert key in rec.protocol
    rec.append_jsonl(tmp_path / "m.jsonl")
    rec.append_jsonl(tmp_path / "m.jsonl")
    lines = [json.loads(x) for x in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert len(lines) == 2 and lines[0]["protocol"]["seed"] == 3 and lines[0]["metric"] == "clustering_error"
    with pytest.raises(ValueError, match="Known metrics: clustering"):
        metrics.compute("fid")


@pytest.mark.parametrize("dataset,target", [("fashion_mnist", 0.90), ("mnist", 0.97)])
def test_shipped_classifier_reaches_its_accuracy_on_the_test_split(dataset, target):
    net = ClassifierFeatures(dataset)
    acc, _ = net.test_accuracy()
    assert acc >= target, acc
    assert acc == pytest.approx(net.entry["test_accuracy"], abs=0.002)  # the manifest's number is reproducible


def test_frechet_distance_real_vs_real_small_and_real_vs_noise_large():
    real_a, test, noise = metrics.sanity_sets(2000, seed=0)  # the project's n for every fd record
    same = metrics.compute("fd_classifier", real=real_a, fake=test, dataset="fashion_mnist", split="test",
                           seed=0)
    far = metrics.compute("fd_classifier", real=real_a, fake=noise, dataset="fashion_mnist", split="test", seed=0)
    assert same.protocol["feature_network"] == "zoo-cnn-fashion_mnist-v1" and same.protocol["n_fake"] == 2000
    assert len(same.protocol["feature_sha256"]) == 64
    assert far.value > 50 * same.value, (same.value, far.value)
    kid_same = metrics.compute("kid_classifier", real=real_a, fake=test, dataset="fashion_mnist", seed=0,
                               n_subsets=10)
    kid_far = metrics.compute("kid_classifier", real=real_a, fake=noise, dataset="fashion_mnist", seed=0, n_subsets=10)
    assert kid_far.value > 50 * max(kid_same.value, 1e-4)
    pr = metrics.compute("precision_recall", real=real_a[:2000], fake=test[:2000], dataset="fashion_mnist")
    assert pr.details["precision"] > 0.6 and pr.details["recall"] > 0.6


def test_conditional_accuracy_of_real_images_is_the_classifier_accuracy():
    xt, yt = zoo.load_arrays("fashion_mnist", "test")
    rec = metrics.compute("conditional_accuracy", fake=xt[:2000], requested=yt[:2000], dataset="fashion_mnist")
    assert rec.value > 0.88 and len(rec.details["per_class"]) == 10


def test_tampered_classifier_weights_fail_the_hash_check(tmp_path):
    shutil.copytree(classifier.WEIGHTS_DIR, tmp_path / "w")
    entry = json.loads((tmp_path / "w" / "manifest.json").read_text())["fashion_mnist"]
    path = tmp_path / "w" / entry["file"]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(WeightsHashError, match="does not match the recorded"):
        ClassifierFeatures("fashion_mnist", weights_dir=tmp_path / "w")


def test_inception_path_needs_user_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("ZOO_INCEPTION_WEIGHTS", raising=False)
    with pytest.raises(FileNotFoundError, match="cannot be downloaded here"):
        InceptionFeatures()


@pytest.mark.slow  # building and saving a 22M-parameter InceptionV3 takes ~20 s of the 2-core machine
def test_inception_feature_path_runs_from_a_user_weights_file(tmp_path):
    # No ImageNet weights exist here: a randomly initialised InceptionV3 saved to a file exercises the same
    # loading, hashing, resizing and grey-to-RGB path that the user's real file goes through.
    import keras

    path = tmp_path / "inception_v3_random.weights.h5"
    keras.applications.InceptionV3(include_top=False, pooling="avg", weights=None,
                                   input_shape=(299, 299, 3)).save_weights(path)
    net = InceptionFeatures(path)
    assert net.sha256 == classifier.sha256_file(path) and net.name == f"inception_v3:{path.name}"
    x, _ = zoo.load_arrays("fashion_mnist", "test")
    feats = net.features(x[:6])
    assert feats.shape == (6, 2048) and np.isfinite(feats).all()
    rec = metrics.compute("fd_inception", real=x[:6], fake=x[6:12], net=net, split="test", seed=0)
    assert rec.metric == "fd_inception" and rec.protocol["feature_sha256"] == net.sha256 and rec.value > 0
