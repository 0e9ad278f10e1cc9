"""``precision="auto"`` (trainers.precision) and the fused BatchNorm that keeps its statistics in float32 under
mixed precision (zoo.layers)."""
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from trainers.precision import PRECISIONS, cpu_flags, resolve_precision
from zoo.layers import BatchNormalization as FusedBatchNormalization


def test_auto_follows_the_hardware_it_is_told(monkeypatch):
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    amx = resolve_precision("auto", flags={"avx512f", "amx_bf16"}, gpus=[], machine="x86_64")
    assert amx.policy == "mixed_bfloat16" and "amx_bf16" in amx.reason and amx.requested == "auto"
    assert resolve_precision("auto", flags={"avx512_bf16"}, gpus=[], machine="x86_64").policy == "mixed_bfloat16"
    assert resolve_precision("auto", flags={"avx2", "avx512f"}, gpus=[], machine="x86_64").policy == "float32"
    assert resolve_precision("auto", flags={"amx_bf16"}, gpus=[], machine="aarch64").policy == "float32"
    assert resolve_precision("auto", flags={"amx_bf16"}, gpus=[(8, 0)], machine="x86_64").policy == "mixed_float16"
    old_gpu = resolve_precision("auto", flags=set(), gpus=[(8, 0), (6, 1)], machine="x86_64")
    assert old_gpu.policy == "float32" and "(6, 1)" in old_gpu.reason
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    off = resolve_precision("auto", flags={"amx_bf16"}, gpus=[], machine="x86_64")
    assert off.policy == "float32" and "TF_ENABLE_ONEDNN_OPTS=0" in off.reason


def test_a_named_precision_is_kept_and_a_wrong_one_is_refused():
    assert resolve_precision("mixed_float16").record() == {"policy": "mixed_float16", "requested": "mixed_float16",
                                                           "reason": "asked for"}
    with pytest.raises(ValueError, match="Unknown precision 'bf16'. Known: auto, float32, mixed_float16"):
        resolve_precision("bf16")
    from zoo_app import cli

    assert cli.PRECISIONS == PRECISIONS


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx512_bf16 amx_tile\nbugs\t\t: spectre\n")
    assert cpu_flags(info) == {"fpu", "sse2", "avx512_bf16", "amx_tile"}
    assert cpu_flags(tmp_path / "absent") == set()


def test_train_records_what_auto_chose(tmp_path):
    from zoo_app.fit import train

    model, _ = train("dcgan", "digits", config="smoke", epochs=1, steps_per_epoch=2, out=tmp_path, verbose=0)
    chosen = resolve_precision("auto")
    assert json.loads((tmp_path / "run.json").read_text())["precision"] == chosen.record()
    assert model.generator.get_layer("up0").dtype_policy.name == chosen.policy
    assert keras.config.dtype_policy().name == "float32"


def _pair(x, momentum=0.9):
    keras_bn = keras.layers.BatchNormalization(momentum=momentum, epsilon=1e-5)
    fused = FusedBatchNormalization(momentum=momentum, epsilon=1e-5)
    keras_bn.build(x.shape)
    fused.build(x.shape)
    rng = np.random.RandomState(1)
    fused.set_weights([rng.uniform(0.5, 1.5, w.shape).astype("float32") for w in keras_bn.get_weights()])
    keras_bn.set_weights(fused.get_weights())
    return keras_bn, fused


def test_fused_batchnorm_equals_keras_in_float32():
    """Outputs, gradients (input, gamma, beta) and moving statistics of two training steps, then inference."""
    x = tf.constant(np.random.RandomState(0).randn(8, 6, 6, 5).astype("float32") * 3 + 1)
    keras_bn, fused = _pair(x)
    weights = tf.range(5, dtype=tf.float32)
    for _ in range(2):
        grads = []
        for layer in (keras_bn, fused):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = layer(x, training=True)
                loss = tf.reduce_sum(y ** 2 * weights)
            grads.append([y] + tape.gradient(loss, [x] + layer.trainable_weights))
        for a, b in zip(*grads):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-4)
    for a, b in zip(keras_bn.get_weights(), fused.get_weights()):  # the moving statistics moved alike
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    assert not np.allclose(fused.moving_variance.numpy(), 1.0)
    np.testing.assert_allclose(keras_bn(x).numpy(), fused(x).numpy(), rtol=1e-5, atol=1e-5)


def test_fused_batchnorm_under_bfloat16_keeps_statistics_in_float32():
    x = tf.constant(np.random.RandomState(0).randn(16, 4, 4, 3).astype("float32") * 50 + 200)
    try:
        keras.config.set_dtype_policy("mixed_bfloat16")
        keras_bn, fused = _pair(x)
        y = fused(x, training=True)
        want = keras_bn(x, training=True)
    finally:
        keras.config.set_dtype_policy("float32")
    assert y.dtype == tf.bfloat16 and fused.moving_mean.dtype == "float32"
    np.testing.assert_allclose(tf.cast(y, tf.float32).numpy(), tf.cast(want, tf.float32).numpy(), atol=0.05)
    # mean 200, std 50: a bfloat16 mean (8 bits of mantissa) would be off by up to 0.5; float32's is exact here
    np.testing.assert_allclose(fused.moving_mean.numpy(), keras_bn.moving_mean.numpy(), rtol=1e-5)


def test_fused_batchnorm_falls_back_where_the_kernel_does_not_apply_and_saves_as_keras_does(tmp_path):
    dense = np.random.RandomState(0).randn(8, 5).astype("float32")
    keras_bn, fused = _pair(dense)
    np.testing.assert_allclose(keras_bn(dense, training=True), fused(dense, training=True), rtol=1e-6, atol=1e-6)
    assert not FusedBatchNormalization(synchronized=True)._fused(tf.zeros([2, 4, 4, 3]), None)
    assert not FusedBatchNormalization(axis=1)._fused(tf.zeros([2, 4, 4, 3]), None)
    assert FusedBatchNormalization()._fused(tf.zeros([2, 4, 4, 3]), None)
    model = keras.Sequential([keras.Input((4, 4, 3)), FusedBatchNormalization(momentum=0.8, name="bn")])
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert type(loaded.get_layer("bn")) is FusedBatchNormalization and loaded.get_layer("bn").momentum == 0.8
    assert not FusedBatchNormalization(fused=False)._fused(tf.zeros([2, 4, 4, 3]), None)
    assert loaded.get_layer("bn").fused and not keras.layers.deserialize(
        keras.layers.serialize(FusedBatchNormalization(fused=False))).fused


def test_weights_saved_from_keras_batchnorm_load_into_the_zoo_layer_and_back(tmp_path):
    """A .weights.h5 addresses layers by snake-cased class name: the presets were saved with Keras' layer."""
    def net(bn):
        return keras.Sequential([keras.Input((4, 4, 3)), keras.layers.Conv2D(3, 1), bn(name="a"), bn(name="b")])

    rng = np.random.RandomState(1)
    source = net(keras.layers.BatchNormalization)
    source.set_weights([rng.randn(*w.shape).astype("float32") ** 2 + 0.1 for w in source.get_weights()])
    source.save_weights(tmp_path / "keras.weights.h5")
    zoo_net = net(FusedBatchNormalization)
    zoo_net.load_weights(tmp_path / "keras.weights.h5")
    for a, b in zip(source.get_weights(), zoo_net.get_weights()):
        np.testing.assert_array_equal(a, b)
    zoo_net.save_weights(tmp_path / "zoo.weights.h5")
    back = net(keras.layers.BatchNormalization)
    back.load_weights(tmp_path / "zoo.weights.h5")
    x = rng.randn(2, 4, 4, 3).astype("float32")
    np.testing.assert_allclose(back(x, training=False), zoo_net(x, training=False), rtol=1e-5, atol=1e-5)


def test_the_dcgan_step_under_bfloat16_runs_the_fused_kernel_on_bfloat16():
    from zoo_app.fit import build_compiled

    model, _ = build_compiled("dcgan", "smoke", dataset="digits", precision="mixed_bfloat16")
    graph = tf.function(model.train_step).get_concrete_function(tf.TensorSpec([4, 16, 16, 1], tf.float32)).graph
    bn = [op for op in graph.get_operations() if op.type == "FusedBatchNormV3"]
    assert bn and all(op.get_attr("T") == tf.bfloat16 and op.get_attr("U") == tf.float32 for op in bn)


def test_auto_stays_float32_for_a_model_too_small_for_mixed_precision_to_pay():
    from zoo_app.fit import build_compiled

    model, cfg = build_compiled("growing_mlp_gan", "smoke", precision="auto")
    assert cfg["precision"]["policy"] == "float32" and "slower than float32" in cfg["precision"]["reason"]
    assert model.generator.dtype_policy.name == "float32"
    assert build_compiled("growing_mlp_gan", "smoke", precision="mixed_bfloat16")[1]["precision"]["policy"] == \
        "mixed_bfloat16"


def test_a_bfloat16_trained_model_exports_a_float32_graph(tmp_path):
    from tensorflow.core.protobuf import saved_model_pb2

    from export import computing_in_float32, export_generator, signatures_for
    from zoo_app.fit import train

    model, _ = train("dcgan", "digits", config="smoke", epochs=1, steps_per_epoch=2, precision="mixed_bfloat16",
                     verbose=0)
    path = export_generator(model, tmp_path)
    proto = saved_model_pb2.SavedModel.FromString((path / "saved_model.pb").read_bytes())
    graph = proto.meta_graphs[0].graph_def
    nodes = list(graph.node) + [n for f in graph.library.function for n in f.node_def]
    dtypes = {a.type for n in nodes for a in n.attr.values() if a.type}
    assert tf.bfloat16.as_datatype_enum not in dtypes and tf.float32.as_datatype_enum in dtypes
    card = json.loads((path / "assets.extra" / "model_card.json").read_text())
    assert card["trained_dtype_policy"] == "mixed_bfloat16" and card["serving_dtype"] == "float32"
    assert model.generator.get_layer("up0").compute_dtype == "bfloat16"  # the model itself is left as it was
    sig = signatures_for(model)["generate_from_seed"]
    served = tf.saved_model.load(str(path)).signatures["generate_from_seed"](seed=tf.constant(3, tf.int64),
                                                                             count=tf.constant(2))
    with computing_in_float32(model):
        want = sig.reference(model, {"seed": np.int64(3), "count": np.int32(2)})
    np.testing.assert_allclose(served["images"].numpy(), np.asarray(want["images"]), atol=1e-6)
