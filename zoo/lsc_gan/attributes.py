"""LSC-GAN's attribute space (Kim & Cho, sections 3.1, 4.1, 4.3): one block of latent dimensions per attribute.

An example with attribute set S has the prior N(mu_S, I), ``mu_S = sum_{i in S} n_i`` where ``n_i`` is 1 on
attribute i's block of ``block_size`` dimensions (20 in the paper) and 0 elsewhere (footnote 1: the exact sum of
two N(mu_i, I) would have variance 2I; the paper, and this code, keep I). Editing adds or removes blocks
(eq. 8, ``x_ij = G(z_i + n_j)``) with a strength: 1 as trained, 2 for a stronger feature, -1 for the inverse
feature (figure 4).

Attribute sources (``attributes=`` of the models):

* a dataset with classes (``"fashion_mnist"``, ``"mnist"``, ``"digits"``): its class names; labels are class
  indices, one attribute per example (one-hot);
* ``"celeb_a"``: the paper's 14 attributes; labels are CelebA's 40 attributes (`zoo.data.images.celeb_a`), of
  which the 13 named ones are taken and ``Female = 1 - Male`` (Female is not a CelebA attribute);
* a tuple of names: labels are multi-hot ``[B, len(names)]`` already.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from zoo.data import dataset_info, images

CLASS_DATASETS = ("fashion_mnist", "mnist", "digits")


class AttributeSpace:
    """The attributes of an LSC model and the latent block each owns."""

    def __init__(self, attributes="fashion_mnist", block_size=20):
        if int(block_size) < 1:
            raise ValueError(f"block_size must be a positive integer, got {block_size!r}.")
        self.spec, self.block_size = attributes, int(block_size)
        if isinstance(attributes, str):
            if attributes in CLASS_DATASETS:
                self.source, self.names = "class", tuple(dataset_info(attributes).class_names)
            elif attributes == "celeb_a":
                self.source, self.names = "celeb_a", images.CELEB_A_LSC_ATTRIBUTES
                # which of CelebA's 40 columns each attribute reads, and whether it is that column's negation
                self._columns = [images.CELEB_A_ATTRIBUTES.index("Male" if n == "Female" else n) for n in self.names]
                self._negated = np.array([n == "Female" for n in self.names], np.float32)
            else:
                raise ValueError(f"Unknown attribute source {attributes!r}: name a dataset with classes "
                                 f"({', '.join(CLASS_DATASETS)}), 'celeb_a', or pass a tuple of attribute names.")
        else:
            self.source, self.names = "multi_hot", tuple(str(a) for a in attributes)
        if not self.names:
            raise ValueError("An attribute space needs at least one attribute.")

    @property
    def size(self) -> int:
        return len(self.names)

    @property
    def exclusive(self) -> bool:
        """One attribute per example (a dataset's classes), rather than independent ones."""
        return self.source == "class"

    @property
    def latent_dim(self) -> int:
        return self.size * self.block_size

    def block(self, index: int) -> tuple[int, int]:
        """``[start, stop)`` of attribute `index`'s latent dimensions."""
        return index * self.block_size, (index + 1) * self.block_size

    def valid(self) -> str:
        return ", ".join(f"{i}: {n}" for i, n in enumerate(self.names))

    def index(self, attribute) -> int:
        """The index of an attribute given by name or index; anything else fails listing the valid ones."""
        if isinstance(attribute, (int, np.integer)) and not isinstance(attribute, bool):
            if 0 <= attribute < self.size:
                return int(attribute)
        elif attribute in self.names:
            return self.names.index(attribute)
        raise ValueError(f"Unknown attribute {attribute!r}. Valid attributes (index: name): {self.valid()}.")

    def weights(self, attributes) -> np.ndarray:
        """``[size]`` strengths of an attribute set: a name/index, a list of them (strength 1 each), or a dict
        ``{name or index: strength}`` (2: stronger, -1: inverse feature)."""
        if isinstance(attributes, (str, int, np.integer)):
            attributes = [attributes]
        items = attributes.items() if isinstance(attributes, dict) else ((a, 1.0) for a in attributes)
        out = np.zeros(self.size, np.float32)
        for attribute, strength in items:
            out[self.index(attribute)] += float(strength)
        return out

    def offset(self, attributes) -> np.ndarray:
        """``n_S = sum_i strength_i * n_i``, ``[latent_dim]``."""
        return np.repeat(self.weights(attributes), self.block_size)

    def mean(self, multi_hot):
        """``[B, size]`` attribute strengths -> ``[B, latent_dim]`` prior means mu_S."""
        return tf.repeat(tf.cast(multi_hot, tf.float32), self.block_size, axis=-1)

    def from_labels(self, labels):
        """The dataset's labels -> ``[B, size]`` multi-hot attributes (see the module docstring)."""
        if self.source == "class":
            return tf.one_hot(tf.cast(labels, tf.int32), self.size)
        labels = tf.cast(labels, tf.float32)
        if self.source == "celeb_a":
            picked = tf.gather(labels, self._columns, axis=1)
            return self._negated * (1.0 - picked) + (1.0 - self._negated) * picked
        return labels


def compression_rate(input_shape, latent_dim: int, n_classes: int) -> dict:
    """LSC-GAN section 4.3: ``rate = size(input) / size(bottleneck) / #classes``, with the formula beside it.

    (The paper's 24.546 for 64x64x3 images, 14 classes and its latent size cannot be re-derived from this formula,
    REFERENCE_NOTES; the number here is the formula's, nothing else.)"""
    size = int(np.prod(input_shape))
    rate = size / latent_dim / n_classes
    dims = "x".join(str(int(d)) for d in input_shape)
    return {"rate": rate, "formula": f"size(input) / size(bottleneck) / #classes = {dims} / {latent_dim} / "
                                     f"{n_classes} = {size} / {latent_dim} / {n_classes} = {rate:.3f}"}
