"""Evaluation of measurements against the HC18 reference annotations."""
