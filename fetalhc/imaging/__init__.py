"""Image decoding and calibration: one loader for every entry point."""
from fetalhc.imaging.decode import load_image, load_image_file
from fetalhc.imaging.types import ImageLoadError, LoadedImage, PixelSpacing

__all__ = ["ImageLoadError", "LoadedImage", "PixelSpacing", "load_image", "load_image_file"]
