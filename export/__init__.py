"""SavedModel export of zoo generators for TF Serving."""
from export.saved_model import computing_in_float32, export_generator, next_version, training_steps, warmup_requests
from export.signatures import PREDICT_METHOD, Limits, Signature, signatures_for, to_outputs

__all__ = ["computing_in_float32", "Limits", "PREDICT_METHOD", "Signature", "export_generator", "next_version", "signatures_for", "to_outputs",
           "training_steps", "warmup_requests"]
