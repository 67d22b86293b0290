"""Figures of an evaluation: Bland-Altman plot and overlays of the worst images."""
from __future__ import annotations

from pathlib import Path

import cv2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from fetalhc.measurement.geometry import Ellipse  # noqa: E402
from fetalhc.overlay import draw_ellipse  # noqa: E402


def bland_altman(reference: np.ndarray, predicted: np.ndarray, path: Path, title: str) -> None:
    """Difference against mean of the two HC measurements, with bias and 95 % limits of agreement."""
    mean = (reference + predicted) / 2.0
    diff = predicted - reference
    bias, sd = float(np.mean(diff)), float(np.std(diff, ddof=1))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.scatter(mean, diff, s=10, alpha=0.7)
    for y, style, label in [(bias, "-", f"bias {bias:+.2f} mm"),
                            (bias + 1.96 * sd, "--", f"+1.96 SD {bias + 1.96 * sd:+.2f} mm"),
                            (bias - 1.96 * sd, "--", f"-1.96 SD {bias - 1.96 * sd:+.2f} mm")]:
        ax.axhline(y, color="tab:red", linestyle=style, linewidth=1, label=label)
    ax.set_xlabel("mean of reference and predicted HC (mm)")
    ax.set_ylabel("predicted - reference HC (mm)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def comparison_overlay(gray: np.ndarray, reference: Ellipse, predicted: Ellipse | None, caption: str) -> np.ndarray:
    """The image with the reference ellipse in green and the prediction in red (BGR)."""
    img = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    draw_ellipse(img, reference, (0, 200, 0), 2)
    if predicted is not None:
        draw_ellipse(img, predicted, (0, 0, 255), 2)
    cv2.putText(img, caption, (10, 25), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1, cv2.LINE_AA)
    return img
