"""``models.config``: TF Serving's ModelServerConfig in protobuf text format, written and validated with
tensorflow-serving-api's own ``model_server_config_pb2`` (so what passes here parses in tensorflow_model_server).

    >>> write_models_config("models.config", [{"name": "dcgan", "base_path": "/models/dcgan",
    ...                                        "versions": [1, 2], "labels": {"stable": 1, "canary": 2}}])
    >>> config = read_models_config("models.config")   # validated ModelServerConfig

Version policy (TF Serving's ``model_version_policy``): ``versions=None`` serves the latest version (``latest
{num_versions: 1}``); ``versions="all"`` every version; ``versions=[1, 2]`` exactly those (``specific``);
``latest=N`` the N newest. Labels map a name to a version (``version_labels``); TF Serving only accepts a label for a
version the policy serves.
"""
from __future__ import annotations

from pathlib import Path

from google.protobuf import text_format


def _pb():
    from tensorflow_serving.config import model_server_config_pb2

    return model_server_config_pb2


def model_config(name: str, base_path, versions=None, latest: int | None = None, labels: dict | None = None):
    """One ``ModelConfig`` (platform ``tensorflow``)."""
    pb = _pb()
    cfg = pb.ModelConfig(name=name, base_path=str(Path(base_path).resolve()), model_platform="tensorflow")
    if versions == "all":
        cfg.model_version_policy.all.SetInParent()
    elif versions is not None:
        cfg.model_version_policy.specific.versions.extend(int(v) for v in versions)
    elif latest is not None:
        cfg.model_version_policy.latest.num_versions = int(latest)
    for label, version in (labels or {}).items():
        cfg.version_labels[label] = int(version)
    return cfg


def write_models_config(path, models: list[dict]) -> Path:
    """Write ``model_config_list`` for `models` (kwargs of :func:`model_config`), validated; returns the path."""
    config = _pb().ModelServerConfig()
    config.model_config_list.config.extend(model_config(**m) for m in models)
    validate(config)
    path = Path(path)
    path.write_text(text_format.MessageToString(config))
    return path


def parse_models_config(text: str, source: str = "models.config"):
    try:
        return text_format.Parse(text, _pb().ModelServerConfig())
    except text_format.ParseError as err:
        raise ValueError(f"{source} is not a valid ModelServerConfig text proto: {err}. Expected e.g. "
                         "model_config_list { config { name: 'm' base_path: '/models/m' model_platform: "
                         "'tensorflow' } }") from None


def read_models_config(path):
    """Parse and validate a ``models.config`` file."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"--model_config_file {path} does not exist.")
    config = parse_models_config(path.read_text(), str(path))
    validate(config, source=str(path))
    return config


def single_model_config(name: str, base_path):
    """What ``--model_name`` / ``--model_base_path`` mean: one model, latest version."""
    config = _pb().ModelServerConfig()
    config.model_config_list.config.append(model_config(name, base_path))
    return config


def policy_of(cfg) -> tuple[str, object]:
    """``("latest", N)``, ``("all", None)`` or ``("specific", [versions])``."""
    which = cfg.model_version_policy.WhichOneof("policy_choice")
    if which == "all":
        return "all", None
    if which == "specific":
        return "specific", sorted(cfg.model_version_policy.specific.versions)
    return "latest", cfg.model_version_policy.latest.num_versions or 1


def validate(config, source: str = "models.config") -> None:
    """Raise ValueError naming every problem: no models, duplicate names, relative or missing base paths, a
    platform other than tensorflow, an empty specific policy, labels on versions the policy does not serve."""
    problems = []
    if config.WhichOneof("config") != "model_config_list" or not config.model_config_list.config:
        problems.append("it lists no model (model_config_list { config { ... } })")
    seen = set()
    for cfg in config.model_config_list.config:
        where = f"model {cfg.name!r}"
        if not cfg.name:
            problems.append("a model has no name")
        if cfg.name in seen:
            problems.append(f"{where} is listed twice")
        seen.add(cfg.name)
        if not cfg.base_path:
            problems.append(f"{where} has no base_path")
        elif not Path(cfg.base_path).is_absolute():
            problems.append(f"{where}: base_path {cfg.base_path!r} must be absolute")
        elif not Path(cfg.base_path).is_dir():
            problems.append(f"{where}: base_path {cfg.base_path} is not a directory")
        if cfg.model_platform not in ("", "tensorflow"):
            problems.append(f"{where}: model_platform {cfg.model_platform!r}; the zoo exports 'tensorflow' models")
        kind, versions = policy_of(cfg)
        if kind == "specific" and not versions:
            problems.append(f"{where}: a specific version policy needs at least one version")
        if kind == "latest" and versions < 1:
            problems.append(f"{where}: latest num_versions must be >= 1")
        for label, version in cfg.version_labels.items():
            if kind == "specific" and version not in versions:
                problems.append(f"{where}: label {label!r} -> version {version}, which the policy (versions "
                                f"{versions}) does not serve")
    if problems:
        raise ValueError(f"{source}: " + "; ".join(problems) + ".")
