"""Train the DAG V-Net: ``python -m fetalhc.training.train --out runs/NAME``.

Checkpoints ``last.keras`` every epoch and ``best.keras`` on the best validation HC error,
logs ``history.csv`` and ``learning_curves.png``, resumes with ``--resume``, and exports the
best model as a SavedModel with ``--export``.
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

EPOCHS = 90
BATCH_SIZE = 8
LEARNING_RATE = 1e-3
PATIENCE = 25
SEED = 1234
WIDTHS = (12, 24, 48, 96, 192)


def parse_args(argv=None) -> argparse.Namespace:
    from fetalhc.data.dataset import DEFAULT_DATASET_CSV

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset-csv", type=Path, default=DEFAULT_DATASET_CSV)
    p.add_argument("--out", type=Path, required=True, help="run folder for checkpoints and logs")
    p.add_argument("--epochs", type=int, default=None, help=f"default {EPOCHS} (2 with --quick)")
    p.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    p.add_argument("--lr", type=float, default=LEARNING_RATE)
    p.add_argument("--widths", type=str, default=",".join(map(str, WIDTHS)))
    p.add_argument("--patience", type=int, default=PATIENCE, help="early stopping, in epochs")
    p.add_argument("--time-budget-min", type=float, default=None,
                   help="stop before starting an epoch that would end past this many minutes")
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.keras")
    p.add_argument("--init-from", type=Path, default=None,
                   help="start from this .keras model's weights with a fresh optimizer and schedule "
                        "(a warm restart, e.g. a short low-learning-rate run after early stopping)")
    p.add_argument("--export", type=Path, default=None, help="write the best model as a SavedModel here")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 8 images, 2 epochs of 2 steps (for tests)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.quick:
        args.epochs, steps_override, limit = args.epochs or 2, 2, 8
        args.batch_size = 2
    else:
        args.epochs, steps_override, limit = args.epochs or EPOCHS, None, None

    import keras
    import tensorflow as tf

    from fetalhc.model.export import export_savedmodel
    from fetalhc.model.losses import HEAD_LOSS_WEIGHTS, dice_bce_loss, dice_coefficient
    from fetalhc.model.network import HEAD_NAMES, build_dag_vnet
    from fetalhc.training.data import load_dataset, training_dataset
    from fetalhc.training.plots import plot_learning_curves, save_pair_overlays
    from fetalhc.training.validation import summarise

    keras.utils.set_random_seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    train, val = load_dataset(args.dataset_csv, limit)
    print(f"train: {len(train.images)} images of {train.table['subject'].nunique()} subjects; "
          f"validation: {len(val.images)} images of {val.table['subject'].nunique()} subjects")
    # Look before training: a mis-paired image/mask is visible at once in these overlays.
    save_pair_overlays(train, args.out / "pairs_check.png")

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
        if args.init_from:
            model = keras.models.load_model(args.init_from, compile=False)
            print(f"starting from the weights of {args.init_from}")
        else:
            model = build_dag_vnet(tuple(int(w) for w in args.widths.split(",")))
        schedule = keras.optimizers.schedules.CosineDecay(
            args.lr, decay_steps=args.epochs * steps, alpha=0.02,
            warmup_target=None)
        model.compile(optimizer=keras.optimizers.Adam(schedule),
                      loss={h: dice_bce_loss for h in HEAD_NAMES}, loss_weights=HEAD_LOSS_WEIGHTS,
                      metrics={"main_output": [dice_coefficient]})
    print(f"DAG V-Net: {model.count_params():,} parameters, {steps} steps per epoch")

    data = training_dataset(train, args.batch_size, args.seed)
    val_x = val.images[..., None]
    predict = tf.function(lambda x: model(x, training=False)[0])
    best_mae = min((h["val_hc_mae_mm"] for h in history), default=np.inf)
    since_best = len(history) - 1 - int(np.argmin([h["val_hc_mae_mm"] for h in history])) if history else 0
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
        probs = np.concatenate([predict(val_x[i:i + 16]).numpy()[..., 0] for i in range(0, len(val_x), 16)])
        row = {"epoch": epoch + 1, "loss": fit.history["loss"][-1],
               "main_dice": fit.history["main_output_dice_coefficient"][-1],
               "lr": float(model.optimizer.learning_rate.numpy()), **summarise(probs, val.masks, val.table)}
        epoch_times.append(time.time() - t0)
        row["seconds"] = epoch_times[-1]
        history.append(row)
        model.save(last)
        if row["val_hc_mae_mm"] < best_mae:
            best_mae, since_best = row["val_hc_mae_mm"], 0
            model.save(best)
        else:
            since_best += 1
        with open(history_path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(history[-1]))
            writer.writeheader()
            writer.writerows(history)
        plot_learning_curves(history, args.out / "learning_curves.png")
        print(f"epoch {epoch + 1}: " + ", ".join(f"{k}={v:.4g}" for k, v in row.items() if k != "epoch")
              + (" (best)" if since_best == 0 else ""), flush=True)
        if since_best >= args.patience:
            print(f"early stop: no better validation HC error in {args.patience} epochs")
            break

    summary = {"epochs_run": len(history), "best_epoch": 1 + int(np.argmin([h["val_hc_mae_mm"] for h in history])),
               "best_val_hc_mae_mm": best_mae, "train_minutes": (time.time() - started) / 60,
               "init_from": str(args.init_from) if args.init_from else None,
               "command": "python -m fetalhc.training.train " + " ".join(argv if argv is not None else sys.argv[1:])}
    (args.out / "train_summary.json").write_text(json.dumps(summary, indent=2))
    if args.export:
        export_savedmodel(keras.models.load_model(best, compile=False), args.export)
        print(f"exported {best} -> {args.export}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
