from dataclasses import dataclass, fields
from pathlib import Path

import pytest

from assistant import settings_doc
from assistant.settings import Settings

CONFIGURATION = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_every_setting_is_documented_in_docs_configuration() -> None:
    generated = settings_doc.render()
    assert CONFIGURATION.read_text(encoding="utf-8") == generated, (
        f"docs/configuration.md is stale: run `{settings_doc.COMMAND}`"
    )
    for f in fields(Settings):
        assert f"| `ASSISTANT_{f.name.upper()}` |" in generated


@dataclass(frozen=True)
class _Commented:
    # One line,
    # and a second.
    first: int = 1
    second: str = ""  # a comment beside a field is not above the next one
    third: float = 0.5


def test_the_generator_reads_the_comment_lines_directly_above_each_field() -> None:
    assert settings_doc.field_comments(_Commented) == {"first": "One line, and a second."}
    assert settings_doc.cli_flags()["top_k"] == ["-k/--top-k"]


def test_env_vars_then_overrides() -> None:
    env = {"ASSISTANT_TOP_K": "9", "ASSISTANT_RERANK": "off", "ASSISTANT_INDEX_DIR": "~/news"}
    settings = Settings.from_env(env, top_k=None, min_score=0.5)
    assert settings.top_k == 9 and settings.rerank is False and settings.min_score == 0.5
    assert settings.index_dir == Path("~/news").expanduser()
    assert Settings.from_env(env, top_k=3).top_k == 3


def test_bad_values_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="ASSISTANT_TOP_K='many' is not a valid int"):
        Settings.from_env({"ASSISTANT_TOP_K": "many"})
    with pytest.raises(ValueError, match="backend 'gpt' is not one of"):
        Settings.from_env({"ASSISTANT_BACKEND": "gpt"})
