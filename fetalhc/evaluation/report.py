"""Compare models on one part of the validation subjects, each figure with its 95 % confidence
interval (bootstrap by subject): ``python -m fetalhc.evaluation.report --models A B --part report``.

The report part chose nothing (fetalhc/data/split.py): these are the figures to publish.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from fetalhc.data.dataset import DEFAULT_DATASET_CSV, read_dataset_table
from fetalhc.data.split import VALIDATION_PARTS, part_of_validation
from fetalhc.evaluation.evaluate import evaluate_table
from fetalhc.evaluation.trust import BOOTSTRAP_DRAWS, LARGE_ERROR_MM, bootstrap
from fetalhc.model.loader import CARD_NAME
from fetalhc.predictor import load_predictor
from fetalhc.settings import Settings

_LABELS = {
    "abs_difference_mm_mean": "mean abs HC difference (mm)",
    "abs_difference_mm_p95": "95th percentile abs HC difference (mm)",
    "dice_mean_percent": "Dice (%)",
    "coverage": "90 % interval coverage",
    "coverage_small_third": "coverage, smallest third of heads",
    "coverage_middle_third": "coverage, middle third",
    "coverage_large_third": "coverage, largest third",
    "interval_width_mm_mean": "mean interval width (mm)",
    "flagged_to_good_error_ratio": "error of Fair/Poor / error of Good",
    "large_errors": f"images with abs difference > {LARGE_ERROR_MM:g} mm",
    "large_errors_flagged": "of those, flagged Fair/Poor",
    "flagged_share": "share of images flagged Fair/Poor",
}


def markdown(results: dict[str, dict], n_images: int, n_subjects: int, part: str) -> str:
    names = list(results)
    lines = [f"Part `{part}` of the validation subjects: {n_images} images of {n_subjects} subjects.", "",
             "| figure | " + " | ".join(f"`{n}`" for n in names) + " |", "|---" * (len(names) + 1) + "|"]
    for key, label in _LABELS.items():
        cells = []
        for name in names:
            fig = results[name].get(key)
            cells.append("n/a" if fig is None else f"{fig['value']:.3g} [{fig['ci95'][0]:.3g}, {fig['ci95'][1]:.3g}]")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", type=Path, nargs="+", required=True)
    p.add_argument("--part", default="report", choices=[name for name, _ in VALIDATION_PARTS])
    p.add_argument("--dataset-csv", type=Path, default=DEFAULT_DATASET_CSV)
    p.add_argument("--out", type=Path, default=Path("runs/report"))
    p.add_argument("--card", type=Path, default=None,
                   help="also store the figures in this model folder's model_card.json (metrics.<part>_part)")
    args = p.parse_args(argv)
    rows = part_of_validation(read_dataset_table(args.dataset_csv), args.part)
    results = {}
    args.out.mkdir(parents=True, exist_ok=True)
    for model in args.models:
        per_image = evaluate_table(rows, load_predictor(Settings.from_env(), model_dir=model))[0]
        per_image.to_csv(args.out / f"{model.name}_per_image.csv", index=False)
        results[str(model)] = bootstrap(per_image)
    table = markdown(results, len(rows), rows["subject"].nunique(), args.part)
    (args.out / "report.md").write_text(table)
    report = {"part": args.part, "images": len(rows), "subjects": int(rows["subject"].nunique()),
              "ci": f"95 % percentile interval of {BOOTSTRAP_DRAWS} bootstrap resamples of the subjects", "models": results,
              "command": "python -m fetalhc.evaluation.report " + " ".join(argv if argv is not None else sys.argv[1:]),
              "date": date.today().isoformat()}
    (args.out / "report.json").write_text(json.dumps(report, indent=2))
    if args.card:
        card_path = args.card / CARD_NAME
        card = json.loads(card_path.read_text())
        card.setdefault("metrics", {})[f"{args.part}_part"] = report
        card_path.write_text(json.dumps(card, indent=2) + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
