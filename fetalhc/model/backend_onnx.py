"""The ONNX Runtime backend: ``model.onnx`` run on the CPU, without TensorFlow in the process."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime as ort

from fetalhc.model.onnx_file import SOURCE_DIGEST_KEY, check_exported_from, damaged_onnx_error, onnx_path


def session_options(threads: int) -> ort.SessionOptions:
    """Options for a small CPU (2 vCPUs) that may run several server workers at once."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    # The network's parallel branches (attention gates) are small: both cores go to each operation.
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle threads that spin steal the core another worker (or request) needs; on a busy 2-core
    # machine spinning doubled the latency with 2 threads (README, Performance).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def load_onnx_forward(model_dir: Path, threads: int) -> Callable[[np.ndarray], np.ndarray]:
    """``model_dir/model.onnx`` as a function (N, 256, 256, 1) float32 -> (N, 256, 256, 1)."""
    path = onnx_path(model_dir)
    try:
        session = ort.InferenceSession(str(path), session_options(threads), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for a damaged file
        raise damaged_onnx_error(path, exc) from exc
    check_exported_from(path, session.get_modelmeta().custom_metadata_map.get(SOURCE_DIGEST_KEY))
    input_name = session.get_inputs()[0].name

    def forward(x: np.ndarray) -> np.ndarray:
        return session.run(None, {input_name: x})[0]

    return forward
