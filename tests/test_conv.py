"""zoo.conv: strided convolutions whose weight gradient runs as a dilated forward convolution, and whose
transposed convolutions to one channel run as a matmul and an overlap-add."""
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo import conv

CASES = [(cls, size, k, s, pad) for cls in ("Conv2D", "Conv2DTranspose") for size, k, s, pad in (
    ((8, 8), 4, 2, "same"), ((9, 7), 3, 2, "same"), ((9, 7), 2, 2, "valid"), ((16, 12), 5, 3, "same"),
    ((16, 12), 4, 3, "valid"), ((7, 7), 1, 2, "same"))]


def _pair(cls, k, s, pad, dtype):
    return [getattr(conv, cls)(4, k, strides=s, padding=pad, use_bias=True, weight_gradient=wg, dtype=dtype)
            for wg in ("native", "dilated")]


def _step(layer, x):
    """Output and the gradients of a loss that weighs every output entry differently."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.cast(layer(x), tf.float64)
        loss = tf.reduce_sum(y ** 3)
    return [y] + tape.gradient(loss, [x] + layer.trainable_weights)


@pytest.mark.parametrize("cls,size,k,s,pad", CASES)
def test_the_dilated_weight_gradient_is_tfs_gradient_for_any_stride_padding_and_size(cls, size, k, s, pad):
    x = tf.constant(np.random.RandomState(0).randn(3, *size, 5))
    native, dilated = _pair(cls, k, s, pad, "float64")
    native.build(x.shape), dilated.build(x.shape)
    dilated.set_weights(native.get_weights())
    for a, b in zip(_step(native, x), _step(dilated, x)):  # output, input, kernel and bias gradients
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("size,k,s,cin,cout", [((8, 8), 4, 2, 5, 1), ((5, 3), 5, 2, 2, 3), ((4, 6), 3, 3, 1, 2),
                                                ((4, 4), 1, 2, 3, 1), ((3, 3), 6, 3, 2, 1), ((4, 4), 2, 2, 3, 2)])
def test_the_matmul_transposed_convolution_is_tfs_for_any_kernel_stride_and_size(size, k, s, cin, cout):
    """``same``: TF's padding before each axis is max(k - s, 0) // 2; kernels smaller than the stride leave phases
    no tap reaches (zeros)."""
    rng = np.random.RandomState(3)
    x, w = tf.constant(rng.randn(2, *size, cin)), tf.constant(rng.randn(k, k, cout, cin))
    want = tf.nn.conv2d_transpose(x, w, [2, size[0] * s, size[1] * s, cout], s, "SAME")
    np.testing.assert_allclose(conv.matmul_conv_transpose(x, w, s, max(k - s, 0) // 2), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cls,size,k,s", [("Conv2D", (8, 8), 4, 2), ("Conv2D", (9, 6), 3, 3), ("Conv2D", (8, 8), 1, 2),
                                          ("Conv2DTranspose", (4, 4), 4, 2), ("Conv2DTranspose", (5, 3), 5, 2)])
def test_the_matmul_narrow_transpose_gives_tfs_output_and_gradients_alone_and_with_the_dilated_gradient(
        cls, size, k, s):
    """A 1-channel input (Conv2D: its input gradient) or a 1-filter Conv2DTranspose (its forward pass)."""
    x = tf.constant(np.random.RandomState(4).randn(2, *size, 1 if cls == "Conv2D" else 3))
    weights, results = None, {}
    for narrow in ("native", "matmul"):
        for wg in ("native", "dilated"):
            layer = getattr(conv, cls)(3 if cls == "Conv2D" else 1, k, strides=s, padding="same", dtype="float64",
                                       narrow_transpose=narrow, weight_gradient=wg)
            layer.build(x.shape)
            weights = weights or [np.random.RandomState(5).randn(*w.shape) for w in layer.get_weights()]
            layer.set_weights(weights)
            results[narrow, wg] = tf.function(lambda x, layer=layer: _step(layer, x))(x)
    for key, got in results.items():
        for a, b in zip(results["native", "native"], got):  # output, input, kernel and bias gradients
            np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-10, atol=1e-10, err_msg=str(key))


@pytest.mark.parametrize("cls", ["Conv2D", "Conv2DTranspose"])
def test_auto_takes_the_matmul_narrow_transpose_for_one_channel_in_any_precision(cls):
    def ops(channels, policy="float32", narrow="auto", size=8, padding="same", kernel=4):
        layer = getattr(conv, cls)(8 if cls == "Conv2D" else channels, kernel, strides=2, padding=padding,
                                   narrow_transpose=narrow, dtype=policy)
        x = tf.zeros([2, size, size, channels if cls == "Conv2D" else 8])

        @tf.function
        def grad(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = layer(x)
                loss = tf.reduce_sum(tf.cast(y, tf.float32))
            return [y] + tape.gradient(loss, [x, layer.kernel])
        return {n.op for n in _runs(grad.get_concrete_function(x).graph).node}

    transpose = "Conv2DBackpropInput"  # TF's kernel for a transposed convolution
    assert transpose not in ops(1) and transpose not in ops(1, "mixed_bfloat16")
    assert transpose in ops(3) and transpose in ops(1, narrow="native")
    assert transpose not in ops(3, narrow="matmul")
    assert transpose in ops(1, narrow="matmul", padding="valid")  # only `same` has the matmul form
    assert transpose in ops(1, narrow="matmul", kernel=(4, 3))  # and only square kernels
    if cls == "Conv2D":
        assert transpose in ops(1, narrow="matmul", size=9)  # a side the stride does not divide


def _runs(graph):
    """The part of a traced graph that runs: what its outputs and side effects depend on (TF's Conv2D gradient also
    builds the gradient nothing reads, which is pruned before it runs)."""
    return tf.compat.v1.graph_util.extract_sub_graph(
        graph.as_graph_def(), [t.op.name for t in graph.outputs] + [op.name for op in graph.control_outputs])


def _ops(layer, x):
    @tf.function
    def grad(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.cast(layer(x), tf.float32))
        return tape.gradient(loss, layer.kernel)
    return {op.type for op in grad.get_concrete_function(x).graph.get_operations()}


@pytest.mark.parametrize("cls", ["Conv2D", "Conv2DTranspose"])
def test_auto_takes_the_dilated_form_only_in_bfloat16_on_a_cpu_with_enough_channels(cls):
    def ops(channels, policy, weight_gradient="auto", strides=2):
        cin = channels if cls == "Conv2D" else 8
        layer = getattr(conv, cls)(channels if cls == "Conv2DTranspose" else 8, 4, strides=strides,
                                   padding="same", weight_gradient=weight_gradient, dtype=policy)
        return _ops(layer, tf.zeros([2, 8, 8, cin]))

    backprop = "Conv2DBackpropFilter"
    wide, narrow = conv.MIN_CHANNELS, conv.MIN_CHANNELS // 2
    assert backprop not in ops(wide, "mixed_bfloat16")
    assert backprop in ops(narrow, "mixed_bfloat16")
    assert backprop in ops(wide, "float32")
    assert backprop in ops(wide, "mixed_bfloat16", "native")
    assert backprop not in ops(narrow, "float32", "dilated")
    assert backprop in ops(wide, "mixed_bfloat16", "dilated", strides=1)  # stride 1: nothing to gain, TF's kernel


def test_under_bfloat16_the_dilated_gradient_is_as_close_to_the_exact_one_as_tfs():
    x = tf.constant(np.random.RandomState(1).randn(16, 16, 16, 64).astype("float32"))
    exact = conv.Conv2D(64, 4, strides=2, padding="same", weight_gradient="native", dtype="float64")
    exact.build(x.shape)
    want = _step(exact, tf.cast(x, tf.float64))[2].numpy()
    errors = {}
    for wg in ("native", "dilated"):
        layer = conv.Conv2D(64, 4, strides=2, padding="same", weight_gradient=wg, dtype="mixed_bfloat16")
        layer.build(x.shape)
        layer.set_weights([w.astype("float32") for w in exact.get_weights()])
        grad = _step(layer, x)[2].numpy()
        errors[wg] = np.abs(grad - want).max() / np.abs(want).max()
    assert errors["dilated"] < 1e-2 and errors["dilated"] < 2 * errors["native"], errors


def test_the_layers_save_load_and_refuse_an_unknown_weight_gradient(tmp_path):
    """Keras' class names and variables: weights saved from Keras' layers load into them, and the option
    round-trips through a .keras file."""
    def net(c2d, c2dt, **kw):
        return keras.Sequential([keras.Input((8, 8, 3)), c2d(4, 4, strides=2, padding="same", **kw),
                                 c2dt(2, 4, strides=2, padding="same", **kw)])

    source = net(keras.layers.Conv2D, keras.layers.Conv2DTranspose)
    rng = np.random.RandomState(2)
    source.set_weights([rng.randn(*w.shape).astype("float32") for w in source.get_weights()])
    source.save_weights(tmp_path / "keras.weights.h5")
    zoo_net = net(conv.Conv2D, conv.Conv2DTranspose, weight_gradient="dilated")
    zoo_net.load_weights(tmp_path / "keras.weights.h5")
    x = rng.randn(2, 8, 8, 3).astype("float32")
    np.testing.assert_allclose(zoo_net(x), source(x), rtol=1e-5, atol=1e-5)
    zoo_net.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert [type(layer) for layer in loaded.layers] == [conv.Conv2D, conv.Conv2DTranspose]
    assert {layer.weight_gradient for layer in loaded.layers} == {"dilated"}
    assert {layer.narrow_transpose for layer in loaded.layers} == {"auto"}
    with pytest.raises(ValueError, match="Unknown weight_gradient 'fast'. Known: auto, native, dilated"):
        conv.Conv2D(4, 3, weight_gradient="fast")
    with pytest.raises(ValueError, match="Unknown narrow_transpose 'dilated'. Known: auto, native, matmul"):
        conv.Conv2DTranspose(4, 3, narrow_transpose="dilated")
    with pytest.raises(ValueError, match="Unknown zoo.conv option narrow_transpose='fast'"):
        conv.configure([zoo_net], narrow_transpose="fast")
    conv.configure([zoo_net], weight_gradient="native", narrow_transpose="matmul")
    assert [(la.weight_gradient, la.narrow_transpose) for la in zoo_net.layers] == [("native", "matmul")] * 2


def test_the_dcgan_step_under_bfloat16_takes_the_dilated_weight_gradients_and_the_matmul_narrow_transposes():
    """Of the ops the traced step runs (those its outputs and variable updates depend on), which compute weight
    gradients: TF's kernel only for the 1-channel layers, the dilated convolution for the others (``quick``: base
    32), and none for D's weights in the G step (pruned as before); which run transposed convolutions: TF's kernel
    for the wide ones (G's up-sampling, D's input gradients but the first), the matmul form for the 1-channel ones
    (G's to_image in both G calls, D's first input gradient, needed only in the G step)."""
    from zoo_app.fit import build_compiled

    model, _ = build_compiled("dcgan", "quick", dataset="digits", precision="mixed_bfloat16")
    graph = tf.function(model.train_step).get_concrete_function(tf.TensorSpec([4, 32, 32, 1], tf.float32)).graph
    runs = _runs(graph)

    def layers(found):  # "[gradient_tape/]discriminator_1/down2_1/..." -> "discriminator_1/down2"
        return sorted("/".join(n.name.removeprefix("gradient_tape/").split("/")[:2]).rsplit("_", 1)[0]
                      for n in runs.node if found(n))
    native = layers(lambda n: n.op == "Conv2DBackpropFilter")
    dilated = layers(lambda n: n.op == "Conv2D" and list(n.attr["dilations"].list.i) == [1, 2, 2, 1])
    d_real, d_fake, g = "discriminator_1", "discriminator_3", "generator_3"  # D step's two D calls, G step's G
    assert native == sorted([f"{d_real}/down0", f"{d_fake}/down0", f"{g}/to_image"])
    assert dilated == sorted([f"{d}/down{i}" for d in (d_real, d_fake) for i in (1, 2)] + [f"{g}/up0", f"{g}/up1"])
    g_in_d_step, d_in_g_step = "generator_1", "discriminator_5"
    transposed = layers(lambda n: n.op == "Conv2DBackpropInput")
    assert transposed == sorted([f"{d}/down{i}" for d in (d_real, d_fake, d_in_g_step) for i in (1, 2)]
                                + [f"{gen}/up{i}" for gen in (g_in_d_step, g) for i in (0, 1)])
    matmul = layers(lambda n: n.op == "DepthToSpace")
    assert matmul == sorted([f"{g_in_d_step}/to_image", f"{g}/to_image", f"{d_in_g_step}/down0"])


MIRRORED = """
import json, numpy as np, tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import json

import keras
from zoo import conv
x, y = np.random.RandomState(0).randn(8, 8, 8, 4).astype("float32"), np.linspace(-1, 1, 8, dtype="float32")[:, None]
weights = {}
for name, strategy, wg in (("one", tf.distribute.get_strategy(), "native"),
                           ("two", tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]), "dilated")):
    with strategy.scope():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((8, 8, 4)), conv.Conv2D(6, 4, strides=2, padding="same",
                                  weight_gradient=wg), keras.layers.Flatten(), keras.layers.Dense(1)])
        model.compile(keras.optimizers.SGD(0.05), "mse")
    start = model.get_weights()[0]
    model.fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=False)
    weights[name] = (start, model.get_weights()[0], strategy.num_replicas_in_sync)
(s1, w1, r1), (s2, w2, r2) = weights["one"], weights["two"]
print(json.dumps({"replicas": [r1, r2], "same_start": bool(np.array_equal(s1, s2)),
                  "moved": float(np.abs(w1 - s1).max()), "diff": float(np.abs(w1 - w2).max())}))
"""


def test_the_dilated_gradient_trains_like_tfs_under_mirrored_strategy():
    """2 replicas (2 logical CPUs) with the dilated weight gradient end where one device with TF's ends."""
    from tests.conftest import run_python

    got = json.loads(run_python(["-c", MIRRORED]).stdout.strip().splitlines()[-1])
    assert got["replicas"] == [1, 2] and got["same_start"] and got["moved"] > 1e-3
    assert got["diff"] < 1e-5, got
