"""Export the served SavedModel as ``model.onnx`` beside it: ``python -m fetalhc.model.onnx_export [--model DIR]``.

The file is checked against the SavedModel on random images before it replaces an older one,
and carries the SavedModel's digest so that the loader refuses it once the SavedModel changes.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import numpy as np

from fetalhc.model.constants import INPUT_SIZE
from fetalhc.model.onnx_file import ONNX_NAME, SOURCE_DIGEST_KEY, savedmodel_digest
from fetalhc.paths import DEFAULT_MODEL_DIR

# Opset 17 is run by every onnxruntime release since 1.13.
OPSET = 17
# Largest difference in probability accepted between the two runtimes.
TOLERANCE = 1e-4


def export_onnx(model_dir: Path) -> Path:
    """Convert ``model_dir``'s SavedModel to ``model_dir/model.onnx`` (float32, dynamic batch); returns the path."""
    import onnx
    import onnxruntime as ort
    import tensorflow as tf
    import tf2onnx

    tf2onnx.logging.set_level(logging.ERROR)
    loaded = tf.saved_model.load(str(model_dir))  # kept: `serve` holds only weak references to its variables
    serve = loaded.serve
    spec = tf.TensorSpec((None, INPUT_SIZE, INPUT_SIZE, 1), tf.float32, name="image")
    proto, _ = tf2onnx.convert.from_function(serve, input_signature=[spec], opset=OPSET)
    onnx.helper.set_model_props(proto, {SOURCE_DIGEST_KEY: savedmodel_digest(model_dir)})

    target = model_dir / ONNX_NAME
    partial = target.with_suffix(".onnx.partial")
    onnx.save(proto, partial)
    x = np.random.default_rng(0).random((2, INPUT_SIZE, INPUT_SIZE, 1), dtype=np.float32)
    session = ort.InferenceSession(str(partial), providers=["CPUExecutionProvider"])
    diff = float(np.abs(session.run(None, {"image": x})[0] - serve(tf.constant(x)).numpy()).max())
    if diff > TOLERANCE:
        partial.unlink()
        raise RuntimeError(f"the ONNX export differs from the SavedModel by {diff:.2g} (> {TOLERANCE:g}); not written")
    os.replace(partial, target)  # atomic: a running server never reads half a file
    return target


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR, help="SavedModel folder (default: %(default)s)")
    args = p.parse_args(argv)
    target = export_onnx(args.model)
    print(f"exported {args.model} -> {target} ({target.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
