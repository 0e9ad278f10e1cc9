"""SavedModel export of zoo generators for TF Serving."""
from export.saved_model import export_generator, generator_signatures, next_version

__all__ = ["export_generator", "generator_signatures", "next_version"]
