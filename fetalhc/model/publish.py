"""Publish a training run as the app's model: ``python -m fetalhc.model.publish --run runs/NAME``.

Exports the run's kept checkpoint (``train --keep``: the best or the last epoch) as a SavedModel,
its ONNX copy ``model.onnx`` (the default serving runtime, fetalhc/model/onnx_export.py) and
writes ``model_card.json`` beside them (architecture, parameters, preprocessing, data split,
training command and epochs, date). ``--stage 2`` publishes a second stage into the ``stage2/``
folder of an existing model folder. Validation metrics are added by
``python -m fetalhc.evaluation.evaluate --update-card``.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pandas as pd

from fetalhc import __version__
from fetalhc.data.dataset import DEFAULT_DATASET_CSV, read_dataset_table
from fetalhc.data.split import SPLIT_SEED, VALIDATION_FRACTION
from fetalhc.model.constants import CROP_MARGIN, STAGE2_DIR
from fetalhc.model.loader import CARD_NAME
from fetalhc.model.losses import BOUNDARY_BAND_PX, BOUNDARY_EXTRA_WEIGHT
from fetalhc.paths import DEFAULT_MODEL_DIR

_INPUTS = {
    1: "grayscale uint8 image resized to 256x256 (cv2.INTER_AREA, aspect not kept), divided by 255",
    2: f"a square window of side {2 * CROP_MARGIN:g} x the stage-1 ellipse's semi-major axis, centred on it and "
       "rotated so that its major axis is horizontal (fetalhc/measurement/frame.py MapFrame.around), "
       "resampled to 256x256 (area-averaged first when shrinking), divided by 255",
}


_LOSSES = {
    "dice_bce": "per head soft Dice + BCE",
    "boundary": f"per head soft Dice + BCE whose pixels on the band {BOUNDARY_BAND_PX} map pixels wide around the "
                f"reference outline weigh {1 + BOUNDARY_EXTRA_WEIGHT:g} times (fetalhc/model/losses.py)",
}


def _summary(run: Path) -> dict:
    return json.loads((run / "train_summary.json").read_text())


def _stage(run: Path) -> dict:
    summary = _summary(run)
    stage = {"run": run.name, "command": summary["command"], "epochs_run": int(summary["epochs_run"]),
             "train_minutes": round(float(summary["train_minutes"]), 1),
             "keras_backend": summary.get("keras_backend", "tensorflow"),
             "loss": summary.get("loss", "dice_bce")}  # runs before the --loss choice used Dice + BCE
    if summary.get("best_epoch") is not None:  # a run from a pack validates nothing
        stage["best_epoch"] = int(summary["best_epoch"])
        stage["best_val_hc_mae_mm"] = round(float(summary["best_val_hc_mae_mm"]), 4)
    return stage


def _kept(run: Path) -> str:
    return _summary(run).get("kept", "best")


def build_card(model, run: Path, dataset_csv: Path, earlier_runs: Sequence[Path] = (), stage: int = 1,
               hardware: str = "2 CPU cores") -> dict:
    table = read_dataset_table(dataset_csv)
    val = table[table["split"] == "validation"]
    history = pd.read_csv(run / "history.csv")
    stages = [_stage(r) for r in earlier_runs] + [_stage(run)]
    kept = _kept(run)
    chosen = history.iloc[-1] if kept == "last" else history.loc[history["val_hc_mae_mm"].idxmin()]
    widths = [model.get_layer(f"enc{i}_add").output.shape[-1] for i in range(5)]
    return {
        "name": "dag_vnet" if stage == 1 else "dag_vnet_stage2",
        "version": f"{__version__}+{date.today():%Y%m%d}",
        "date": date.today().isoformat(),
        "architecture": {
            "type": "DAG V-Net: 2D V-Net with residual stages, strided-convolution down-sampling, "
                    "attention gates on the skip connections and deep supervision (3 heads)",
            "reference": "Zeng et al., J Digit Imaging 34:134-148 (2021)",
            "stage_widths": widths,
            "served_head": "main_output (auxiliary heads are used in training only)",
        },
        "parameters": int(model.count_params()),
        "input": {"shape": [256, 256, 1], "dtype": "float32",
                  "preprocessing": _INPUTS[stage],
                  "output": "probability of fetal head per pixel, 256x256 (one forward pass)"},
        "data_split": {
            "dataset": "HC18 training set (van den Heuvel et al., PLoS ONE 2018, doi:10.5281/zenodo.1327317), "
                       "development subset of 798 images / 645 subjects",
            "rule": f"by subject (leading 3-digit number), seed {SPLIT_SEED}, "
                    f"{VALIDATION_FRACTION:.0%} of subjects for validation (fetalhc/data/split.py)",
            "train_images": int((table["split"] == "train").sum()),
            "validation_images": int(len(val)),
            "validation_subjects": sorted(val["subject"].astype(str).unique().tolist()),
        },
        "training": {
            "stages": stages,
            "epochs_total": sum(st["epochs_run"] for st in stages),
            "train_minutes_total": round(sum(st["train_minutes"] for st in stages), 1),
            "loss": f"{_LOSSES[stages[-1]['loss']]}, weights 1.0 / 0.5 / 0.25 (main / aux 1 / aux 2)",
            "augmentation": "on the fly, fetalhc.data.augment.build_transform (soft masks, linear interpolation)",
            "optimizer": "Adam, cosine-decayed learning rate (a fresh schedule in each stage)",
            "selection": "the last epoch of the cosine schedule, a rule fixed before training: no validation "
                         "image chose it" if kept == "last" else
                         "checkpoint with the lowest validation mean absolute HC difference",
            **({} if "val_hc_mae_mm" not in history else {
                ("last_epoch_validation" if kept == "last" else "best_epoch_validation"):
                    {k: round(float(chosen[k]), 4) for k in ("val_hc_mae_mm", "val_hc_p95_mm", "val_dice")}}),
            "hardware": hardware,
        },
        "metrics": {},
        "intended_use": "Research use only; not for diagnostic use. Measures the head circumference of a fetus "
                        "on a 2D ultrasound image in the standard transthalamic plane; a clinician must check "
                        "every measurement. Not validated on images unlike HC18 (other devices, planes, "
                        "pathologies).",
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", type=Path, required=True, help="training run folder (with best.keras and last.keras)")
    p.add_argument("--stage", type=int, choices=(1, 2), default=1,
                   help="2: publish into OUT/stage2, beside the stage-1 model already in OUT")
    p.add_argument("--combine", choices=("fine", "mean"), default="fine",
                   help="with --stage 2: the reported ellipse is stage 2's, or the mean of both stages' "
                        "(chosen on the selection part of the validation subjects)")
    p.add_argument("--dataset-csv", type=Path, default=DEFAULT_DATASET_CSV)
    p.add_argument("--out", type=Path, default=DEFAULT_MODEL_DIR)
    p.add_argument("--warm-start-run", type=Path, action="append", default=[],
                   help="the run --run started from (train.py --init-from), for the card; repeat it for each "
                        "earlier run of a chain of warm restarts, the first first")
    p.add_argument("--hardware", default="2 CPU cores", help="where it was trained, for the card")
    args = p.parse_args(argv)
    import keras

    from fetalhc.model.export import export_savedmodel
    from fetalhc.model.onnx_export import export_onnx

    checkpoint = args.run / f"{_kept(args.run)}.keras"
    model = keras.models.load_model(checkpoint, compile=False)
    out = args.out if args.stage == 1 else args.out / STAGE2_DIR
    if out.exists():
        shutil.rmtree(out)
    export_savedmodel(model, out)
    export_onnx(out)
    card = build_card(model, args.run, args.dataset_csv, args.warm_start_run, args.stage, args.hardware)
    if args.stage == 2:
        card["combine"] = args.combine
    (out / CARD_NAME).write_text(json.dumps(card, indent=2))
    print(f"published {checkpoint} -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
