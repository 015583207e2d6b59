"""ONNX Runtime, imported and its sessions made only here: CPU only, quiet, sleeping idle threads, telemetry off."""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType
from typing import Any

from assistant.models import offline_env


def runtime() -> ModuleType:
    """The onnxruntime module, imported with its telemetry off."""
    # The PyPI build of ONNX Runtime sends usage events (1DS, to mobile.events.data.microsoft.com) and keeps a
    # device id in ~/.cache/Microsoft. It reads this switch when it is imported; disable_telemetry_events() alone,
    # called later, did not stop the lookups (strace, issue 20). Every import of onnxruntime goes through here.
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    offline_env()
    import onnxruntime

    onnxruntime.disable_telemetry_events()
    return onnxruntime


def session(path: Path, threads: int = 0, optimized_path: Path | None = None) -> Any:
    """An inference session for the graph at `path`; with `optimized_path`, its optimized graph is saved there."""
    ort = runtime()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # Idle threads sleep instead of spinning: the cores are shared with Chroma, the UI and other processes.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if optimized_path is not None:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(optimized_path)
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
