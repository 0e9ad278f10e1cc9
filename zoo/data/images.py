"""Image datasets the user brings: a folder of images, and CelebA through TFDS.

Crops the papers use (``crop=`` of :func:`image_folder` and :func:`celeb_a`):

* ``"lsc_gan"``: CelebA's 178x218 -> centre 138x138 -> resized to ``image_size`` (64 in LSC-GAN, 4.1).
* ``"growing"``: centre 128x128 -> resized to ``image_size`` (128 in the growing-GAN thesis, 7.2).
* ``None``: resize only (bilinear, no crop).
"""
from __future__ import annotations

from pathlib import Path

import tensorflow as tf

from zoo.data.errors import DatasetNotAvailable

CROPS = {"lsc_gan": 138, "growing": 128, None: None}
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
CELEB_A_ATTRIBUTES = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs", "Big_Lips", "Big_Nose",
    "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair", "Bushy_Eyebrows", "Chubby", "Double_Chin", "Eyeglasses",
    "Goatee", "Gray_Hair", "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open", "Mustache", "Narrow_Eyes",
    "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline", "Rosy_Cheeks", "Sideburns", "Smiling",
    "Straight_Hair", "Wavy_Hair", "Wearing_Earrings", "Wearing_Hat", "Wearing_Lipstick", "Wearing_Necklace",
    "Wearing_Necktie", "Young")
"""CelebA's 40 attributes in sorted-name order, the order :func:`celeb_a` stacks them in."""
CELEB_A_LSC_ATTRIBUTES = ("Black_Hair", "Blond_Hair", "Gray_Hair", "Male", "Female", "Smiling", "Mouth_Slightly_Open",
                          "Young", "Narrow_Eyes", "Bags_Under_Eyes", "Mustache", "Eyeglasses", "Pale_Skin", "Chubby")
"""LSC-GAN's 14 CelebA attributes (section 4.1); "Female" is not a CelebA attribute: it is not Male."""


def crop_and_resize(image, image_size, crop=None):
    """uint8/float ``[H, W, C]`` -> float32 ``[image_size, image_size, C]`` in [0, 255]."""
    if crop not in CROPS:
        raise ValueError(f"Unknown crop {crop!r}. Known crops: {', '.join(repr(c) for c in CROPS)}.")
    image = tf.cast(image, tf.float32)
    side = CROPS[crop]
    if side is not None:
        h, w = tf.shape(image)[0], tf.shape(image)[1]
        image = tf.image.crop_to_bounding_box(image, (h - side) // 2, (w - side) // 2, side, side)
    if image_size is not None:
        image = tf.image.resize(image, (image_size, image_size), method="bilinear", antialias=True)
    return image


def list_images(path) -> list[str]:
    root = Path(path)
    if not root.is_dir():
        raise DatasetNotAvailable(f"image_folder:{path}", f"{root} is not a directory.")
    files = sorted(str(p) for p in root.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise DatasetNotAvailable(f"image_folder:{path}", f"no {'/'.join(IMAGE_EXTENSIONS)} files under {root}.")
    return files


def image_folder(path, image_size=64, crop=None, channels=3, order=None) -> tf.data.Dataset:
    """Unbatched dataset of float32 images in [0, 255] from every image file under `path` (sorted), or, with
    `order` (a dataset of int32 indices into that sorted list, e.g. `zoo.data.index_stream`), in that order."""
    files = list_images(path)

    def load(f):
        img = tf.io.decode_image(tf.io.read_file(f), channels=channels, expand_animations=False)
        img.set_shape([None, None, channels])
        return crop_and_resize(img, image_size, crop)

    if order is None:
        names = tf.data.Dataset.from_tensor_slices(files)
    else:
        table = tf.constant(files)
        names = order.map(lambda i: tf.gather(table, i))
    return names.map(load, num_parallel_calls=tf.data.AUTOTUNE)


def celeb_a(split="train", image_size=64, crop="lsc_gan", data_dir=None) -> tf.data.Dataset:
    """CelebA from a prepared TFDS ``celeb_a``: ``(image in [0, 255], attributes float32 [40])``.

    The 40 attributes are in sorted-name order (:func:`celeb_a_attribute_names`).
    """
    from zoo.data import tfds_local

    if not tfds_local.is_prepared("celeb_a", data_dir):
        raise DatasetNotAvailable(
            "celeb_a", f"TFDS `celeb_a` is not prepared under {tfds_local.tfds_data_dir(data_dir)}. CelebA cannot be "
            "downloaded here: put its files in TFDS' manual dir and run `tfds build celeb_a`, pass data_dir=DIR "
            "of a prepared copy, or use image_folder:PATH with the aligned 178x218 images.")
    b = tfds_local.builder("celeb_a", data_dir)
    names = sorted(b.info.features["attributes"].keys())
    if tuple(names) != CELEB_A_ATTRIBUTES:
        raise DatasetNotAvailable("celeb_a", f"the prepared celeb_a has attributes {names}, not CelebA's 40.")
    tfds_split = {"train": "train", "test": "test", "validation": "validation"}[split]

    def convert(ex):
        attrs = tf.stack([tf.cast(ex["attributes"][n], tf.float32) for n in names])
        return crop_and_resize(ex["image"], image_size, crop), attrs

    return b.as_dataset(split=tfds_split).map(convert, num_parallel_calls=tf.data.AUTOTUNE)


def celeb_a_attribute_names(data_dir=None) -> list[str]:
    from zoo.data import tfds_local

    return sorted(tfds_local.builder("celeb_a", data_dir).info.features["attributes"].keys())
