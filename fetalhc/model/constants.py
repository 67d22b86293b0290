"""Facts about the network's input that serving needs without importing Keras."""

INPUT_SIZE = 256
