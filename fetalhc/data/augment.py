"""The augmentation of image/mask pairs (albumentations): one transform for the script and training."""
from __future__ import annotations

import albumentations as A
import cv2


def build_transform(mask_interpolation: int = cv2.INTER_NEAREST, seed: int | None = None) -> A.Compose:
    """Plausible probe and anatomy variation; geometry applied identically to image and mask.

    Rotation +/-20 deg, shift +/-1 %, scale +/-10 %, horizontal flip (the head is imaged from
    either side), mild elastic deformation, brightness/contrast. The masks follow with
    ``mask_interpolation``: nearest keeps them binary (augmentation script); linear keeps a
    soft mask soft (training at 256x256, where the edge is fractional).
    """
    border = dict(border_mode=cv2.BORDER_CONSTANT, fill=0, fill_mask=0)
    return A.Compose([
        A.HorizontalFlip(p=0.5),
        A.Affine(rotate=(-20, 20), translate_percent=(-0.01, 0.01), scale=(0.9, 1.1),
                 interpolation=cv2.INTER_LINEAR, mask_interpolation=mask_interpolation,
                 p=0.9, **border),
        A.ElasticTransform(alpha=20, sigma=12, interpolation=cv2.INTER_LINEAR,
                           mask_interpolation=mask_interpolation, p=0.2, **border),
        A.RandomBrightnessContrast(brightness_limit=0.2, contrast_limit=0.2, p=0.7),
    ], seed=seed)
