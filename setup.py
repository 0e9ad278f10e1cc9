"""Latent Zoo: latent-space generative models for Keras 3 / TensorFlow, exportable to TF Serving."""
from setuptools import find_packages, setup

CORE = [
    "tensorflow==2.21.0",
    "keras==3.15.1",  # pinned: trainers/strategy.py works around Keras 3.15 multi-worker fit issues
    "numpy>=1.26,<3",
    "scipy==1.17.1",
    "scikit-learn==1.9.1",
    "pillow==13.0.0",
    "matplotlib==3.11.2",
    "h5py==3.14.0",
    "tensorboard==2.21.0",  # TF 2.21 no longer installs it; the TensorBoard callback needs it
]
EXTRAS = {
    # tfds 4.9.10 imports etils.epath, which imports importlib_resources (no longer required by etils 1.15)
    "tfds": ["tensorflow-datasets==4.9.10", "etils[epath]==1.15.0", "importlib-resources==7.1.0"],
    # aiohttp: the dev server's REST front (asyncio: bounded, timeouts, backlog); orjson: TF Serving's shortest
    # round-trip float JSON, and 5-10x faster request parsing than json; uvloop: both fronts' event loops
    # (serving.aio: 5-8% more throughput than asyncio's loop, bench/results/serving_loops.json)
    "serving": ["tensorflow-serving-api==2.21.0", "grpcio==1.85.1", "aiohttp==3.14.5", "orjson==3.13.0",
                "uvloop==0.23.0"],
    "test": ["pytest==9.0.3", "pytest-xdist==3.8.0"],
    "bench": ["torch==2.13.0"],
}
EXTRAS["all"] = sorted({d for k, v in EXTRAS.items() if k != "bench" for d in v})

setup(
    name="latent-zoo",
    version="0.1.0",
    description=__doc__,
    python_requires=">=3.10",
    packages=find_packages(include=["zoo", "zoo.*", "trainers", "trainers.*", "export", "export.*", "serving",
                                    "serving.*", "zoo_app", "zoo_app.*"]),
    package_data={"zoo": ["metrics/weights/*", "presets/*/*"]},
    install_requires=CORE,
    extras_require=EXTRAS,
    entry_points={"console_scripts": ["zoo=zoo_app.cli:main"]},
)
