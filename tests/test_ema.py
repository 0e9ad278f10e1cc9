"""The generator's exponential moving average (``use_ema`` on ``g_optimizer``): the weights a GAN ends ``fit`` with
are w_ema_t = m w_ema_{t-1} + (1 - m) w_t of its generator's raw weights, the discriminator is not averaged, and a
growth carries each average into the grown variable's leading slice (new entries start at the variable)."""
import keras
import numpy as np
import tensorflow as tf

import zoo
from trainers.growing import rebuild_optimizer


class RawWeights(keras.callbacks.Callback):
    """The generator's and discriminator's raw weights after every step (before fit's end overwrites G)."""

    def __init__(self):
        super().__init__()
        self.g, self.d = [], []

    def on_train_batch_end(self, batch, logs=None):
        self.g.append([v.numpy().copy() for v in self.model.generator.trainable_variables])
        self.d.append([v.numpy().copy() for v in self.model.discriminator.trainable_variables])


def test_fit_ends_with_the_generator_average_and_a_raw_discriminator():
    model = zoo.build_model("dcgan", config="smoke")
    m = 0.8
    model.compile(g_optimizer=keras.optimizers.Adam(1e-2, beta_1=0.5, use_ema=True, ema_momentum=m),
                  d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5))
    start = [v.numpy().copy() for v in model.generator.trainable_variables]
    raw = RawWeights()
    model.fit(zoo.load_dataset("fashion_mnist", "train", 16, image_size=model.image_size, repeat=True, seed=0),
              epochs=1, steps_per_epoch=6, verbose=0, callbacks=[raw])
    # Keras' update runs inside the step after the weights moved: step 1 sets the average to w_1 (momentum 0 at
    # iteration 0), then ema = m ema + (1 - m) w_t
    ema = raw.g[0]
    for weights in raw.g[1:]:
        ema = [m * e + (1 - m) * w for e, w in zip(ema, weights)]
    final = [v.numpy() for v in model.generator.trainable_variables]
    for f, e, last, s in zip(final, ema, raw.g[-1], start):
        np.testing.assert_allclose(f, e, rtol=1e-5, atol=1e-6)
    assert max(np.abs(f - last).max() for f, last in zip(final, raw.g[-1])) > 1e-4  # not the raw weights
    for f, last in zip(model.discriminator.trainable_variables, raw.d[-1]):
        np.testing.assert_array_equal(f.numpy(), last)
    assert model.finalize_ema() == ["g_optimizer"]


def test_growth_carries_the_average_into_the_leading_slice_and_starts_new_entries_at_the_variable():
    opt = keras.optimizers.Adam(1e-2, use_ema=True, ema_momentum=0.5)
    old = keras.Variable(np.ones((2, 3), np.float32))
    opt.build([old])
    for _ in range(3):
        opt.apply_gradients([(tf.fill((2, 3), 2.0), old)])
    average = opt._model_variables_moving_average[0].numpy()
    assert not np.allclose(average, old.numpy())  # an average of the path, not the last value
    new = keras.Variable(np.arange(12, dtype=np.float32).reshape(4, 3))
    grown = rebuild_optimizer(opt, [(old, new)], [new])
    after = grown._model_variables_moving_average[0].numpy()
    np.testing.assert_array_equal(after[:2], average)
    np.testing.assert_array_equal(after[2:], new.numpy()[2:])
    reset = rebuild_optimizer(opt, [(old, new)], [new], reset=True)  # reset: the average restarts at the variable
    np.testing.assert_array_equal(reset._model_variables_moving_average[0].numpy(), new.numpy())


def test_a_growing_model_trains_through_a_growth_with_the_average():
    model = zoo.build_model("cggan", config="smoke", stage_epochs=(1,), fade_epochs=1)
    model.compile(g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.0, beta_2=0.99, use_ema=True, ema_momentum=0.9),
                  d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.0, beta_2=0.99))
    raw = RawWeights()
    model.fit(zoo.load_dataset("fashion_mnist", "train", 8, image_size=model.image_size, repeat=True, seed=0),
              epochs=2, steps_per_epoch=3, verbose=0, callbacks=[raw])
    assert model.stage == 1
    final = [v.numpy() for v in model.generator.trainable_variables]
    assert [f.shape for f in final] == [w.shape for w in raw.g[-1]]
    assert all(np.isfinite(f).all() for f in final)
    assert max(np.abs(f - w).max() for f, w in zip(final, raw.g[-1])) > 0  # averaged across the growth


def test_the_ema_study_sweep_is_the_optimizer_average_across_a_growth():
    """scripts/ema_study.py measures the average in numpy beside an unchanged training: it must be what
    ``use_ema=True`` computes inside the step, through a growth too."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("ema_study", Path(__file__).parents[1] / "scripts" / "ema_study.py")
    study = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(study)
    model = zoo.build_model("cggan", config="smoke", stage_epochs=(1,), fade_epochs=1)
    model.compile(g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.0, use_ema=True, ema_momentum=0.9),
                  d_optimizer=keras.optimizers.Adam(1e-3))
    sweep = study.sweep_callback((0.9,))
    model.fit(zoo.load_dataset("fashion_mnist", "train", 8, image_size=model.image_size, repeat=True, seed=0),
              epochs=2, steps_per_epoch=3, verbose=0, callbacks=[sweep])
    assert model.stage == 1
    for v in model.generator.trainable_variables:
        np.testing.assert_allclose(v.numpy(), sweep.ema[0.9][v.path], rtol=1e-5, atol=1e-6)
