"""`growing_mlp_gan`: the MLP GAN whose latent space grows (Sandström, "Latent Space Growing of GANs", 6.1, 7.1)."""
from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

from trainers.adversarial import AdversarialModel
from trainers.growing import GrowingMixin, replace_networks, transfer_by_name
from zoo.growing_mlp.configs import CONFIGS
from zoo.growing.signatures import walk_block_signatures
from zoo.registry import register_model
from zoo.base import ZooModel
from zoo.signatures import Limits


def mlp(input_dim, hidden, output_dim, name):
    x0 = keras.Input((input_dim,), name="input")
    x = x0
    for i, width in enumerate(hidden):
        x = layers.Dense(width, kernel_initializer="he_normal", name=f"dense{i}")(x)
        x = layers.LeakyReLU(0.2)(x)
    return keras.Model(x0, layers.Dense(output_dim, name="out", dtype="float32")(x), name=name)


@register_model("growing_mlp_gan", family="growing", configs=CONFIGS)
class GrowingMLPGAN(ZooModel, GrowingMixin, AdversarialModel):
    """MLP GAN on 2-D points whose latent dimension grows stage by stage (thesis 6.1).

    Growing from k to m latent dimensions adds m - k zero-initialised columns to the generator's first weight
    matrix (rows of the Keras ``[in, out]`` kernel); the bias and every other weight, and the whole critic, are
    unchanged. Right after growth the generator computes exactly the old function of the first k latents.

    Args:
        latent_schedule: latent size per stage, e.g. ``(1, 2)``; a single entry trains without growth.
        stage_epochs: epochs of every stage but the last (the last runs to the end of fit).
        hidden: widths of the hidden layers (thesis: four of 32) of both networks.
        reset_optimizer: restart the optimizers at growth, as the thesis code did; default False keeps the moments
            of carried-over weights (copied into the leading slice; new entries start at 0).
        stage: the stage to build at (``get_config`` records the current one, so a saved grown model reloads).
        **kwargs: `trainers.AdversarialModel` arguments.

    Decisions the thesis leaves open: the prior is U(-1, 1) of the current latent size (7.1); loss and optimizer
    come from the config (thesis text: non-saturating, RMSprop 1e-3; reference code: WGAN-GP, config
    ``reference``).

    Example:
        >>> import zoo
        >>> model = zoo.build_model("growing_mlp_gan", config="smoke")
        >>> model.compile()
        >>> model.fit(zoo.load_dataset("swiss_roll", batch_size=128), epochs=2, steps_per_epoch=5)  # grows at epoch 1
    """

    auto_precision_float32 = ("small MLPs on 2-D points: mixed_bfloat16 measured slower than float32 "
                              "(bench/model_throughput.json)")

    def __init__(self, latent_schedule=(1, 2), stage_epochs=(1,), hidden=(32, 32, 32, 32), reset_optimizer=False,
                 stage=0, **kwargs):
        schedule = tuple(int(k) for k in latent_schedule)
        if not schedule or any(b <= a for a, b in zip(schedule, schedule[1:])) or schedule[0] < 1:
            raise ValueError(f"latent_schedule must be increasing positive sizes, e.g. (1, 2); got {latent_schedule}.")
        if len(stage_epochs) != len(schedule) - 1 or any(int(e) < 1 for e in stage_epochs):
            raise ValueError(f"stage_epochs needs one positive length per stage but the last: {len(schedule) - 1} for "
                             f"latent_schedule {schedule}; got {tuple(stage_epochs)}.")
        if not 0 <= int(stage) < len(schedule):
            raise ValueError(f"stage must be in 0..{len(schedule) - 1} for latent_schedule {schedule}; got {stage}.")
        kwargs["latent_dim"] = schedule[int(stage)]
        super().__init__(**kwargs)
        self.latent_schedule, self.stage_epochs = schedule, tuple(int(e) for e in stage_epochs)
        self.hidden, self.reset_optimizer = tuple(int(h) for h in hidden), bool(reset_optimizer)
        self.stage = int(stage)
        self.generator = mlp(self.latent_dim, self.hidden, 2, "generator")
        self.discriminator = mlp(2, self.hidden, 1, "discriminator")
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.pop("latent_dim")
        config.update(latent_schedule=self.latent_schedule, stage_epochs=self.stage_epochs, hidden=self.hidden,
                      reset_optimizer=self.reset_optimizer, stage=self.stage)
        return config

    def sample_latent(self, batch_size, seed):
        """z ~ U(-1, 1)^k for the current k (thesis 7.1)."""
        return tf.random.stateless_uniform([batch_size, self.latent_dim], seed=seed, minval=-1.0, maxval=1.0)

    def serving_signatures(self, limits=None):
        """The common signatures and ``walk_block`` (`zoo.growing.signatures`)."""
        limits = limits or Limits()
        return {**super().serving_signatures(limits), **walk_block_signatures(self, limits)}

    def _next_networks(self):
        if self.stage + 1 >= len(self.latent_schedule):
            raise ValueError(f"Already at the last stage (latent {self.latent_dim}) of {self.latent_schedule}.")
        return {"generator": mlp(self.latent_schedule[self.stage + 1], self.hidden, 2, "generator")}

    def _stage_attributes(self, stage):
        return {"stage": stage, "latent_dim": self.latent_schedule[stage]}

    def _grow(self, networks, prepared=None):
        """Next stage: the generator rebuilt with one more input per new latent, every old weight carried, the new
        rows of the first kernel at zero (thesis 6.1); the critic is unchanged."""
        generator = networks["generator"]
        pairs = {"generator": transfer_by_name(self.generator, generator, zero_new=("dense0",))}
        replace_networks(self, pairs, generator=generator, reset_optimizer=self.reset_optimizer, prepared=prepared)
