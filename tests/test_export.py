"""Every registered model, after a tiny real training run, exports to a TF Serving SavedModel whose signatures
run in a process with keras blocked and return what the Keras model returns in-process (to 1e-5).

Each signature's reference is declared next to it by the model (``Signature.reference``: the same request through
the model's public Python API, ``generate``, ``encode``, ``cluster``, ``zoo.walks``, ...), so a new model is covered
with no change here, and a signature that drifts from its method fails.
"""
import json
import subprocess

import numpy as np
import pytest
import tensorflow as tf

import zoo
from export import computing_in_float32, export_generator, signatures_for
from export.saved_model import batchable
from tests.conftest import SCRIPTS, run_python, signatures_without_keras, slow_unless
from zoo_app.fit import train

DATA = {"growing_mlp_gan": "swiss_roll", "vae": "fashion_mnist", "lsr_gan": "fashion_mnist",
        "lsc_vae": "fashion_mnist", "lsc_gan": "fashion_mnist"}
COMMON = {"serving_default", "generate_from_seed", "interpolate"}
SIZE_INPUTS = {"count", "steps", "rows", "steps_between", "keyframes"}


def reference(model, signature, x) -> dict:
    """What the Keras model returns in-process for `signature` with inputs `x` (the signature's own reference),
    computing in float32 as the export does whatever the model was trained in."""
    with computing_in_float32(model):
        return signatures_for(model)[signature].reference(model, x)


# The default tier exports four models: the common signatures (dcgan), LSC's attributes and encoder (lsc_gan), a
# growing CNN's block walks (cggan), LatentGAN-AE's codes and clusters (its signatures and generate_like also run
# keras-blocked on presets in test_presets); the slow tier (`pytest -m slow`) the other ten too. Each export of a
# trained smoke model takes ~15 s of the 2-core machine.
CORE = ("dcgan", "lsc_gan", "cggan", "latentgan_ae")
GROUPS = {"core": CORE, "rest": tuple(n for n in zoo.list_models() if n not in CORE)}


class Exports:
    """{name: (model, export dir, {signature: inputs}, {signature: outputs without keras}, saved_model_cli text)},
    made a group at a time on first use: two epochs of two steps each (growing models grow after epoch 1, two-stage
    models start their GAN stage), then one keras-free process runs the group's signatures."""

    def __init__(self, root):
        self.root, self.made = root, {}

    def group(self, group: str) -> dict:
        names = GROUPS[group]
        if names[0] not in self.made:
            rng, made = np.random.default_rng(0), {}
            for name in names:
                model, _ = train(name, DATA.get(name, "digits"), config="smoke", epochs=2, steps_per_epoch=2, verbose=0)
                path = export_generator(model, self.root / name,
                                        model_card={"config": "smoke", "dataset": DATA.get(name, "digits")})
                made[name] = (model, path, {sig: s.example(3, rng) for sig, s in signatures_for(model).items()})
            (self.root / group).mkdir()
            out, shown = signatures_without_keras(self.root / group, {p: inputs for _, p, inputs in made.values()})
            self.made.update({name: (model, path, inputs, out[str(path)], shown[str(path)])
                              for name, (model, path, inputs) in made.items()})
        return {name: self.made[name] for name in names}

    def __getitem__(self, name):
        return self.group("core" if name in CORE else "rest")[name]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    return Exports(tmp_path_factory.mktemp("exports"))


def test_every_model_declares_the_common_signatures_with_references():
    for name in zoo.list_models():
        declared = signatures_for(zoo.build_model(name, config="smoke"))
        assert COMMON <= set(declared), name
        assert all(callable(s.reference) and callable(s.example) for s in declared.values()), name


@pytest.mark.parametrize("name", slow_unless(zoo.list_models(), CORE))
def test_export_signatures_match_keras_without_keras(exported, name):
    model, path, inputs, outputs, shown = exported[name]
    declared = set(signatures_for(model))
    listed = {s for s in declared if f"signature_def['{s}']:" in shown}
    assert listed == declared
    assert shown.count("Method name is: tensorflow/serving/predict") == len(declared)
    assert set(outputs) == declared
    for sig, x in inputs.items():
        want = reference(model, sig, x)
        assert set(outputs[sig]) == set(want), sig
        for key, value in want.items():
            got = outputs[sig][key]
            assert got.shape == np.shape(value), (sig, key)
            if got.dtype == np.uint8:  # rounding of x.5 may differ by one level between the two float paths
                assert np.max(np.abs(got.astype(int) - np.asarray(value, int))) <= 1, (sig, key)
            else:
                np.testing.assert_allclose(got, np.asarray(value), atol=1e-5, err_msg=f"{name} {sig} {key}")
    card = json.loads((path / "assets.extra" / "model_card.json").read_text())
    assert card["method"] == name and card["config"] == "smoke" and card["training_steps"] > 0
    assert set(card["signatures"]) == declared
    warmup = list(tf.data.TFRecordDataset(str(path / "assets.extra" / "tf_serving_warmup_requests")))
    assert len(warmup) == sum(batchable(s) for s in signatures_for(model).values()) >= 1
    assert card["limits"] == {"max_outputs": 256, "max_abs_value": 1e6}


def test_saved_model_cli_lists_the_predict_signatures(exported):
    """The real command line, once (every export above went through the same function in one process)."""
    _, path, *_ = exported["lsc_gan"]
    shown = subprocess.run(["saved_model_cli", "show", "--dir", str(path), "--all"], capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    declared = signatures_for(exported["lsc_gan"][0])
    assert shown.stdout.count("Method name is: tensorflow/serving/predict") == len(declared)
    assert "signature_def['edit']" in shown.stdout and "signature_def['generate_with_attributes']" in shown.stdout


def test_bad_codes_are_an_invalid_argument_naming_k(exported):
    model, path, *_ = exported["latentgan_ae"]
    loaded = tf.saved_model.load(str(path))
    k = model.codes.categorical[0]
    with pytest.raises(tf.errors.InvalidArgumentError, match=f"K={k}"):
        loaded.signatures["generate_from_codes"](categorical=tf.constant([[k]], tf.int32),
                                                 continuous=tf.zeros([1, model.codes.continuous]),
                                                 noise=tf.zeros([1, model.codes.noise_dim]))


def test_versions_are_atomic_and_immutable(exported, tmp_path):
    model = exported["dcgan"][0]
    base = tmp_path / "m"
    assert export_generator(model, base).name == "1"
    assert export_generator(model, base).name == "2"
    assert export_generator(model, base, version=7).name == "7"
    assert export_generator(model, base).name == "8"
    with pytest.raises(FileExistsError, match="versions are immutable"):
        export_generator(model, base, version=2)
    assert sorted(p.name for p in base.iterdir()) == ["1", "2", "7", "8"]  # no temporary directory left


def _bad_requests(name, signatures, inputs):
    """``{case: (signature, inputs, texts)}``, the error naming one of `texts`: for every signature, each size input
    far over max_outputs, each float input with an inf, and every batched input one row over max_outputs; plus
    the good example itself (texts None). (When several bounds fail, TF reports one of them.)"""
    cases = {}
    for sig, x in inputs.items():
        cases[f"{name}.{sig}.ok"] = (sig, x, None)
        for key, value in x.items():
            if key in SIZE_INPUTS:
                cases[f"{name}.{sig}.{key}_huge"] = (sig, {**x, key: np.asarray(10 ** 9, value.dtype)},
                                                     (f"{key} must be <= 256", "images asked for"))
            if value.dtype == np.float32:
                bad = value.copy()
                bad.flat[0] = np.inf
                cases[f"{name}.{sig}.{key}_inf"] = (sig, {**x, key: bad}, (f"input {key} must be finite",))
        batched = {s.name for s in signatures[sig].fn.input_signature if s.shape.rank and s.shape[0] is None}
        if batched:
            big = {k: np.repeat(v[:1], 257, axis=0) if k in batched else v for k, v in x.items()}
            cases[f"{name}.{sig}.batch_257"] = (sig, big, ("must be <= 256",))
    return cases


@pytest.mark.parametrize("group", slow_unless(GROUPS, ("core",)))
def test_every_signature_bounds_its_inputs_when_run_as_tf_serving_runs_it(exported, tmp_path, group):
    """Run by tensor names in a tf.compat.v1 Session with keras blocked (TF Serving's C++ path): the examples
    equal the eager keras-free outputs, and every oversized or non-finite input is an InvalidArgumentError that
    names the input and the limit, before any work (bounded in the SavedModel, so real TF Serving is too)."""
    cases, feed = {}, {}
    for name, (model, path, inputs, outputs, _) in exported.group(group).items():
        for case, (sig, x, text) in _bad_requests(name, signatures_for(model), inputs).items():
            cases[case] = (name, sig, text)
            feed.update({f"{case}|{path}|{sig}|{k}": v for k, v in x.items()})
    np.savez(tmp_path / "cases.npz", **feed)
    run_python([SCRIPTS / "session_run_without_keras.py", tmp_path / "cases.npz", tmp_path / "out.json"])
    result = json.loads((tmp_path / "out.json").read_text())
    assert set(result) == set(cases)
    for case, (name, sig, text) in cases.items():
        got = result[case]
        if text is None:
            assert got["error"] is None, (case, got["error"])
            for key, want in exported[name][3][sig].items():
                np.testing.assert_allclose(np.asarray(got["outputs"][key], want.dtype), want, atol=1e-5,
                                           err_msg=case)
        else:
            assert got["error"] and got["error"].startswith("InvalidArgumentError"), (case, got["error"])
            assert any(t in got["error"] for t in text), (case, got["error"])
    # the bad cases really were generated: every signature that every model of the group declares has at least one
    declared = {(name, sig) for name, (model, *_) in exported.group(group).items() for sig in signatures_for(model)}
    assert {(name, sig) for name, sig, t in cases.values() if t is not None} == declared


def test_limits_are_configurable_at_export_and_recorded(exported, tmp_path):
    from export import Limits

    model = exported["dcgan"][0]
    path = export_generator(model, tmp_path / "m", limits=Limits(max_outputs=4))
    card = json.loads((path / "assets.extra" / "model_card.json").read_text())
    assert card["limits"]["max_outputs"] == 4
    loaded = tf.saved_model.load(str(path))
    assert loaded.signatures["generate_from_seed"](seed=tf.constant(0, tf.int64), count=tf.constant(4))[
        "images"].shape[0] == 4
    with pytest.raises(tf.errors.InvalidArgumentError, match="count must be <= 4"):
        loaded.signatures["generate_from_seed"](seed=tf.constant(0, tf.int64), count=tf.constant(5))
    with pytest.raises(ValueError, match="max_outputs >= 1"):
        Limits(max_outputs=0)
    assert batchable(signatures_for(model)["serving_default"]) and not batchable(
        signatures_for(model)["generate_from_seed"])
