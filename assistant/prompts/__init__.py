"""Prompt templates, one text file per prompt in this folder, loaded by name.

A file is a chat: lines `[system]`, `[user]` or `[assistant]` start a message, and the text up to the next
such line is its content. Placeholders are `string.Template` ones (`$question`), so braces in articles need
no escaping and a missing value is an error, not a blank.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from string import Template

_ROLE = re.compile(r"^\[(system|user|assistant)\]\s*$", re.MULTILINE)


@cache
def load(name: str) -> list[tuple[str, Template]]:
    """The messages of `<name>.txt` as (role, template) pairs."""
    path = resources.files(__package__) / f"{name}.txt"
    if not path.is_file():
        raise KeyError(f"no prompt named {name!r}")
    parts = _ROLE.split(path.read_text(encoding="utf-8"))
    if parts[0].strip() or len(parts) < 3:
        raise ValueError(f"prompt {name!r} must start with a [system] or [user] line")
    return [(role, Template(text.strip())) for role, text in zip(parts[1::2], parts[2::2], strict=True)]


def render(name: str, **values: str) -> list[dict[str, str]]:
    """Prompt `name` as chat messages with its placeholders filled in."""
    return [{"role": role, "content": template.substitute(values)} for role, template in load(name)]
