"""Configs: presets, files, inline overrides, and clear errors."""

from pathlib import Path

import pytest

from assistant.evaluation.configs import PRESETS, Config, ConfigError, load_config, load_configs
from assistant.settings import Settings
from tests.conftest import write


def test_presets() -> None:
    assert load_config("default") == Config("default", "assistant", {})
    assert load_config("baseline").pipeline == "baseline"
    assert set(PRESETS) >= {"default", "baseline"}
    assert [c.name for c in load_configs([])] == ["default"]


def test_inline_overrides_are_typed_and_can_extend_a_preset() -> None:
    c = load_config("top_k=8,min_score=0.2,debug=yes")
    assert c.overrides == {"top_k": 8, "min_score": 0.2, "debug": True}
    assert c.name == "top_k=8,min_score=0.2,debug=yes"
    settings = c.settings(Settings())
    assert (settings.top_k, settings.min_score, settings.debug) == (8, 0.2, True)
    extended = load_config("baseline,top_k=3")
    assert (extended.pipeline, extended.overrides) == ("baseline", {"top_k": 3})


def test_toml_and_json_files(tmp_path: Path) -> None:
    toml = write(tmp_path / "wide.toml", 'name = "wide"\ntop_k = 10\nmin_score = 0\n')
    c = load_config(str(toml))
    assert c == Config("wide", "assistant", {"top_k": 10, "min_score": 0.0})
    js = write(tmp_path / "lc.json", '{"preset": "baseline", "passage_chars": 400}')
    c = load_config(str(js))
    assert (c.name, c.pipeline, c.overrides) == ("lc", "baseline", {"passage_chars": 400})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nonsense", "unknown config 'nonsense'"),
        ("top_kk=3", "unknown setting 'top_kk'"),
        ("top_k=many", "top_k='many' is not a valid int"),
        ("index_dir=/tmp/x", "index_dir is chosen by `assistant eval`"),
        ("pipeline=magic", "pipeline must be one of"),
        ("nopreset,top_k=3", "unknown preset 'nopreset'"),
    ],
)
def test_invalid_configs_fail_clearly(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("`", ".")):
        load_config(spec)


def test_invalid_config_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(str(write(tmp_path / "bad.toml", "top_k = = 3")))
    with pytest.raises(ConfigError, match="top_k=1.5 is not a valid int"):
        load_config(str(write(tmp_path / "float.json", '{"top_k": 1.5}')))
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(str(tmp_path / "missing.toml"))


def test_config_names_must_be_distinct() -> None:
    with pytest.raises(ConfigError, match="repeated: default"):
        load_configs(["default", "default"])
