"""Facts about the network's input that serving needs without importing Keras."""

INPUT_SIZE = 256
# Stage widths of the DAG V-Net, chosen by measurement on 2 CPU cores (docs/model.md): 2.0 M
# parameters, about 85 epochs in two hours.
DEFAULT_WIDTHS = (12, 24, 48, 96, 192)
# The folder of a model folder that holds its second stage (network, model.onnx, card).
STAGE2_DIR = "stage2"
# Stage 2's window: this many times the stage-1 ellipse's long axis on each side (training varies it).
CROP_MARGIN = 1.3
