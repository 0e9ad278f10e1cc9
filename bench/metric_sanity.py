"""Metric sanity on real data, with the shipped classifiers: writes bench/results/metric_sanity.json.

    python bench/metric_sanity.py

Fréchet distance (project classifier features, not Inception) and KID between 5,000 random Fashion-MNIST train
images (seed 0) and (a) the first 5,000 test images, (b) 5,000 uniform-noise images in [-1, 1] (seed 0);
and each shipped classifier's accuracy on its test split.
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zoo import metrics  # noqa: E402
from zoo.metrics.features import ClassifierFeatures  # noqa: E402


def main():
    real, test, noise = metrics.sanity_sets(5000, seed=0)
    out = {}
    for name, fake in (("train_vs_test", test), ("train_vs_noise", noise)):
        for metric in ("fd_classifier", "kid_classifier"):
            rec = metrics.compute(metric, real=real, fake=fake, dataset="fashion_mnist", split="train vs " + (
                "test" if "test" in name else "uniform noise"), seed=0)
            out[f"{metric}:{name}"] = rec.to_dict()
            print(rec)
    for dataset in ("fashion_mnist", "mnist"):
        net = ClassifierFeatures(dataset)
        acc, n = net.test_accuracy()
        out[f"accuracy:{dataset}"] = {"value": acc, "n_test": n, "network": net.name, "sha256": net.sha256,
                                      "data": net.entry["data"]}
        print(f"{net.name} test accuracy {acc:.4f} on {n} images ({net.entry['data']})")
    path = Path(__file__).parent / "results" / "metric_sanity.json"
    path.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
