"""Training data: the data set CSV resized once to model space, then augmented on the fly.

Stage 1 learns the whole image stretched to 256x256 (``load_split``). Stage 2 learns a window
around the head (``load_crop_split``): the originals are kept, and each sample is cut around the
reference ellipse with a random margin, shift and rotation wide enough to cover the errors of
stage 1, then augmented like stage 1.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import keras
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


class AugmentedBatches(keras.utils.PyDataset):
    """Random augmented batches, ``steps`` per epoch: (image, {head: mask}) for the three heads.

    A ``PyDataset`` rather than ``tf.data`` so that the same code feeds any Keras backend (JAX on a
    GPU machine, TensorFlow here). Threads, not processes: OpenCV releases the GIL, and forking a
    process that holds a GPU runtime is unsafe. Each batch draws its images (with replacement) and
    its augmentation from its own generator seeded by (seed, call count), so threads never share a
    random state.
    """

    def __init__(self, split: Split | CropSplit, batch_size: int, steps: int, seed: int, workers: int = 2):
        super().__init__(workers=workers, use_multiprocessing=False, max_queue_size=4 * max(workers, 1))
        self.split, self.batch_size, self.steps, self.seed = split, batch_size, steps, seed
        self._calls = itertools.count()

    def __len__(self) -> int:
        return self.steps

    def __getitem__(self, index: int):
        rng = np.random.default_rng([self.seed, next(self._calls)])
        transform = build_transform(cv2.INTER_LINEAR, seed=int(rng.integers(2**31)))
        images, masks = [], []
        for i in rng.integers(len(self.split.images), size=self.batch_size):
            if isinstance(self.split, CropSplit):
                image, mask = self.split.sample(int(i), rng)
            else:
                image, mask = self.split.images[i], self.split.masks[i]
            out = transform(image=image, mask=mask)
            images.append(np.clip(out["image"], 0, 1))
            masks.append(np.clip(out["mask"], 0, 1))
        x = np.stack(images).astype(np.float32)[..., None]
        y = np.stack(masks).astype(np.float32)[..., None]
        return x, {"main_output": y, "aux_output_1": y, "aux_output_2": y}
