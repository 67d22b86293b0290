"""Pack the training split into one file, to train on a machine without the data set.

``python -m fetalhc.training.pack --out runs/train_pack.npz`` writes what both stages learn from,
lossless (PNG inside an ``.npz``), and nothing of the validation subjects:

- stage 1: each image and its soft mask already in model space (256x256), exactly the arrays
  :func:`fetalhc.training.data.load_split` makes;
- stage 2: each image cut to the reach of the widest training window around its head and, for a
  head whose semi-major axis is longer than :data:`SOURCE_SEMI_MAJOR_PX`, reduced to that length.
  A window at the serving margin (1.3) still holds at least one stored pixel per map pixel, so it
  resamples as finely as one cut from the original; the narrowest training windows (margin 1.12)
  are enlarged by at most 1.14x. The reduction keeps the pack small enough (about 45 MiB) to
  travel to a GPU machine.

``python -m fetalhc.training.train --pack FILE`` trains from it (``--keep last``: the pack holds no
validation images).
"""
from __future__ import annotations

import argparse
import io
import math
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from tqdm import tqdm

from fetalhc.data.annotations import outline_ellipse
from fetalhc.data.dataset import DEFAULT_DATASET_CSV, read_gray
from fetalhc.measurement.geometry import Ellipse
from fetalhc.model.constants import CROP_MARGIN, INPUT_SIZE
from fetalhc.training.data import CROP_ROTATION, CROP_SHIFT, WIDE_MARGINS, CropSplit, Split, \
    split_tables

# A head's semi-major axis in stored pixels at most: the serving window (side 2 x 1.3 x this) then
# holds 260 stored pixels for 256 map pixels.
SOURCE_SEMI_MAJOR_PX = 100.0
# The farthest a training window reaches from the head's centre, in semi-major axes: half the
# diagonal of the widest window, turned by the largest extra rotation, plus its largest shift.
_REACH = WIDE_MARGINS[1] * (math.cos(math.radians(CROP_ROTATION)) + math.sin(math.radians(CROP_ROTATION))) \
    + 2.0 * WIDE_MARGINS[1] * CROP_SHIFT * math.sqrt(2.0)
_COLUMNS = ["filename", "pixel_size_mm", "hc_mm", "subject", "split"]
assert CROP_MARGIN * 2.0 * SOURCE_SEMI_MAJOR_PX >= INPUT_SIZE


def _png(array: np.ndarray) -> np.ndarray:
    ok, data = cv2.imencode(".png", array, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    if not ok:
        raise ValueError("PNG encoding failed")
    return data


def _unpng(data: np.ndarray) -> np.ndarray:
    return cv2.imdecode(data, cv2.IMREAD_UNCHANGED)


def stage2_source(gray: np.ndarray, mask: np.ndarray, ellipse: Ellipse) -> tuple[np.ndarray, np.ndarray, Ellipse]:
    """The part of an image that training windows can reach, reduced for a large head, with the
    ellipse in the stored pixels (same pixel-centre convention as ``MapFrame``)."""
    factor = min(1.0, SOURCE_SEMI_MAJOR_PX / ellipse.semi_major)
    reach = _REACH * ellipse.semi_major
    h, w = gray.shape
    x0, y0 = max(0, int(ellipse.center_x - reach)), max(0, int(ellipse.center_y - reach))
    x1, y1 = min(w, int(math.ceil(ellipse.center_x + reach)) + 1), min(h, int(math.ceil(ellipse.center_y + reach)) + 1)
    gray, mask = gray[y0:y1, x0:x1], mask[y0:y1, x0:x1]
    if factor < 1.0:
        size = (max(1, round(gray.shape[1] * factor)), max(1, round(gray.shape[0] * factor)))
        fx, fy = size[0] / gray.shape[1], size[1] / gray.shape[0]
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        mask = cv2.resize(mask, size, interpolation=cv2.INTER_AREA)
    else:
        fx = fy = 1.0
    # Pixel centres: x_stored = (x - x0 + 0.5) * f - 0.5. fx and fy differ by rounding only.
    f = (fx + fy) / 2.0
    moved = Ellipse((ellipse.center_x - x0 + 0.5) * fx - 0.5, (ellipse.center_y - y0 + 0.5) * fy - 0.5,
                    ellipse.semi_major * f, ellipse.semi_minor * f, ellipse.angle_deg)
    return gray, mask, moved


def pack(csv: Path, out: Path, limit: int | None = None) -> int:
    """Write the pack of the training rows of ``csv``; returns its size in bytes."""
    train, _ = split_tables(csv, limit)
    arrays: dict[str, np.ndarray] = {}
    ellipses, shapes = [], []
    for i, row in enumerate(tqdm(list(train.itertuples()), desc="pack", unit="image")):
        gray, mask = read_gray(row.image_path), read_gray(row.mask_path)
        # load_split's arrays: exactly the uint8 resize that to_model_input divides by 255, and the
        # soft mask to 1/255.
        arrays[f"s1_image_{i}"] = _png(cv2.resize(gray, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA))
        arrays[f"s1_mask_{i}"] = _png(cv2.resize(mask, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA))
        image2, mask2, ellipse = stage2_source(gray, mask, outline_ellipse(read_gray(row.annotation_path)))
        arrays[f"s2_image_{i}"] = _png(image2)
        arrays[f"s2_mask_{i}"] = _png(mask2)
        shapes.append(gray.shape)
        ellipses.append([ellipse.center_x, ellipse.center_y, ellipse.semi_major, ellipse.semi_minor, ellipse.angle_deg])
    table = train.reset_index(drop=True)[_COLUMNS]
    table["height"], table["width"] = [s[0] for s in shapes], [s[1] for s in shapes]
    arrays["ellipses"] = np.asarray(ellipses, dtype=np.float64)
    arrays["table"] = np.asarray(table.to_json(orient="records").encode(), dtype=bytes)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, **arrays)
    return out.stat().st_size


def load_pack(path: Path) -> tuple[Split, CropSplit]:
    """The stage-1 and stage-2 training splits of a pack."""
    with np.load(path) as z:
        table = pd.read_json(io.StringIO(z["table"].item().decode()), orient="records")
        n = len(table)
        images = np.stack([_unpng(z[f"s1_image_{i}"]) for i in range(n)]).astype(np.float32) / 255.0
        masks = np.stack([_unpng(z[f"s1_mask_{i}"]) for i in range(n)]).astype(np.float32) / 255.0
        sources = [_unpng(z[f"s2_image_{i}"]) for i in range(n)]
        source_masks = [_unpng(z[f"s2_mask_{i}"]) for i in range(n)]
        ellipses = [Ellipse(*map(float, e)) for e in z["ellipses"]]
    stage2 = table.copy()
    stage2["height"] = [s.shape[0] for s in sources]
    stage2["width"] = [s.shape[1] for s in sources]
    return Split(images, masks, table), CropSplit(sources, source_masks, ellipses, stage2)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset-csv", type=Path, default=DEFAULT_DATASET_CSV)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--limit", type=int, default=None, help="the first N training rows only (tests)")
    args = p.parse_args(argv)
    size = pack(args.dataset_csv, args.out, args.limit)
    print(f"wrote {args.out} ({size / 2**20:.1f} MiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
