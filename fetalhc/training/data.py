"""Training data: the data set CSV resized once to model space, then augmented on the fly."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import tensorflow as tf
from tqdm import tqdm

from fetalhc.data.augment import build_transform
from fetalhc.data.dataset import read_dataset_table, read_gray
from fetalhc.model.network import INPUT_SIZE
from fetalhc.model.preprocess import mask_to_model_space, to_model_input


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


def load_dataset(csv: Path, limit: int | None = None) -> tuple[Split, Split]:
    """Train and validation splits from the data set CSV; ``limit`` keeps the first rows of each."""
    table = read_dataset_table(csv)
    train, val = table[table["split"] == "train"], table[table["split"] == "validation"]
    overlap = set(train["subject"]) & set(val["subject"])
    if overlap:
        raise ValueError(f"subjects on both sides of the split: {sorted(overlap)[:5]}")
    if limit:
        train, val = train.head(limit), val.head(max(2, limit // 4))
    return load_split(train, desc="train images"), load_split(val, desc="validation images")


def training_dataset(split: Split, batch_size: int, seed: int) -> tf.data.Dataset:
    """Endless shuffled, augmented batches: (image, {head: mask}) for the three heads."""
    transform = build_transform(cv2.INTER_LINEAR, seed=seed)
    images, masks = split.images, split.masks

    def augment(index: np.ndarray):
        out = transform(image=images[index], mask=masks[index])
        return (np.clip(out["image"], 0, 1).astype(np.float32)[..., None],
                np.clip(out["mask"], 0, 1).astype(np.float32)[..., None])

    def tf_augment(index):
        image, mask = tf.numpy_function(augment, [index], (tf.float32, tf.float32))
        image.set_shape((INPUT_SIZE, INPUT_SIZE, 1))
        mask.set_shape((INPUT_SIZE, INPUT_SIZE, 1))
        return image, {"main_output": mask, "aux_output_1": mask, "aux_output_2": mask}

    return (tf.data.Dataset.range(len(images)).repeat().shuffle(len(images), seed=seed)
            .map(tf_augment, num_parallel_calls=2, deterministic=False)
            .batch(batch_size, drop_remainder=True).prefetch(2))
