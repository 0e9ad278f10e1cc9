"""Imports go one way (STYLE.md, "Layers of the house"): each package, imported alone in a fresh process, pulls in
none of the packages above it. trainers (the training core) < zoo (models, data, metrics, registry, presets) <
export (SavedModels of the models) ; serving (SavedModels only) apart ; zoo_app (the CLI and the fit recipe) on top.
"""
import json

import pytest

from tests.conftest import run_python

HOUSE = ("trainers", "zoo", "export", "serving", "zoo_app")
MAY_NOT_IMPORT = {
    "trainers": {"zoo", "export", "serving", "zoo_app"},
    "zoo": {"export", "serving", "zoo_app"},
    "export": {"serving", "zoo_app"},
    "serving": {"trainers", "zoo", "export", "zoo_app"},
    "zoo_app": set(),
}
SUBMODULES = {  # imported too, so a lazily imported module is held to the same rule
    "trainers": ["trainers.adversarial", "trainers.callbacks", "trainers.growing", "trainers.strategy",
                 "trainers.visualize"],
    "zoo": ["zoo.metrics", "zoo.pretrained", "zoo.walks", "zoo.visualize", "zoo.lsr_gan.stages", "zoo.signatures",
            "zoo.base"],
    "export": ["export.saved_model", "export.signatures"],
    "serving": ["serving.server", "serving.rest", "serving.grpc_api", "serving.batching", "serving.client"],
    "zoo_app": ["zoo_app.cli", "zoo_app.fit"],
}


@pytest.mark.parametrize("package", HOUSE)
def test_a_package_imports_nothing_above_it(package):
    code = (f"import importlib, json, sys\n"
            f"for m in {[package] + SUBMODULES[package]!r}: importlib.import_module(m)\n"
            f"print(json.dumps(sorted({{n.split('.')[0] for n in sys.modules}} & {set(HOUSE)!r})))")
    pulled = set(json.loads(run_python(["-c", code]).stdout.strip().splitlines()[-1]))
    assert package in pulled
    assert not pulled & MAY_NOT_IMPORT[package], f"{package} imports {sorted(pulled & MAY_NOT_IMPORT[package])}"
