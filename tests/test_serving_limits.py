"""The development server cannot be taken down by one request: bounded memory, time, threads and connections;
TF Serving's flags for them; the remaining contract details; and real request batching. All traffic is on
loopback, bounded in count and time."""
import concurrent.futures
import json
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

from serving import batching
from serving.client import GrpcClient, RestClient
from serving.errors import ServingError
from serving.server import App
from tests.conftest import free_ports
from tests.test_serving import BAD_REST


def _app(serving_exports, *flags):
    app = App(["--port=0", f"--rest_api_port={free_ports(1)[0]}", f"--model_config_file={serving_exports['config']}",
               *flags])
    return app.start()


@pytest.fixture(scope="module")
def server(serving_exports):
    app = _app(serving_exports, "--rest_api_timeout_in_ms=1500", "--rest_api_num_threads=3",
               "--grpc_channel_arguments=grpc.max_receive_message_length=200000")
    yield app
    app.stop()


@pytest.fixture(scope="module")
def batched(serving_exports):
    app = _app(serving_exports, "--enable_batching",
               f"--batching_parameters_file={serving_exports['root'] / 'batching.config'}")
    yield app
    app.stop()


def _post(port, path, body, timeout=30):
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def _ok(port):
    status, body = _post(port, "/v1/models/dcgan:predict", {"inputs": [[0.0] * 16]})
    assert status == 200, body
    return json.loads(body)


def test_no_single_bad_request_grows_the_server_by_200_mb_or_stops_it(server):
    """The server runs in this process: its RSS is ours. Each of the bad requests of test_serving, the large ones
    included (count 2000, steps 10^9, 100000-deep nesting), is answered 4xx within the time bound, RSS stays
    within +200 MB of what it was after a first good request, and a good request still succeeds."""
    _ok(server.rest_port)
    base = _rss_mb()
    for what, method, path, body, status, text in BAD_REST:
        if method != "POST":
            continue
        start = time.monotonic()
        got, payload = _post(server.rest_port, path, body)
        assert got == status and text in json.loads(payload)["error"], (what, payload[:300])
        assert time.monotonic() - start < 5, what
        assert _rss_mb() - base < 200, (what, _rss_mb() - base)
    assert _ok(server.rest_port)["outputs"]["images"]


def test_bad_content_length_and_half_sent_requests_cannot_pin_the_server(server):
    port = server.rest_port
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:  # answered at once, no thread blocked
        s.sendall(b"POST /v1/models/dcgan:predict HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n")
        data = s.recv(64)
        assert data.startswith(b"HTTP/1.") and b" 400 " in data.split(b"\r\n")[0], data
    threads = threading.active_count()
    half = []
    for i in range(200):  # headers, or a body, never finished
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"POST /v1/models/dcgan:predict HTTP/1.1\r\nHost: x\r\n" + (
            b"Content-Length: 100\r\n\r\n{\"inp" if i % 2 else b""))
        half.append(s)
    start = time.monotonic()
    assert _ok(port) and time.monotonic() - start < 5  # still serving, at once
    assert threading.active_count() <= threads + 2  # a connection costs a coroutine, not a thread
    for s in half:  # each is closed (or answered 504) by the 1.5 s --rest_api_timeout_in_ms, none is kept
        data = s.recv(200)
        assert data == b"" or b" 504 " in data.split(b"\r\n")[0], data[:100]
        s.close()
    assert time.monotonic() - start < 10


def test_rest_bodies_are_bounded_in_size(serving_exports):
    import http.client

    small = App(["--port=0", f"--rest_api_port={free_ports(1)[0]}", f"--model_config_file={serving_exports['config']}",
                 "--rest_api_max_request_bytes=1000"]).start()
    try:
        status, body = _post(small.rest_port, "/v1/models/dcgan:predict", {"inputs": [[0.0] * 16] * 100})
        assert status == 413 and "--rest_api_max_request_bytes" in json.loads(body)["error"]
        conn = http.client.HTTPConnection("127.0.0.1", small.rest_port, timeout=10)  # chunked: no Content-Length
        conn.request("POST", "/v1/models/dcgan:predict", body=iter([b'{"inputs": [', b"0.0," * 500, b"0.0]}"]),
                     encode_chunked=True)
        response = conn.getresponse()
        assert response.status == 413 and "--rest_api_max_request_bytes" in json.loads(response.read())["error"]
        conn.close()
        assert _ok(small.rest_port)
    finally:
        small.stop()


def test_listens_on_loopback_with_a_real_backlog(server):
    listening = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                if state == "0A":  # LISTEN
                    addr, port = local.rsplit(":", 1)
                    listening.setdefault(int(port, 16), set()).add(addr)
    for port in (server.rest_port, server.grpc_port):
        # 127.0.0.1, ::1, ::ffff:127.0.0.1
        loopback = {"0100007F", "00000000000000000000000001000000", "0000000000000000FFFF00000100007F"}
        assert listening[port] <= loopback, (port, listening[port])
    ss = subprocess.run(["ss", "-ltnH", f"sport = :{server.rest_port}"], capture_output=True, text=True)
    if ss.returncode == 0 and ss.stdout.strip():
        assert int(ss.stdout.split()[2]) >= 1024  # Send-Q of a listening socket = its backlog
    url = f"http://127.0.0.1:{server.rest_port}/v1/models/dcgan"
    with concurrent.futures.ThreadPoolExecutor(32) as pool:  # an 800-request burst, every one answered
        codes = list(pool.map(lambda _: urllib.request.urlopen(url, timeout=30).status, range(800)))
    assert codes == [200] * 800


def test_tf_serving_flags_are_taken(server, serving_exports):
    assert server.rest.threads == 3 and server.rest.timeout_s == 1.5
    App(["--model_name=x", f"--model_base_path={serving_exports['root'] / 'dcgan'}",
         "--tensorflow_session_parallelism=2", "--enable_model_warmup=false", "--num_load_threads=4",
         "--rest_api_enable_cors_support"])
    with pytest.raises(SystemExit):
        App(["--grpc_channel_arguments=nonsense", f"--model_config_file={serving_exports['config']}"])
    # warmup replayed at load (--enable_model_warmup, default on): dcgan's one batchable signature, once
    assert server.repository.resolve("dcgan", 2).warmup_runs == 1
    cold = App(["--port=0", "--model_name=d", f"--model_base_path={serving_exports['root'] / 'dcgan'}",
                "--enable_model_warmup=false"])
    assert cold.repository.resolve("d").warmup_runs == 0
    # --grpc_channel_arguments: this server takes at most 200,000-byte messages
    client = GrpcClient(f"localhost:{server.grpc_port}")
    with pytest.raises(ServingError, match="RESOURCE_EXHAUSTED"):
        client.predict("dcgan", {"latent": np.zeros((5000, 16), np.float32)})
    assert client.predict("dcgan", {"latent": np.zeros((2, 16), np.float32)})["images"].shape == (2, 16, 16, 1)


def test_grpc_takes_more_than_4_mb_by_default(batched):
    client = GrpcClient(f"localhost:{batched.grpc_port}")
    # 6 MB over gRPC (TF Serving's limit is INT_MAX; the dev server's 32 MiB), refused by the batch limit, not size
    with pytest.raises(ServingError, match="Task size 100000 is larger than maximum input batch size 8"):
        client.predict("dcgan", {"latent": np.zeros((100_000, 16), np.float32)})


def test_contract_details(server):
    rest, grpc_client = RestClient(f"http://127.0.0.1:{server.rest_port}"), GrpcClient(f"localhost:{server.grpc_port}")
    sigs = rest.metadata("dcgan")["metadata"]["signature_def"]["signature_def"]
    assert "__saved_model_init_op" in sigs and "__saved_model_init_op" in grpc_client.metadata("dcgan")
    assert rest.request("GET", "/v1/models/dc%67an")["model_version_status"]  # the name is URL-decoded
    assert rest.request("GET", "/v1/models/dcgan/labels/st%61ble")["model_version_status"][0]["version"] == "1"
    extra = rest.predict("dcgan", {"seed": 0, "count": 2, "unused": [1, 2]}, signature="generate_from_seed")
    assert extra["images"].shape == (2, 16, 16, 1)  # an extra columnar key is ignored, as TF Serving does
    with pytest.raises(ServingError, match="INVALID_ARGUMENT.*output tensor alias not found in signature: nope"):
        grpc_client.predict("dcgan", {"latent": np.zeros((1, 16), np.float32)}, output_filter=["nope"])
    only = grpc_client.predict("dcgan", {"latent": np.zeros((1, 16), np.float32)}, output_filter=["images_uint8"])
    assert set(only) == {"images_uint8"}
    with pytest.raises(ServingError, match="Expected classification signature method_name"):
        from tensorflow_serving.apis import classification_pb2

        grpc_client._call(grpc_client.prediction.Classify,
                          grpc_client.spec(classification_pb2.ClassificationRequest(), "dcgan"))
    # floats at float32's shortest round trip, as TF Serving writes them (not float64's 17 digits)
    status, body = _post(server.rest_port, "/v1/models/dcgan:predict", {"inputs": [[0.3] * 16]})
    assert status == 200, body
    images = json.loads(body)["outputs"]["images"]
    tokens = body.decode().replace("[", ",").replace("]", ",").split(",")
    floats = [t for t in tokens if "." in t]
    # significant digits: float32's shortest round trip needs at most 9 (float64's repr of a float32 needs up to
    # 17); counted without sign, exponent and leading zeros, since -0.0000029009548 is as short as -2.9009548e-06
    digits = [len(t.lstrip("-").split("e")[0].replace(".", "").lstrip("0")) for t in floats]
    assert floats and max(digits) <= 9, max(zip(digits, floats))
    np.testing.assert_array_equal(np.asarray(images, np.float32),
                                  np.asarray([float(t) for t in floats], np.float32).reshape(np.shape(images)))


def test_concurrent_requests_are_batched_and_split_back(batched, serving_exports):
    client = GrpcClient(f"localhost:{batched.grpc_port}")
    rest = RestClient(f"http://127.0.0.1:{batched.rest_port}")
    z = np.random.default_rng(0).normal(size=(8, 16)).astype(np.float32)
    want = client.predict("dcgan", {"latent": z})["images"]  # one request of 8 rows
    batcher = batched.repository.resolve("dcgan").batchers["serving_default"]
    before = batcher.batches

    def one(i):
        call = client.predict if i % 2 else (lambda m, x: rest.predict(m, x))
        return call("dcgan", {"latent": z[i:i + 1]})["images"]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        got = list(pool.map(one, range(8)))
    np.testing.assert_allclose(np.concatenate(got), want, atol=1e-6)  # each request gets its own rows back
    assert batcher.batches - before < 8  # merged: fewer model runs than requests
    with pytest.raises(ServingError, match="Task size 9 is larger than maximum input batch size 8"):
        client.predict("dcgan", {"latent": np.zeros((9, 16), np.float32)})
    with pytest.raises(ServingError, match="must have at least one dimension"):  # as TF Serving's batching session
        client.predict("dcgan", {"seed": np.int64(0), "count": np.int32(2)}, signature="generate_from_seed")


def test_batcher_pads_to_allowed_sizes_and_refuses_when_its_queue_is_full(tmp_path):
    seen, gate = [], threading.Event()

    def run(inputs):
        gate.wait(10)
        seen.append(inputs["x"].shape[0])
        return {"y": inputs["x"] * 2}

    path = tmp_path / "b.config"
    path.write_text("max_batch_size { value: 8 }\nbatch_timeout_micros { value: 100000 }\n"
                    "max_enqueued_batches { value: 1 }\nnum_batch_threads { value: 1 }\n"
                    "allowed_batch_sizes: 4\nallowed_batch_sizes: 8\n")
    b = batching.Batcher(run, batching.read_options(path))
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        first = [pool.submit(b.submit, {"x": np.full((n, 1), n, np.float32)}) for n in (1, 2)]
        time.sleep(0.3)  # the first batch (3 rows) is running, held by the gate
        queued = pool.submit(b.submit, {"x": np.ones((8, 1), np.float32)})
        time.sleep(0.1)
        with pytest.raises(ServingError, match="batch scheduling queue to which this task was submitted is full"):
            b.submit({"x": np.ones((1, 1), np.float32)})
        gate.set()
        outs = [f.result(10)["y"] for f in first]
        assert queued.result(10)["y"].shape == (8, 1)
    assert [o.ravel().tolist() for o in outs] == [[2.0], [4.0, 4.0]]
    assert seen == [4, 8]  # 3 rows padded to 4 (copies of the last task's first row), then 8
    b.stop()
    path.write_text("max_batch_size { value: 8 }\nallowed_batch_sizes: 3\n")
    with pytest.raises(ValueError, match="end with max_batch_size"):
        batching.read_options(path)
    path.write_text("max_batch_size: 8\n")
    with pytest.raises(ValueError, match="not a valid BatchingParameters"):
        batching.read_options(path)
