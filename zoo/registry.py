"""One registry for the zoo's models.

`@register_model("name", family=...)` both lists a model under its zoo name and registers the class
with `keras.saving` (package ``latent_zoo``), so `keras.saving.load_model` can rebuild it from its
config.  Each method package also registers its training configs (``smoke``, ``default``, ...): a
config is a dict with the model's constructor kwargs under ``"model"`` and the fit recipe (batch size,
epochs, optimizers) under ``"train"``.

Example:
    >>> import zoo
    >>> zoo.list_models()
    ['dcgan']
    >>> model = zoo.build_model("dcgan", config="smoke")
"""
from __future__ import annotations

import copy
import difflib
import inspect
import warnings

import keras

_MODELS: dict[str, type] = {}
_FAMILIES: dict[str, str] = {}
_CONFIGS: dict[str, dict[str, dict]] = {}
_ALIASES: dict[str, str] = {}  # old name -> registered name (each lookup by an old name warns)


def _unknown(kind: str, name: str, known, of: str = "") -> ValueError:
    known = sorted(known)
    close = difflib.get_close_matches(str(name), known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ValueError(f"Unknown {kind} {name!r}{of}.{hint} Known {kind}s: {', '.join(known)}.")


def register_model(name: str, *, family: str, configs: dict[str, dict] | None = None, aliases: tuple = ()):
    """Class decorator: register a `keras.Model` subclass under `name`.

    Args:
        name: the zoo name (`zoo train NAME`).
        family: the method family (``baseline``, ``growing``, ``vae_gan``, ``latent_distribution``).
        configs: named training configs, ``{"smoke": {"model": {...}, "train": {...}}, ...}``.
        aliases: former names, still accepted everywhere a name is, with a DeprecationWarning naming the new one.
    """

    def decorate(cls):
        if name in _MODELS and _MODELS[name] is not cls:
            raise ValueError(f"Model name {name!r} is already registered by {_MODELS[name].__name__}.")
        keras.saving.register_keras_serializable(package="latent_zoo", name=cls.__name__)(cls)
        _MODELS[name] = cls
        _FAMILIES[name] = family
        _CONFIGS[name] = dict(configs or {})
        cls.zoo_name = name
        _ALIASES.update({alias: name for alias in aliases})
        return cls

    return decorate


def list_models() -> list[str]:
    """Names of every registered model, sorted (former names, the aliases, are not listed)."""
    return sorted(_MODELS)


def canonical_name(name: str) -> str:
    """The registered name of `name`: itself, or the model a former name (an alias) now stands for, with a
    DeprecationWarning; an unknown name raises with the known ones."""
    if name in _ALIASES:
        warnings.warn(f"Model name {name!r} is deprecated: use {_ALIASES[name]!r}.", DeprecationWarning, stacklevel=3)
        return _ALIASES[name]
    if name not in _MODELS:
        raise _unknown("model", name, _MODELS)
    return name


def model_family(name: str) -> str:
    return _FAMILIES[canonical_name(name)]


def get_model_class(name: str) -> type:
    return _MODELS[canonical_name(name)]


def list_configs(name: str) -> list[str]:
    return sorted(_CONFIGS[canonical_name(name)])


def get_config(name: str, config: str = "default") -> dict:
    """A deep copy of the named training config of model `name`."""
    name = canonical_name(name)
    if config not in _CONFIGS[name]:
        raise _unknown("config", config, _CONFIGS[name], of=f" of model {name!r}")
    return copy.deepcopy(_CONFIGS[name][config])


def build_model(name: str, config: str = "default", **overrides) -> keras.Model:
    """Build model `name` from its named config; keyword overrides replace constructor kwargs.

    Unknown keyword arguments raise with the list of the constructor's known ones.
    """
    cls = get_model_class(name)
    kwargs = get_config(name, config)["model"]
    kwargs.update(overrides)
    check_kwargs(cls, kwargs)
    return cls(**kwargs)


def constructor_defaults(cls) -> dict:
    """``{keyword: default}`` of `cls` and the zoo base classes it passes ``**kwargs`` to (the nearest class's
    default wins); Keras' own ``name``, ``dtype`` and ``trainable`` default to None."""
    defaults = {}
    for klass in cls.__mro__:
        if klass.__module__.startswith("keras"):
            break
        for p, v in inspect.signature(klass.__init__).parameters.items():
            if p != "self" and v.kind not in (v.VAR_KEYWORD, v.VAR_POSITIONAL):
                defaults.setdefault(p, v.default)
    return {**{k: None for k in ("name", "dtype", "trainable")}, **defaults}


def constructor_args(cls) -> set[str]:
    """Keyword arguments accepted by `cls` and the zoo base classes it passes ``**kwargs`` to."""
    return set(constructor_defaults(cls))


def check_kwargs(cls, kwargs: dict) -> None:
    """Raise naming the unknown keys and listing the known ones."""
    known = constructor_args(cls)
    unknown = sorted(set(kwargs) - known)
    if unknown:
        raise ValueError(f"Unknown argument(s) {', '.join(map(repr, unknown))} for {cls.__name__}. "
                         f"Known arguments: {', '.join(sorted(known))}.")
