"""fetalhc: fetal head circumference from 2D ultrasound images (research use, not a medical device)."""

__version__ = "0.1.0"
