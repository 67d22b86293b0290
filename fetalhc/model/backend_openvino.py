"""The OpenVINO backend (the default): ``model.onnx`` compiled for the CPU, without TensorFlow.

Chosen by measurement (``python bench/run_bench.py``; README, Performance): on the same file it
is the fastest of the three runtimes, for one image and for a batch, with the same outputs as
the SavedModel, and starts as fast as ONNX Runtime.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import openvino as ov

from fetalhc.model.constants import INPUT_SIZE
from fetalhc.model.onnx_file import SOURCE_DIGEST_KEY, check_exported_from, damaged_onnx_error, onnx_path


def compile_config(threads: int) -> dict:
    """CPU settings for a small instance (2 vCPUs) that may run several server workers at once."""
    return {
        "PERFORMANCE_HINT": "LATENCY",  # one stream: all of ``threads`` work on each image
        "INFERENCE_NUM_THREADS": threads,
        # Without this, CPUs with bf16 or fp16 units (recent Xeons, Graviton) run the network in that
        # precision, and the HC of one image would depend on which CPU the instance landed on.
        "INFERENCE_PRECISION_HINT": "f32",
        # Pinning puts every worker's threads on the same first cores; the kernel spreads them better.
        "ENABLE_CPU_PINNING": False,
    }


def load_openvino_forward(model_dir: Path, threads: int) -> Callable[[np.ndarray], np.ndarray]:
    """``model_dir/model.onnx`` as a function (N, 256, 256, 1) float32 -> (N, 256, 256, 1)."""
    path = onnx_path(model_dir)
    core = ov.Core()
    config = compile_config(threads)
    try:
        model = core.read_model(str(path))
        # The app predicts one image at a time: a model compiled for exactly that shape is faster
        # than one that takes any batch size, which is compiled only when a batch first comes
        # (batch measurement, evaluation) because it holds memory of its own.
        single = model.clone()
        single.reshape([1, INPUT_SIZE, INPUT_SIZE, 1])
        compiled = {"single": core.compile_model(single, "CPU", config)}
    except Exception as exc:  # OpenVINO raises RuntimeError subclasses for a damaged file
        raise damaged_onnx_error(path, exc) from exc
    key = ["framework", SOURCE_DIGEST_KEY]  # where OpenVINO keeps the ONNX file's metadata
    check_exported_from(path, model.get_rt_info(key).astype(str) if model.has_rt_info(key) else None)
    compile_lock = threading.Lock()
    # An infer request holds its input and output buffers, so it must not be shared by the
    # threads of one server worker (gunicorn --threads): each thread gets its own.
    local = threading.local()

    def request_for(shape: str) -> ov.InferRequest:
        requests = local.__dict__.setdefault("requests", {})
        if shape not in requests:
            with compile_lock:
                if shape not in compiled:
                    compiled[shape] = core.compile_model(model, "CPU", config)
            requests[shape] = compiled[shape].create_infer_request()
        return requests[shape]

    def forward(x: np.ndarray) -> np.ndarray:
        # A copy comes back: the request's output buffer is reused on its next call.
        return request_for("single" if len(x) == 1 else "batch").infer({0: x})[0]

    return forward
