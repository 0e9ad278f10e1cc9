"""The development server speaks TF Serving's REST and gRPC contract: the official stubs and a plain HTTP client
get the SavedModel's answers for versions and labels, status and metadata have TF Serving's shapes, new versions
are served without a restart, and bad requests get TF Serving's status codes while the server keeps serving."""
import json
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import get_model_status_pb2

import zoo
from export import export_generator
from serving import config as config_lib
from serving.client import GrpcClient, RestClient
from serving.errors import ServingError
from serving.server import App
from tests.conftest import free_ports
from zoo_app.cli import main as zoo_cli

STATE = get_model_status_pb2.ModelVersionStatus.State


def _fit(name, epochs=1):
    model = zoo.build_model(name, config="smoke")
    model.compile()
    model.fit(zoo.load_dataset("digits", batch_size=16, image_size=16).take(2), epochs=epochs, verbose=0)
    return model


@pytest.fixture(scope="module")
def served(serving_exports):
    root = serving_exports["root"]
    app = App(["--port=0", "--rest_api_port=0", f"--model_config_file={serving_exports['config']}",
               "--file_system_poll_wait_seconds=1"])
    app.args.rest_api_port = free_ports(1)[0]
    app.start()
    local = {v: tf.saved_model.load(str(root / "dcgan" / str(v))) for v in (1, 2)}
    yield {"app": app, "root": root, "lgae": serving_exports["lgae"], "local": local,
           "rest": RestClient(f"http://localhost:{app.rest_port}"), "grpc": GrpcClient(f"localhost:{app.grpc_port}")}
    app.stop()


def _latent(n=3, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 16)).astype(np.float32)


def test_config_writer_round_trips_and_the_validator_names_problems(tmp_path):
    (tmp_path / "a").mkdir()
    path = config_lib.write_models_config(tmp_path / "m.config", [
        {"name": "a", "base_path": tmp_path / "a", "versions": [1, 2], "labels": {"stable": 1}},
        {"name": "b", "base_path": tmp_path / "a", "versions": "all"}])
    parsed = config_lib.read_models_config(path)
    first, second = parsed.model_config_list.config
    assert first.name == "a" and first.base_path == str(tmp_path / "a") and first.model_platform == "tensorflow"
    assert list(first.model_version_policy.specific.versions) == [1, 2] and dict(first.version_labels) == {"stable": 1}
    assert config_lib.policy_of(second) == ("all", None)
    with pytest.raises(ValueError, match="listed twice"):
        config_lib.write_models_config(tmp_path / "x", [{"name": "a", "base_path": tmp_path / "a"}] * 2)
    with pytest.raises(ValueError, match="label 'stable' -> version 3"):
        config_lib.write_models_config(tmp_path / "x", [{"name": "a", "base_path": tmp_path / "a", "versions": [1],
                                                         "labels": {"stable": 3}}])
    with pytest.raises(ValueError, match="is not a directory"):
        config_lib.write_models_config(tmp_path / "x", [{"name": "a", "base_path": tmp_path / "missing"}])
    (tmp_path / "bad.config").write_text("model_config_list { config { nme: 'a' } }")
    with pytest.raises(ValueError, match="not a valid ModelServerConfig"):
        config_lib.read_models_config(tmp_path / "bad.config")
    with pytest.raises(ValueError, match="must be absolute"):
        App(["--model_base_path=relative/path"])
    with pytest.raises(SystemExit) as stopped:  # `zoo serve` takes tensorflow_model_server's flags
        zoo_cli(["serve", "--model_base_path=relative/path"])
    assert stopped.value.code == 2


def test_grpc_stub_and_http_get_the_savedmodel_answers_in_row_and_columnar_form(served):
    rest, grpc_client, local = served["rest"], served["grpc"], served["local"]
    z = _latent()
    want = local[2].signatures["serving_default"](latent=tf.constant(z))
    got_grpc = grpc_client.predict("dcgan", {"latent": z})
    got_cols = rest.predict("dcgan", {"latent": z})
    rows = rest.predict("dcgan", instances=[{"latent": row} for row in z])
    bare_rows = rest.predict("dcgan", instances=z.tolist())  # one input: instances may be bare values
    for key in ("images", "images_uint8"):
        np.testing.assert_allclose(got_grpc[key], want[key].numpy(), atol=1e-6)
        np.testing.assert_allclose(got_cols[key], want[key].numpy(), atol=1e-6)
        np.testing.assert_allclose(np.stack([r[key] for r in rows]), want[key].numpy(), atol=1e-6)
        np.testing.assert_allclose(np.stack([r[key] for r in bare_rows]), want[key].numpy(), atol=1e-6)
    seeded = grpc_client.predict("dcgan", {"seed": np.int64(5), "count": np.int32(2)}, signature="generate_from_seed")
    np.testing.assert_allclose(rest.predict("dcgan", {"seed": 5, "count": 2}, signature="generate_from_seed")["images"],
                               seeded["images"], atol=1e-6)
    # several batched inputs in row form: latentgan_ae's generate_from_codes, against the Keras model
    lgae = served["lgae"]
    codes = [{"categorical": [c], "continuous": [0.5] * lgae.codes.continuous,
              "noise": [0.1 * c] * lgae.codes.noise_dim} for c in range(3)]
    rows = rest.predict("lgae", instances=codes, signature="generate_from_codes")
    want = lgae.generate_from_codes([np.arange(3)], np.full((3, lgae.codes.continuous), 0.5),
                                    np.stack([np.full(lgae.codes.noise_dim, 0.1 * c) for c in range(3)]))
    np.testing.assert_allclose(np.stack([r["images"] for r in rows]), want.numpy(), atol=1e-5)


def test_versions_and_labels(served):
    rest, grpc_client, local = served["rest"], served["grpc"], served["local"]
    z = _latent(2, seed=1)
    want = {v: local[v].signatures["serving_default"](latent=tf.constant(z))["images"].numpy() for v in (1, 2)}
    assert np.abs(want[1] - want[2]).max() > 1e-3  # the two versions differ
    for version in (1, 2):
        np.testing.assert_allclose(rest.predict("dcgan", {"latent": z}, version=version)["images"], want[version],
                                   atol=1e-6)
        np.testing.assert_allclose(grpc_client.predict("dcgan", {"latent": z}, version=version)["images"],
                                   want[version], atol=1e-6)
    for label, version in (("stable", 1), ("canary", 2)):
        np.testing.assert_allclose(rest.predict("dcgan", {"latent": z}, label=label)["images"], want[version],
                                   atol=1e-6)
        response = grpc_client.predict_response("dcgan", {"latent": z}, label=label)
        assert response.model_spec.version.value == version
    assert grpc_client.predict_response("dcgan", {"latent": z}).model_spec.version.value == 2  # latest by default


def test_status_and_metadata_have_tf_servings_shapes(served):
    rest, grpc_client = served["rest"], served["grpc"]
    assert rest.status("dcgan") == {"model_version_status": [
        {"version": v, "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}} for v in ("2", "1")]}
    assert rest.status("dcgan", version=1)["model_version_status"][0]["version"] == "1"
    assert rest.status("dcgan", label="canary")["model_version_status"][0]["version"] == "2"
    status = grpc_client.status("dcgan", version=2)
    assert [(s.version, STATE.Name(s.state)) for s in status.model_version_status] == [(2, "AVAILABLE")]
    meta = rest.metadata("dcgan", version=1)
    assert meta["model_spec"] == {"name": "dcgan", "version": "1", "signature_name": ""}
    sigs = meta["metadata"]["signature_def"]["signature_def"]
    assert set(sigs) == {"serving_default", "generate_from_seed", "interpolate", "__saved_model_init_op"}
    assert sigs["serving_default"]["method_name"] == "tensorflow/serving/predict"
    assert sigs["serving_default"]["inputs"]["latent"]["dtype"] == "DT_FLOAT"
    assert [d["size"] for d in sigs["serving_default"]["inputs"]["latent"]["tensor_shape"]["dim"]] == ["-1", "16"]
    grpc_sigs = grpc_client.metadata("lgae")
    assert {"generate_from_codes", "cluster"} <= set(grpc_sigs)
    assert grpc_sigs["cluster"].method_name == "tensorflow/serving/predict"


BAD_REST = [  # (what, method, path, body, status, text in the error)
    ("wrong shape", "POST", "/v1/models/dcgan:predict", {"inputs": {"latent": [[0.0] * 5]}}, 400, "expects [-1, 16]"),
    ("float for an int", "POST", "/v1/models/dcgan:predict",
     {"signature_name": "generate_from_seed", "inputs": {"seed": 1.5, "count": 1}}, 400,
     "JSON Value: 1.5 Type: Number is not of expected type: int64"),
    ("missing input", "POST", "/v1/models/dcgan:predict",
     {"signature_name": "generate_from_seed", "inputs": {"seed": 1}}, 400, "Missing named input: count"),
    ("unknown signature", "POST", "/v1/models/dcgan:predict", {"signature_name": "nope", "inputs": [[0.0] * 16]},
     400, 'signature name: "nope" not found'),
    ("unknown model", "POST", "/v1/models/nope:predict", {"inputs": [[0.0] * 16]}, 404, "Servable not found"),
    ("unknown version", "POST", "/v1/models/dcgan/versions/9:predict", {"inputs": [[0.0] * 16]}, 404,
     "Specific(dcgan, 9)"),
    ("unknown label", "POST", "/v1/models/dcgan/labels/nope:predict", {"inputs": [[0.0] * 16]}, 400,
     "Unrecognized servable version label"),
    ("malformed JSON", "POST", "/v1/models/dcgan:predict", b"{not json", 400, "JSON Parse error"),
    ("empty body", "POST", "/v1/models/dcgan:predict", b"", 400, "The document is empty"),
    ("both forms", "POST", "/v1/models/dcgan:predict", {"inputs": [[0.0] * 16], "instances": [[0.0] * 16]}, 400,
     "expecting only one of 'inputs' or 'instances'"),
    ("bad code value", "POST", "/v1/models/lgae:predict",
     {"signature_name": "generate_from_codes",
      "instances": [{"categorical": [7], "continuous": [0.0], "noise": [0.0] * 4}]},
     400, "K=3"),
    # bounded work inside the SavedModel (export.signatures.Limits)
    ("count over max_outputs", "POST", "/v1/models/dcgan:predict",
     {"signature_name": "generate_from_seed", "inputs": {"seed": 0, "count": 2000}}, 400, "count must be <= 256"),
    ("steps = 10^9", "POST", "/v1/models/dcgan:predict", {"signature_name": "interpolate", "inputs": {
        "latent_a": [[0.0] * 16], "latent_b": [[0.0] * 16], "steps": 10 ** 9}}, 400, "steps must be <= 256"),
    ("batch over max_outputs", "POST", "/v1/models/dcgan:predict", {"inputs": [[0.0] * 16] * 257}, 400,
     "the batch of input latent must be <= 256"),
    ("latent Infinity", "POST", "/v1/models/dcgan:predict", b'{"inputs": [[Infinity' + b", 0" * 15 + b"]]}", 400,
     "input latent must be finite"),
    # no silent conversion (json_tensor.cc's type rules)
    ("count 2^32 + 1", "POST", "/v1/models/dcgan:predict",
     {"signature_name": "generate_from_seed", "inputs": {"seed": 0, "count": 4294967297}}, 400,
     "JSON Value: 4294967297 Type: Number is not of expected type: int32"),
    ("seed 2^63", "POST", "/v1/models/dcgan:predict",
     {"signature_name": "generate_from_seed", "inputs": {"seed": 2 ** 63, "count": 1}}, 400,
     "is not of expected type: int64"),
    ("count true", "POST", "/v1/models/dcgan:predict",
     {"signature_name": "generate_from_seed", "inputs": {"seed": 0, "count": True}}, 400,
     "JSON Value: true Type: True is not of expected type: int32"),
    ("latent 1e39", "POST", "/v1/models/dcgan:predict", b'{"inputs": [[1e39' + b", 0" * 15 + b"]]}", 400,
     "out of range for float32"),
    ("ragged list", "POST", "/v1/models/dcgan:predict", {"inputs": [[0.0] * 16, [0.0] * 15]}, 400,
     "Encountered list at unexpected size: 15 at level: 1 expected size: 16"),
    ("ragged instances", "POST", "/v1/models/dcgan:predict", {"instances": [[0.0] * 16, [0.0] * 15]}, 400,
     "Failed to process element: 1 of 'instances' list"),
    ("100-deep nesting", "POST", "/v1/models/dcgan:predict", b'{"inputs": ' + b"[" * 100 + b"0" + b"]" * 100 + b"}",
     400, "nested 100 lists deep"),
    ("100000-deep nesting", "POST", "/v1/models/dcgan:predict", b'{"inputs": ' + b"[" * 100000 + b"]" * 100000 + b"}",
     400, "JSON Parse error"),
    ("signature_name a list", "POST", "/v1/models/dcgan:predict", {"signature_name": ["x"], "inputs": [[0.0] * 16]},
     400, "'signature_name' key must be a string value"),
    ("body not an object", "POST", "/v1/models/dcgan:predict", b"[1, 2]", 400, "Is not object"),
    # TF Serving's answers for other methods and paths
    ("classify", "POST", "/v1/models/dcgan:classify", {"examples": []}, 400,
     "Expected classification signature method_name to be tensorflow/serving/classify. Was: "
     "tensorflow/serving/predict"),
    ("regress", "POST", "/v1/models/dcgan:regress", {"examples": []}, 400,
     "Expected regression signature method_name to be tensorflow/serving/regress"),
    ("PUT", "PUT", "/v1/models/dcgan:predict", {"inputs": [[0.0] * 16]}, 400, "Malformed request: PUT"),
    ("DELETE", "DELETE", "/v1/models/dcgan", None, 400, "Malformed request: DELETE"),
    ("unknown path", "GET", "/v1/nothing", None, 400, "Malformed request"),
]


@pytest.mark.parametrize("what,method,path,body,status,text", BAD_REST, ids=[b[0] for b in BAD_REST])
def test_bad_rest_requests_get_tf_serving_errors_and_the_server_keeps_serving(served, what, method, path, body,
                                                                              status, text):
    rest = served["rest"]
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    req = urllib.request.Request(rest.url + path, data=data, method=method)
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(req, timeout=60)
    assert caught.value.code == status
    payload = json.loads(caught.value.read())
    assert set(payload) == {"error"} and text in payload["error"], payload
    assert rest.predict("dcgan", {"latent": _latent(1)})["images"].shape == (1, 16, 16, 1)  # still serving


def test_bad_grpc_requests_get_tf_serving_codes(served):
    grpc_client = served["grpc"]
    cases = [({"latent": _latent()[:, :4]}, {}, "INVALID_ARGUMENT", "expects [-1, 16]"),
             ({"latent": _latent().astype(np.float64)}, {}, "INVALID_ARGUMENT", "must be float32"),
             ({"latent": _latent()}, {"version": 9}, "NOT_FOUND", "Specific(dcgan, 9)"),
             ({"latent": _latent()}, {"signature": "nope"}, "INVALID_ARGUMENT", "not found in signature def")]
    for inputs, kwargs, code, text in cases:
        with pytest.raises(ServingError) as caught:
            grpc_client.predict("dcgan", inputs, **kwargs)
        assert caught.value.code == code and text in caught.value.message
    with pytest.raises(ServingError, match="NOT_FOUND"):
        grpc_client.status("nope")
    assert grpc_client.predict("dcgan", {"latent": _latent(1)})["images"].shape == (1, 16, 16, 1)


def test_new_versions_are_served_without_a_restart_and_config_reloads(served, tmp_path):
    base = tmp_path / "sngan"
    model = _fit("sngan")
    export_generator(model, base)
    app = App(["--port=0", "--model_name=sngan", f"--model_base_path={base}", "--file_system_poll_wait_seconds=1"])
    app.start()
    try:
        client = GrpcClient(f"localhost:{app.grpc_port}")
        z = np.zeros((1, model.latent_dim), np.float32)
        before = client.predict("sngan", {"latent": z})["images"]
        model.fit(zoo.load_dataset("digits", batch_size=16, image_size=16).take(2), epochs=1, verbose=0)
        export_generator(model, base)  # version 2 dropped in while serving
        deadline = time.time() + 30
        while client.predict_response("sngan", {"latent": z}).model_spec.version.value != 2:
            assert time.time() < deadline, "version 2 was not picked up"
            time.sleep(0.2)
        after = client.predict("sngan", {"latent": z})["images"]
        np.testing.assert_allclose(after, model.generator(z, training=False).numpy(), atol=1e-5)
        assert np.abs(after - before).max() > 1e-4
        states = {s.version: STATE.Name(s.state) for s in client.status("sngan").model_version_status}
        assert states == {2: "AVAILABLE", 1: "END"}  # the latest-version policy unloaded 1
        # ModelService.HandleReloadConfigRequest: serve the dcgan exports under a new name instead
        client.reload_config(config_lib.single_model_config("renamed", served["root"] / "dcgan"))
        assert client.predict_response("renamed", {"latent": _latent(1)}).model_spec.version.value == 2
        with pytest.raises(ServingError, match="NOT_FOUND"):
            client.predict("sngan", {"latent": z})
    finally:
        app.stop()


@pytest.mark.parametrize("kind", ["uvloop", "asyncio"])
def test_both_event_loops_serve_grpc_and_rest(served, monkeypatch, kind):
    """uvloop is the fronts' loop where installed (the serving extra pins it); ``ZOO_SERVING_LOOP=asyncio`` falls
    back to asyncio's, and both answer as the SavedModel does, batching on."""
    monkeypatch.setenv("ZOO_SERVING_LOOP", kind)
    app = App(["--port=0", f"--rest_api_port={free_ports(1)[0]}", "--model_name=dcgan",
               f"--model_base_path={served['root'] / 'dcgan'}", "--enable_batching"])
    app.start()
    try:
        for loop in (app.grpc_server.loop, app.rest.loop):
            assert (type(loop).__module__.split(".")[0] == "uvloop") == (kind == "uvloop"), type(loop)
        z = _latent(2)
        want = served["local"][2].signatures["serving_default"](latent=tf.constant(z))["images"].numpy()
        got = GrpcClient(f"localhost:{app.grpc_port}").predict("dcgan", {"latent": z})["images"]
        np.testing.assert_allclose(got, want, atol=1e-6)
        np.testing.assert_allclose(RestClient(f"http://localhost:{app.rest_port}").predict(
            "dcgan", {"latent": z})["images"], want, atol=1e-6)
    finally:
        app.stop()
