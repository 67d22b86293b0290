"""HC18 data preparation: masks from annotations, data set CSVs, augmentation.

The logic lives here; ``scripts/`` holds thin command-line entry points.
"""
