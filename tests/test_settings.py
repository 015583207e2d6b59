import re
from dataclasses import fields
from pathlib import Path

import pytest

from assistant.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented_in_the_readme() -> None:
    documented = set(re.findall(r"`ASSISTANT_([A-Z0-9_]+)`", README))
    missing = [f.name for f in fields(Settings) if f.name.upper() not in documented]
    assert not missing, f"README's configuration table lacks {missing}"


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
