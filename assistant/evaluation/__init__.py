"""`assistant eval`: run question sets under configs and report retrieval, answer, citation and latency quality."""

from assistant.evaluation.configs import PRESETS, Config, ConfigError, load_config
from assistant.evaluation.indexes import CorpusError
from assistant.evaluation.report import write_report
from assistant.evaluation.runner import EvalRun, EvalRunError, prediction_text, run_eval
from assistant.evaluation.sets import EvalSet, SetError, read_set

__all__ = [
    "PRESETS",
    "Config",
    "ConfigError",
    "CorpusError",
    "EvalRun",
    "EvalRunError",
    "EvalSet",
    "SetError",
    "load_config",
    "prediction_text",
    "read_set",
    "run_eval",
    "write_report",
]
