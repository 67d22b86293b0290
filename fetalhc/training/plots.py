"""Pictures a person looks at during training: data pairing and learning curves."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def save_pair_overlays(split, path: Path, n: int = 8) -> None:
    """The first ``n`` image/mask pairs with the mask outline in red, titled by file name."""
    n = min(n, len(split.images))
    cols = min(4, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 3 * rows), squeeze=False)
    for ax, i in zip(axes.flat, range(n)):
        ax.imshow(split.images[i], cmap="gray", vmin=0, vmax=1)
        ax.contour(split.masks[i], levels=[0.5], colors="red", linewidths=0.8)
        ax.set_title(split.table["filename"].iloc[i], fontsize=8)
    for ax in axes.flat:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def plot_learning_curves(history: list[dict], path: Path) -> None:
    epochs = [h["epoch"] for h in history]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.plot(epochs, [h["loss"] for h in history], label="training loss")
    a.set_xlabel("epoch")
    a.set_yscale("log")
    a.legend()
    if "val_hc_mae_mm" in history[-1]:
        b.plot(epochs, [h["val_hc_mae_mm"] for h in history], label="validation mean |HC error| (mm)")
        b.plot(epochs, [h["val_hc_p95_mm"] for h in history], label="validation p95 |HC error| (mm)")
        b.set_yscale("log")
    else:  # trained from a pack: no validation images
        b.plot(epochs, [h["main_dice"] for h in history], label="training Dice (main head)")
    b.set_xlabel("epoch")
    b.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
