"""What every zoo model has beyond training (which `trainers` gives it): its serving signatures and keras-hub's
preset API. Each model class lists `ZooModel` first among its bases."""
from __future__ import annotations

from zoo.pretrained import load_pretrained, save_preset
from zoo.signatures import ServingSignatures


class ZooModel(ServingSignatures):
    """``serving_signatures(limits)`` (`zoo.signatures`), ``Class.from_preset(spec)`` and
    ``model.save_to_preset(directory, ...)``.

    ``auto_precision_float32``: a reason, on models whose networks are too small for mixed precision to pay (the
    casts cost more than the bfloat16 matmuls save, measured in bench/model_throughput.json); ``precision="auto"``
    then stays float32 for them (`zoo_app.fit.build_compiled`).
    """

    auto_precision_float32 = None

    @classmethod
    def from_preset(cls, spec, **kwargs):
        """The preset `spec` (name, directory or URL; `zoo.from_preset`), checked to be of this class."""
        model = load_pretrained(spec, **kwargs)
        if not isinstance(model, cls):
            raise ValueError(f"Preset {spec!r} is a {type(model).__name__} ({model.zoo_name}), not a {cls.__name__}: "
                             f"load it with zoo.from_preset({spec!r}).")
        return model

    def save_to_preset(self, directory, **card):
        """Write this model as a preset directory (`zoo.pretrained.save_preset`: weights, card, samples)."""
        return save_preset(self, directory, **card)
