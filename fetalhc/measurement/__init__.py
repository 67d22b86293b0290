"""Measurement of the fetal head from a segmentation probability map."""
from fetalhc.measurement.biometry import Biometry, measure_head
from fetalhc.measurement.contour import NoHeadFoundError
from fetalhc.measurement.geometry import Ellipse, fit_ellipse, ramanujan_perimeter

__all__ = ["Biometry", "Ellipse", "NoHeadFoundError", "fit_ellipse", "measure_head", "ramanujan_perimeter"]
