"""Train steps, strategies, callbacks and fit recipes of the Latent Zoo."""
from trainers.adversarial import AdversarialModel
from trainers.losses import LOSSES, get_loss, gradient_penalty
from trainers.strategy import get_strategy, split_cpu

__all__ = ["AdversarialModel", "LOSSES", "get_loss", "gradient_penalty", "get_strategy", "split_cpu"]
