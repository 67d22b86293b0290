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

from fetalhc.model.onnx_file import damaged_onnx_error, onnx_path


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
    try:
        compiled = ov.Core().compile_model(str(path), "CPU", compile_config(threads))
    except Exception as exc:  # OpenVINO raises RuntimeError subclasses for a damaged file
        raise damaged_onnx_error(path, exc) from exc
    # An infer request holds its input and output buffers, so it must not be shared by the
    # threads of one server worker (gunicorn --threads): each thread gets its own.
    local = threading.local()

    def forward(x: np.ndarray) -> np.ndarray:
        request = getattr(local, "request", None)
        if request is None:
            request = local.request = compiled.create_infer_request()
        return request.infer({0: x})[0]  # a copy: the request's buffer is reused on the next call

    return forward
