"""Training of the DAG V-Net on the HC18 data set CSV."""
