"""The top of the house: the ``zoo`` command line (`zoo_app.cli`) and the reproducible fit recipe behind
``zoo train`` (`zoo_app.fit`). Nothing below imports this package: `trainers` (the training core) knows no model,
`zoo` (models, data, metrics, registry, presets) builds on `trainers`, `export` asks models for their signatures,
`serving` knows SavedModels only (`tests/test_layers.py`)."""
