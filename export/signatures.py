"""What export writes: the serving signatures a model declares (``model.serving_signatures(limits)``, built next to
the model from the functions its Python API uses; `zoo.signatures` has the common ones and the bounds).

Export asks; it knows no model. Adding a model touches no file here.
"""
from __future__ import annotations

from zoo.signatures import PREDICT_METHOD, Limits, Signature, to_outputs

__all__ = ["PREDICT_METHOD", "Limits", "Signature", "signatures_for", "to_outputs"]


def signatures_for(model, limits: Limits | None = None) -> dict[str, Signature]:
    """Every signature `model` declares, each bounded by `limits` (default ``Limits()``)."""
    declare = getattr(model, "serving_signatures", None)
    if declare is None:
        raise TypeError(f"{type(model).__name__} declares no serving signatures: give it a serving_signatures(limits) "
                        "method (zoo.signatures.ServingSignatures has the common ones).")
    return declare(limits or Limits())
