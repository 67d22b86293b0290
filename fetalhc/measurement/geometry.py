"""Ellipse geometry: fitting, perimeter, rasterising, in the OpenCV drawing convention."""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Ellipse:
    """An ellipse in image coordinates (x right, y down).

    ``cv2.ellipse(img, (cx, cy), (semi_major, semi_minor), angle_deg, 0, 360, ...)`` draws it:
    ``angle_deg`` is the clockwise-on-screen rotation of the major axis from the x axis, in [0, 180).
    """

    center_x: float
    center_y: float
    semi_major: float
    semi_minor: float
    angle_deg: float

    @property
    def perimeter(self) -> float:
        return ramanujan_perimeter(self.semi_major, self.semi_minor)

    def normalised(self) -> "Ellipse":
        """The same ellipse with ``semi_major`` the longer semi-axis and ``angle_deg`` in [0, 180)."""
        if self.semi_major >= self.semi_minor:
            return Ellipse(self.center_x, self.center_y, self.semi_major, self.semi_minor, self.angle_deg % 180.0)
        return Ellipse(self.center_x, self.center_y, self.semi_minor, self.semi_major, (self.angle_deg + 90.0) % 180.0)

    def sample(self, n: int = 360) -> np.ndarray:
        """``n`` points on the ellipse, shape (n, 2) as (x, y)."""
        t = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
        th = math.radians(self.angle_deg)
        x = self.semi_major * np.cos(t)
        y = self.semi_minor * np.sin(t)
        return np.stack([
            self.center_x + x * math.cos(th) - y * math.sin(th),
            self.center_y + x * math.sin(th) + y * math.cos(th),
        ], axis=1)

    def contains(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Boolean array: which points (x, y) lie inside or on the ellipse."""
        th = math.radians(self.angle_deg)
        dx, dy = x - self.center_x, y - self.center_y
        u = (dx * math.cos(th) + dy * math.sin(th)) / self.semi_major
        v = (-dx * math.sin(th) + dy * math.cos(th)) / self.semi_minor
        return u * u + v * v <= 1.0


def ramanujan_perimeter(a: float, b: float) -> float:
    """Perimeter of an ellipse with semi-axes ``a`` and ``b``: Ramanujan's second approximation.

    S. Ramanujan, "Modular equations and approximations to pi", Quart. J. Pure Appl. Math. 45
    (1914) 350-372: P = pi (a + b) (1 + 3h / (10 + sqrt(4 - 3h))), h = (a - b)^2 / (a + b)^2.
    Its relative error is below 1e-9 for the eccentricities of a fetal head, and it is the
    formula the HC18 reference values were computed with.
    """
    if a + b == 0:
        return 0.0
    h = ((a - b) / (a + b)) ** 2
    return math.pi * (a + b) * (1.0 + 3.0 * h / (10.0 + math.sqrt(4.0 - 3.0 * h)))


def fit_ellipse(points_xy: np.ndarray) -> Ellipse:
    """Least-squares ellipse through ``points_xy`` (N >= 5, as x, y) with OpenCV's direct fit.

    ``cv2.fitEllipseDirect`` (Fitzgibbon's constraint) always returns an ellipse, unlike the
    general conic fit that can return a hyperbola on a short arc of a clipped head.
    """
    pts = np.ascontiguousarray(points_xy, dtype=np.float32).reshape(-1, 2)
    if len(pts) < 5:
        raise ValueError("an ellipse needs at least 5 points")
    (cx, cy), (w, h), angle = cv2.fitEllipseDirect(pts)
    # OpenCV's angle rotates the first axis (w); report the major axis instead.
    return Ellipse(float(cx), float(cy), float(w) / 2.0, float(h) / 2.0, float(angle)).normalised()


def draw_filled(shape: tuple[int, int], ellipse: Ellipse, value: int = 255) -> np.ndarray:
    """A ``uint8`` image of ``shape``: ``value`` where the pixel centre lies inside ``ellipse``.

    Centre sampling (rather than ``cv2.ellipse``, which also paints pixels the outline only
    touches) puts the mask's 0.5 iso-contour on the ellipse itself, so a sub-pixel contour of
    the mask gives back the ellipse without a half-pixel bias.
    """
    ys, xs = np.mgrid[0:shape[0], 0:shape[1]]
    return np.where(ellipse.contains(xs, ys), value, 0).astype(np.uint8)
