"""Train the DAG V-Net: ``python -m fetalhc.training.train --out runs/NAME [--stage 2]``.

Stage 1 segments the whole image; stage 2 a window around the head (see ``data.py``).
Checkpoints ``last.keras`` every epoch and ``best.keras`` on the best validation HC error,
writes the kept one without optimizer state as ``model.keras``, logs ``history.csv`` and
``learning_curves.png``, resumes with ``--resume``, and exports
the model that ``--keep`` names as a SavedModel with ``--export``. ``--keep last`` (the
end of the cosine schedule) is a rule fixed before training, so the validation images
choose nothing and may be reported on.

``--pack FILE`` (from ``python -m fetalhc.training.pack``) trains without the data set, on any
Keras backend (``KERAS_BACKEND=jax`` on a GPU machine): it holds no validation images, so it
needs ``--keep last`` and validates nothing.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from fetalhc.model.constants import DEFAULT_WIDTHS
from fetalhc.settings import DEFAULT_MODEL_DIR

EPOCHS = 90
BATCH_SIZE = 8
LEARNING_RATE = 1e-3
PATIENCE = 25
SEED = 1234


def parse_args(argv=None) -> argparse.Namespace:
    from fetalhc.data.dataset import DEFAULT_DATASET_CSV

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset-csv", type=Path, default=DEFAULT_DATASET_CSV)
    p.add_argument("--pack", type=Path, default=None,
                   help="train from this pack of the training split instead (no validation; --keep last)")
    p.add_argument("--workers", type=int, default=2, help="threads that augment batches")
    p.add_argument("--out", type=Path, required=True, help="run folder for checkpoints and logs")
    p.add_argument("--stage", type=int, choices=(1, 2), default=1,
                   help="1: the whole image; 2: a window around the head")
    p.add_argument("--keep", choices=("best", "last"), default="best",
                   help="which checkpoint --export writes: best validation HC error, or the last epoch")
    p.add_argument("--stage1", type=Path, default=DEFAULT_MODEL_DIR,
                   help="with --stage 2: the stage-1 model that places the windows in validation")
    p.add_argument("--epochs", type=int, default=None, help=f"default {EPOCHS} (2 with --quick)")
    p.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    p.add_argument("--lr", type=float, default=LEARNING_RATE)
    p.add_argument("--loss", choices=("dice_bce", "boundary"), default="dice_bce",
                   help="boundary: the cross-entropy weighs the band around the reference outline five times")
    p.add_argument("--widths", type=str, default=",".join(map(str, DEFAULT_WIDTHS)))
    p.add_argument("--patience", type=int, default=PATIENCE, help="early stopping, in epochs")
    p.add_argument("--time-budget-min", type=float, default=None,
                   help="stop before starting an epoch that would end past this many minutes")
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.keras")
    p.add_argument("--init-from", type=Path, default=None,
                   help="start from the weights of this .keras model or SavedModel folder (matched by "
                        "layer name) with a fresh optimizer and schedule: a warm restart, or stage 2 "
                        "starting from stage 1")
    p.add_argument("--export", type=Path, default=None, help="write the best model as a SavedModel here")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 8 images, 2 epochs of 2 steps (for tests)")
    args = p.parse_args(argv)
    if args.pack and args.keep != "last":
        p.error("--pack holds no validation images: use --keep last")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.quick:
        args.epochs, steps_override, limit = args.epochs or 2, 2, 8
        args.batch_size = 2
    else:
        args.epochs, steps_override, limit = args.epochs or EPOCHS, None, None

    import keras

    from fetalhc.model.losses import HEAD_LOSS_WEIGHTS, LOSSES, dice_coefficient
    from fetalhc.model.network import HEAD_NAMES, build_dag_vnet
    from fetalhc.training.data import AugmentedBatches, Split, load_crop_dataset, load_dataset
    from fetalhc.training.plots import plot_learning_curves, save_pair_overlays
    from fetalhc.training.warm_start import load_weights

    keras.utils.set_random_seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.pack:
        from fetalhc.training.pack import load_pack

        train = load_pack(args.pack)[args.stage - 1]
        val = None  # a pack for tests is small already: pack --limit
    elif args.stage == 1:
        train, val = load_dataset(args.dataset_csv, limit)
    else:
        train, val = load_crop_dataset(args.dataset_csv, limit)
    look = train
    if args.stage == 2:
        rng = np.random.default_rng(args.seed)
        samples = [train.sample(i, rng) for i in range(min(8, len(train.images)))]
        look = Split(np.stack([s[0] for s in samples]), np.stack([s[1] for s in samples]), train.table)
    print(f"stage {args.stage}; train: {len(train.images)} images of {train.table['subject'].nunique()} subjects; "
          + ("no validation" if val is None else
             f"validation: {len(val.images)} images of {val.table['subject'].nunique()} subjects"))
    # Look before training: a mis-paired image/mask is visible at once in these overlays.
    save_pair_overlays(look, args.out / "pairs_check.png")

    steps = steps_override or len(train.images) // args.batch_size
    last, best = args.out / "last.keras", args.out / "best.keras"
    history_path = args.out / "history.csv"
    history: list[dict] = []
    if args.resume and last.exists():
        model = keras.models.load_model(last)
        with open(history_path, newline="") as f:
            history = [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]
        print(f"resumed from {last} after epoch {len(history)}")
    else:
        model = build_dag_vnet(tuple(int(w) for w in args.widths.split(",")))
        if args.init_from:
            copied = load_weights(model, args.init_from)
            print(f"starting from the weights of {args.init_from} ({copied} of {len(model.weights)} tensors)")
        schedule = keras.optimizers.schedules.CosineDecay(
            args.lr, decay_steps=args.epochs * steps, alpha=0.02,
            warmup_target=None)
        model.compile(optimizer=keras.optimizers.Adam(schedule),
                      loss={h: LOSSES[args.loss] for h in HEAD_NAMES}, loss_weights=HEAD_LOSS_WEIGHTS,
                      metrics={"main_output": [dice_coefficient]})
    print(f"DAG V-Net: {model.count_params():,} parameters, {steps} steps per epoch")

    data = AugmentedBatches(train, args.batch_size, steps, args.seed, workers=args.workers)
    predictor = None if val is None else validation_predictor(model, args)
    best_mae = min((h.get("val_hc_mae_mm", np.inf) for h in history), default=np.inf)
    since_best = len(history) - 1 - int(np.argmin([h["val_hc_mae_mm"] for h in history])) \
        if history and predictor else 0
    started = time.time()
    epoch_times: list[float] = []
    for epoch in range(len(history), args.epochs):
        if args.time_budget_min and epoch_times and \
                (time.time() - started + np.mean(epoch_times[-3:])) / 60 > args.time_budget_min:
            print(f"time budget of {args.time_budget_min} min reached; stopping before epoch {epoch + 1}")
            break
        t0 = time.time()
        fit = model.fit(data, steps_per_epoch=steps, epochs=epoch + 1, initial_epoch=epoch, shuffle=False,
                        verbose=1 if sys.stdout.isatty() else 2)
        row = {"epoch": epoch + 1, "loss": fit.history["loss"][-1],
               "main_dice": fit.history["main_output_dice_coefficient"][-1],
               "lr": float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))}
        if predictor is not None:
            from fetalhc.training.validation import validation_row

            row.update(validation_row(predictor, val.table))
        epoch_times.append(time.time() - t0)
        row["seconds"] = epoch_times[-1]
        history.append(row)
        model.save(last)
        if predictor is not None:
            if row["val_hc_mae_mm"] < best_mae:
                best_mae, since_best = row["val_hc_mae_mm"], 0
                model.save(best)
            else:
                since_best += 1
        with open(history_path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(history[-1]))
            writer.writeheader()
            writer.writerows(history)
        if epoch_times[-1] > 30 or (epoch + 1) % 10 == 0:  # plotting would slow second-long GPU epochs
            plot_learning_curves(history, args.out / "learning_curves.png")
        print(f"epoch {epoch + 1}: " + ", ".join(f"{k}={v:.4g}" for k, v in row.items() if k != "epoch")
              + (" (best)" if predictor is not None and since_best == 0 else ""), flush=True)
        if since_best >= args.patience:
            print(f"early stop: no better validation HC error in {args.patience} epochs")
            break

    plot_learning_curves(history, args.out / "learning_curves.png")
    validated = predictor is not None
    summary = {"epochs_run": len(history),
               "best_epoch": 1 + int(np.argmin([h["val_hc_mae_mm"] for h in history])) if validated else None,
               "best_val_hc_mae_mm": best_mae if validated else None, "train_minutes": (time.time() - started) / 60,
               "keras_backend": keras.backend.backend(),
               "init_from": str(args.init_from) if args.init_from else None,
               "stage": args.stage, "kept": args.keep, "loss": args.loss,
               "command": "python -m fetalhc.training.train " + " ".join(argv if argv is not None else sys.argv[1:])}
    (args.out / "train_summary.json").write_text(json.dumps(summary, indent=2))
    # The kept network without its optimizer state: a third of the size, all that publishing and
    # a warm start need (and small enough to come back from a GPU machine).
    kept = best if args.keep == "best" else last
    keras.models.load_model(kept, compile=False).save(args.out / "model.keras")
    if args.export:
        from fetalhc.model.export import export_savedmodel

        export_savedmodel(keras.models.load_model(kept, compile=False), args.export)
        print(f"exported {kept} -> {args.export}")
    return 0


def validation_predictor(model, args):
    """Validation measures as the app does: the network in training behind the one predictor."""
    from fetalhc.model.loader import load_segmenter
    from fetalhc.predictor import HeadPredictor
    from fetalhc.settings import Settings
    from fetalhc.training.validation import training_segmenter

    in_training = training_segmenter(model, f"stage {args.stage} in training")
    if args.stage == 1:
        return HeadPredictor(in_training, Settings())
    return HeadPredictor(load_segmenter(args.stage1), Settings(), refiner=in_training)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
