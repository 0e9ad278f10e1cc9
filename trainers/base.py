"""The training core's base of every zoo model: one ``compile`` shape, its compile-config hooks, the Gaussian
prior's ``generate(n, seed)``, and one logging helper.

``compile(optimizer=None, g_optimizer=None, d_optimizer=None, rotation_optimizer=None, **keras_compile_kwargs)``
takes one named optimizer per network the model trains. Each model declares its networks in ``optimizer_roles()``
(``{role: (default optimizer factory, the variables it updates)}``); a role it does not have is an error naming the
ones it has, a role left out gets the model's documented default. ``optimizer`` is Keras' own (``model.optimizer``,
which Keras wraps in a `keras.optimizers.LossScaleOptimizer` under ``mixed_float16``); the other roles become
attributes, wrapped the same way (`trainers.steps.loss_scaled`). Every optimizer is built on its variables in
the caller's strategy scope.
"""
from __future__ import annotations

import keras

from trainers import strategy as strategy_lib
from trainers.steps import GaussianPrior, loss_scaled

OPTIMIZER_ROLES = ("optimizer", "g_optimizer", "d_optimizer", "rotation_optimizer")
"""The optimizers a zoo ``compile(...)`` takes, by name (each model takes those it has)."""


class Model(GaussianPrior, keras.Model):
    """Base of every zoo model (`trainers.AdversarialModel` and the models that train otherwise).

    ``get_compile_config`` / ``compile_from_config`` serialise each named optimizer, so ``keras.saving.load_model``
    returns a compiled model (Keras' own hooks know one ``optimizer`` only, and warned that the model was not
    compiled); ``compile`` builds the optimizers, so the saved optimizer state loads into them and ``fit``
    continues."""

    def optimizer_roles(self) -> dict:
        """``{role: (default optimizer factory, callable -> the variables it updates)}``; roles from
        ``OPTIMIZER_ROLES``."""
        raise NotImplementedError(f"{type(self).__name__} must declare optimizer_roles().")

    def compile(self, optimizer=None, g_optimizer=None, d_optimizer=None, rotation_optimizer=None, **kwargs):
        given = {"optimizer": optimizer, "g_optimizer": g_optimizer, "d_optimizer": d_optimizer,
                 "rotation_optimizer": rotation_optimizer}
        roles = self.optimizer_roles()
        extra = sorted(k for k, v in given.items() if v is not None and k not in roles)
        if extra:
            raise ValueError(f"{type(self).__name__} trains with {', '.join(roles)}; it has no "
                             f"{', '.join(extra)}.")
        chosen = {role: keras.optimizers.get(given[role]) if given[role] is not None else default()
                  for role, (default, _) in roles.items()}
        super().compile(optimizer=chosen.pop("optimizer", None), **kwargs)
        for role, opt in chosen.items():
            setattr(self, role, loss_scaled(opt))
        for role, (_, variables) in roles.items():
            self.named_optimizer(role).build(list(variables()))
        self.built = True

    def fit(self, *args, **kwargs):
        """Keras' ``fit``; at its end every named optimizer built with ``use_ema=True`` writes its exponential
        moving average into the variables it trains (`finalize_ema`)."""
        history = super().fit(*args, **kwargs)
        self.finalize_ema()
        return history

    def finalize_ema(self) -> list[str]:
        """Overwrite the variables of each optimizer with ``use_ema`` by their moving average (Keras'
        ``finalize_variable_values``, which ``fit`` calls for ``model.optimizer`` only):

            w <- w_ema,   w_ema_t = m * w_ema_{t-1} + (1 - m) * w_t   (m = ``ema_momentum``; w_ema_0 = w_0)

        the generator average of GAN practice (Karras et al. 2018, Yazici et al. 2019) when set on ``g_optimizer``.
        Returns the roles finalised. Non-trainable weights (BatchNorm statistics) are not averaged."""
        done = []
        roles = self.optimizer_roles()
        for role, opt in self._named_optimizers().items():
            inner = getattr(opt, "inner_optimizer", opt)
            if role != "optimizer" and getattr(inner, "use_ema", False):
                opt.finalize_variable_values(list(roles[role][1]()))
                done.append(role)
        return done

    def named_optimizer(self, role: str):
        """The optimizer of `role` (None before ``compile``)."""
        return self.optimizer if role == "optimizer" else getattr(self, role, None)

    def _named_optimizers(self) -> dict:
        found = {role: self.named_optimizer(role) for role in self.optimizer_roles()}
        return {role: opt for role, opt in found.items() if isinstance(opt, keras.optimizers.Optimizer)}

    def get_compile_config(self):
        if not getattr(self, "compiled", False):
            return None
        return {role: keras.optimizers.serialize(opt) for role, opt in self._named_optimizers().items()}

    def compile_from_config(self, config):
        self.compile(**{role: keras.optimizers.deserialize(spec) for role, spec in config.items()
                        if role in OPTIMIZER_ROLES})

    def training_state(self) -> dict:
        """Python-side state (JSON) that `trainers.resume.ExactBackup` must restore before the weights load; the
        variables themselves are in the weights file. Growing models return their stage."""
        return {}

    def restore_training_state(self, state: dict) -> None:
        """Undo `training_state` on a freshly built model (called before the backup's weights load)."""

    def logs(self, trackers=None) -> dict:
        """The step's logs: ``{name: result}`` of `trackers` (default ``self.metrics``), in the form the strategy
        needs (`trainers.strategy.distributed_logs`)."""
        return strategy_lib.distributed_logs({m.name: m.result() for m in (self.metrics if trackers is None
                                                                           else trackers)})


__all__ = ["Model", "OPTIMIZER_ROLES"]
