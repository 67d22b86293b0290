"""Training data: the data set CSV resized once to model space, then augmented on the fly.

Stage 1 learns the whole image stretched to 256x256 (``load_split``). Stage 2 learns a window
around the head (``load_crop_split``): the originals are kept, and each sample is cut around the
reference ellipse with a random margin, shift and rotation wide enough to cover the errors of
stage 1, then augmented like stage 1.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import tensorflow as tf
from tqdm import tqdm

from fetalhc.data.annotations import outline_ellipse
from fetalhc.data.augment import build_transform
from fetalhc.data.dataset import read_dataset_table, read_gray
from fetalhc.measurement.frame import MapFrame
from fetalhc.measurement.geometry import Ellipse
from fetalhc.model.constants import INPUT_SIZE
from fetalhc.model.preprocess import mask_to_model_space, to_model_input

# Stage-2 windows in training: margins around the serving margin, and now and then a wide one so
# that a head in a window much larger than it (a stage-1 ellipse that is too big) is still seen.
CROP_MARGINS = (1.12, 1.5)
WIDE_MARGINS = (1.5, 2.2)
WIDE_SHARE = 0.15
CROP_SHIFT = 0.07      # fraction of the window, each axis
CROP_ROTATION = 15.0   # degrees, on top of the transform's +/-20 and a random half turn


@dataclass
class Split:
    """Images and soft masks at model resolution with each row's metadata."""

    images: np.ndarray   # (N, S, S) float32 in [0, 1]
    masks: np.ndarray    # (N, S, S) float32 in [0, 1]
    table: pd.DataFrame  # filename, pixel_size_mm, hc_mm, subject, height, width


def load_split(table: pd.DataFrame, size: int = INPUT_SIZE, desc: str = "load") -> Split:
    images, masks, shapes = [], [], []
    for row in tqdm(table.itertuples(), total=len(table), desc=desc, unit="image", leave=False):
        gray = read_gray(row.image_path)
        mask = read_gray(row.mask_path)
        if gray.shape != mask.shape:
            raise ValueError(f"{row.filename}: image {gray.shape} and mask {mask.shape} differ")
        images.append(to_model_input(gray, size))
        masks.append(mask_to_model_space(mask, size))
        shapes.append(gray.shape)
    meta = table.reset_index(drop=True).copy()
    meta["height"] = [s[0] for s in shapes]
    meta["width"] = [s[1] for s in shapes]
    return Split(np.stack(images), np.stack(masks), meta)


@dataclass
class CropSplit:
    """Original images, masks and reference ellipses: the source of stage-2 windows."""

    images: list[np.ndarray]   # uint8 (H, W)
    masks: list[np.ndarray]    # uint8 (H, W), 0/255
    ellipses: list[Ellipse]    # reference ellipse fitted to each annotation
    table: pd.DataFrame

    def sample(self, index: int, rng: np.random.Generator, size: int = INPUT_SIZE) -> tuple[np.ndarray, np.ndarray]:
        """One randomly placed window: float32 image and soft mask in [0, 1]."""
        wide = rng.random() < WIDE_SHARE
        margin = rng.uniform(*(WIDE_MARGINS if wide else CROP_MARGINS))
        shift = tuple(rng.uniform(-CROP_SHIFT, CROP_SHIFT, 2))
        rotation = rng.uniform(-CROP_ROTATION, CROP_ROTATION) + 180.0 * rng.integers(2)
        return self.window(index, MapFrame.around(self.ellipses[index], self.images[index].shape, size,
                                                  margin, shift, rotation))

    def window(self, index: int, frame: MapFrame) -> tuple[np.ndarray, np.ndarray]:
        image = frame.extract(self.images[index]).astype(np.float32) / 255.0
        mask = frame.extract(self.masks[index].astype(np.float32) / 255.0)
        return image, mask


def load_crop_split(table: pd.DataFrame, desc: str = "load") -> CropSplit:
    images, masks, ellipses = [], [], []
    for row in tqdm(table.itertuples(), total=len(table), desc=desc, unit="image", leave=False):
        images.append(read_gray(row.image_path))
        masks.append(read_gray(row.mask_path))
        ellipses.append(outline_ellipse(read_gray(row.annotation_path)))
    meta = table.reset_index(drop=True).copy()
    meta["height"] = [img.shape[0] for img in images]
    meta["width"] = [img.shape[1] for img in images]
    return CropSplit(images, masks, ellipses, meta)


def split_tables(csv: Path, limit: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train and validation rows of the data set CSV; ``limit`` keeps the first rows of each."""
    table = read_dataset_table(csv)
    train, val = table[table["split"] == "train"], table[table["split"] == "validation"]
    overlap = set(train["subject"]) & set(val["subject"])
    if overlap:
        raise ValueError(f"subjects on both sides of the split: {sorted(overlap)[:5]}")
    if limit:
        train, val = train.head(limit), val.head(max(2, limit // 4))
    return train, val


def load_dataset(csv: Path, limit: int | None = None) -> tuple[Split, Split]:
    """Stage-1 train and validation splits from the data set CSV."""
    train, val = split_tables(csv, limit)
    return load_split(train, desc="train images"), load_split(val, desc="validation images")


def load_crop_dataset(csv: Path, limit: int | None = None) -> tuple[CropSplit, CropSplit]:
    """Stage-2 train and validation splits from the data set CSV."""
    train, val = split_tables(csv, limit)
    return load_crop_split(train, desc="train images"), load_crop_split(val, desc="validation images")


def training_dataset(split: Split | CropSplit, batch_size: int, seed: int) -> tf.data.Dataset:
    """Endless shuffled, augmented batches: (image, {head: mask}) for the three heads."""
    transform = build_transform(cv2.INTER_LINEAR, seed=seed)
    rng = np.random.default_rng(seed)

    def pair(index: int) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(split, CropSplit):
            return split.sample(int(index), rng)
        return split.images[index], split.masks[index]

    def augment(index: np.ndarray):
        image, mask = pair(index)
        out = transform(image=image, mask=mask)
        return (np.clip(out["image"], 0, 1).astype(np.float32)[..., None],
                np.clip(out["mask"], 0, 1).astype(np.float32)[..., None])

    def tf_augment(index):
        image, mask = tf.numpy_function(augment, [index], (tf.float32, tf.float32))
        image.set_shape((INPUT_SIZE, INPUT_SIZE, 1))
        mask.set_shape((INPUT_SIZE, INPUT_SIZE, 1))
        return image, {"main_output": mask, "aux_output_1": mask, "aux_output_2": mask}

    return (tf.data.Dataset.range(len(split.images)).repeat().shuffle(len(split.images), seed=seed)
            .map(tf_augment, num_parallel_calls=2, deterministic=False)
            .batch(batch_size, drop_remainder=True).prefetch(2))
