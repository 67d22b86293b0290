"""Batch measurement of image folders and the HC18 challenge submission."""
