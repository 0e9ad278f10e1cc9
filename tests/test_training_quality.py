"""Slow: the README's main job really learns Fashion-MNIST (run with `pytest -m slow`)."""
import pytest

from zoo_app.fit import train
from zoo import metrics


@pytest.mark.slow
def test_quick_config_learns_fashion_mnist(tmp_path):
    model, history = train("dcgan", "fashion_mnist", config="quick", out=tmp_path / "run", verbose=0)
    assert len(history.history["d_loss"]) == 3
    fd, pr = metrics.evaluate_generator(model, "fashion_mnist", ("fd_classifier", "precision_recall"), n_fake=2000,
                                        n_real=2000, seed=0)
    # Uniform noise scores ~104 in these features and real test images 0.085 (bench/metric_sanity.py);
    # the README's run scored 37.3 with this protocol.
    assert fd.value < 60, fd
    assert pr.details["precision"] > 0.5, pr
