"""Evaluate the model on labelled HC18 images: ``python -m fetalhc.evaluation.evaluate``.

Writes per_image.csv, summary.json, bland_altman.png and overlays of the 10 worst images to
``--out``, prints the summary, and with ``--update-card`` stores it in the model card.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from tqdm import tqdm

from fetalhc.data.annotations import outline_ellipse
from fetalhc.data.dataset import DEFAULT_DATASET_CSV, read_dataset_table, read_gray
from fetalhc.data.split import VALIDATION_PARTS, part_of_validation
from fetalhc.evaluation.metrics import score_image, summary
from fetalhc.evaluation.plots import bland_altman, comparison_overlay
from fetalhc.evaluation.trust import statistics
from fetalhc.imaging import load_image_file
from fetalhc.measurement import Ellipse, NoHeadFoundError
from fetalhc.model.loader import CARD_NAME
from fetalhc.predictor import HeadPredictor, load_predictor
from fetalhc.settings import Settings


def evaluate_table(table: pd.DataFrame, predictor: HeadPredictor, progress: bool = True) -> tuple[pd.DataFrame, dict]:
    """Measure every row of ``table`` (needs image_path, annotation_path, pixel_size_mm) the way the app
    does, and score it.

    An image where no head is found counts with Dice 0 and its whole reference HC as error,
    so failures are never dropped from the mean.
    """
    rows = []
    for r in tqdm(list(table.itertuples()), desc="evaluate", unit="image", disable=not progress):
        image = load_image_file(r.image_path)
        ref = outline_ellipse(read_gray(r.annotation_path))
        row = {"filename": r.filename, "subject": r.subject, "pixel_size_mm": r.pixel_size_mm,
               "hc_ref_mm": ref.perimeter * r.pixel_size_mm}
        try:
            m = predictor.measure(image, r.pixel_size_mm)
            b, t = m.biometry, m.trust
            s = score_image(b.ellipse, ref, image.pixels.shape, r.pixel_size_mm)
            row.update(hc_pred_mm=b.hc_mm, difference_mm=b.hc_mm - row["hc_ref_mm"],
                       abs_difference_mm=abs(b.hc_mm - row["hc_ref_mm"]), dice=s.dice,
                       hausdorff_mm=s.hausdorff_mm, confidence=t.confidence,
                       verdict=t.verdict, found=True, stage_disagreement=m.stage_disagreement,
                       hc_coarse_mm=None if m.coarse is None else m.coarse.hc_mm,
                       center_x_px=b.ellipse.center_x, center_y_px=b.ellipse.center_y,
                       semi_major_px=b.ellipse.semi_major, semi_minor_px=b.ellipse.semi_minor,
                       angle_deg=b.ellipse.angle_deg)
            if t.interval_mm is not None:
                low, high = t.interval_mm
                row.update(interval_low_mm=low, interval_high_mm=high, interval_width_mm=high - low,
                           covered=bool(low <= row["hc_ref_mm"] <= high))
        except NoHeadFoundError:
            row.update(hc_pred_mm=np.nan, difference_mm=-row["hc_ref_mm"], abs_difference_mm=row["hc_ref_mm"],
                       dice=0.0, hausdorff_mm=np.nan, confidence=0.0, verdict="None", found=False)
        rows.append(row)
    per_image = pd.DataFrame(rows)
    found = per_image[per_image["found"]]
    result = summary(per_image["abs_difference_mm"].to_numpy(), per_image["difference_mm"].to_numpy(),
                     per_image["dice"].to_numpy(), found["hausdorff_mm"].to_numpy())
    result["n_no_head_found"] = int((~per_image["found"]).sum())
    result["by_verdict"] = {
        v: {"n": int(len(g)), "abs_difference_mm_mean": round(float(g["abs_difference_mm"].mean()), 3)}
        for v, g in per_image.groupby("verdict")}
    result["trust"] = {k: round(v, 4) for k, v in statistics(per_image).items()}
    return per_image, result


def write_figures(per_image: pd.DataFrame, table: pd.DataFrame, out: Path, title: str) -> None:
    found = per_image[per_image["found"]]
    bland_altman(found["hc_ref_mm"].to_numpy(), found["hc_pred_mm"].to_numpy(), out / "bland_altman.png", title)
    worst_dir = out / "worst"
    worst_dir.mkdir(exist_ok=True)
    paths = table.set_index("filename")
    for rank, r in enumerate(per_image.nlargest(10, "abs_difference_mm").itertuples(), start=1):
        gray = load_image_file(paths.loc[r.filename, "image_path"]).pixels
        ref = outline_ellipse(read_gray(paths.loc[r.filename, "annotation_path"]))
        pred = None
        if r.found:
            pred = Ellipse(r.center_x_px, r.center_y_px, r.semi_major_px, r.semi_minor_px, r.angle_deg)
        caption = f"{r.filename}: ref {r.hc_ref_mm:.1f} mm, pred {r.hc_pred_mm:.1f} mm, {r.verdict}"
        cv2.imwrite(str(worst_dir / f"{rank:02d}_{Path(r.filename).stem}.png"),
                    comparison_overlay(gray, ref, pred, caption))


def format_summary(result: dict) -> str:
    a, d, h = result["abs_difference_mm"], result["dice"], result["hausdorff_mm"]
    lines = [
        f"images: {result['n_images']} (no head found: {result['n_no_head_found']})",
        f"absolute HC difference: {a['mean']:.2f} +/- {a['sd']:.2f} mm (median {a['median']:.2f}, "
        f"p95 {a['p95']:.2f}, max {a['max']:.2f})",
        f"HC difference (bias):   {result['difference_mm']['mean']:+.2f} +/- {result['difference_mm']['sd']:.2f} mm, "
        f"95% limits of agreement {result['limits_of_agreement_mm']}",
        f"Dice:                   {100 * d['mean']:.2f} +/- {100 * d['sd']:.2f} %",
        f"Hausdorff distance:     {h['mean']:.2f} +/- {h['sd']:.2f} mm",
        "by quality verdict:     " + ", ".join(f"{k}: n={v['n']}, mean |diff| {v['abs_difference_mm_mean']:.2f} mm"
                                             for k, v in result["by_verdict"].items()),
        "trust:                  " + ", ".join(f"{k} {v:.3g}" for k, v in result["trust"].items()),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, default=None, help="SavedModel folder (default Trained_models/dag_vnet)")
    p.add_argument("--dataset-csv", type=Path, default=DEFAULT_DATASET_CSV)
    p.add_argument("--split", default="validation", choices=["validation", "train", "all"])
    p.add_argument("--part", default=None, choices=[name for name, _ in VALIDATION_PARTS],
                   help="only this part of the validation subjects (fetalhc/data/split.py)")
    p.add_argument("--out", type=Path, default=Path("runs/evaluation"))
    p.add_argument("--tta", action="store_true", help="average with the prediction on the mirrored image")
    p.add_argument("--update-card", action="store_true", help="store the summary in the model card")
    args = p.parse_args(argv)

    table = read_dataset_table(args.dataset_csv)
    if args.split != "all":
        table = table[table["split"] == args.split]
    if args.part:
        table = part_of_validation(table, args.part)
    predictor = load_predictor(Settings.from_env(), model_dir=args.model, flip_tta=args.tta)
    per_image, result = evaluate_table(table, predictor)
    args.out.mkdir(parents=True, exist_ok=True)
    per_image.to_csv(args.out / "per_image.csv", index=False)
    result.update(split=args.split, part=args.part, subjects=int(table["subject"].nunique()), flip_tta=args.tta,
                  command="python -m fetalhc.evaluation.evaluate " + " ".join(argv if argv is not None else sys.argv[1:]),
                  date=date.today().isoformat())
    (args.out / "summary.json").write_text(json.dumps(result, indent=2))
    write_figures(per_image, table, args.out, f"{predictor.name}: {args.split} ({len(table)} images)")
    print(format_summary(result))
    if args.update_card:
        card_path = predictor.segmenter.path / CARD_NAME
        card = json.loads(card_path.read_text()) if card_path.exists() else {}
        card.setdefault("metrics", {})["_".join(filter(None, (args.split, args.part, "flip_tta" if args.tta else "")))] = result
        card_path.write_text(json.dumps(card, indent=2))
        print(f"updated {card_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
