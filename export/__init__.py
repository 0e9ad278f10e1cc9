"""SavedModel export of zoo generators for TF Serving."""
from export.saved_model import export_generator, next_version, training_steps, warmup_requests
from export.signatures import PREDICT_METHOD, Limits, Signature, signatures_for, to_outputs

__all__ = ["Limits", "PREDICT_METHOD", "Signature", "export_generator", "next_version", "signatures_for", "to_outputs",
           "training_steps", "warmup_requests"]
