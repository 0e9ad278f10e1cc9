"""Latent Zoo: latent-space generative models for Keras 3 / TensorFlow.

    >>> import zoo
    >>> zoo.list_models()
    >>> model = zoo.build_model("dcgan", config="smoke")
    >>> pretrained = zoo.from_preset("lggan_fashion_mnist")   # offline, sha256-checked (alias: load_pretrained)
    >>> ds = zoo.load_dataset("fashion_mnist", batch_size=32, image_size=16)
"""
from zoo import dcgan, growing, growing_mlp, latentgan_ae, lsc_conditioned, lsc_gan, lsr_gan, sngan, vae  # noqa: F401  (registers the models)
from zoo.data import DatasetNotAvailable, dataset_info, list_datasets, load_arrays, load_dataset
from zoo.pretrained import list_presets, load_pretrained
from zoo.registry import build_model, get_config, get_model_class, list_configs, list_models, model_family

from_preset = load_pretrained  # keras-hub's name; every model class also has ``Class.from_preset(spec)``

__version__ = "0.1.0"
__all__ = ["DatasetNotAvailable", "build_model", "dataset_info", "from_preset", "get_config", "get_model_class",
           "list_configs", "list_datasets", "list_models", "list_presets", "load_arrays", "load_dataset",
           "load_pretrained", "model_family"]
