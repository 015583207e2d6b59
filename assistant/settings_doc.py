"""docs/configuration.md, generated from `Settings`: `python -m assistant.settings_doc > docs/configuration.md`.

Every field becomes one row: its `ASSISTANT_*` variable, its command-line flag if a command has one, its type, its
default, and the comment written directly above the field in `assistant/settings.py`. `tests/test_settings.py`
checks that docs/configuration.md is exactly this module's output, so the page cannot go stale.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import sys
from typing import Any, get_args, get_type_hints

from assistant.settings import Settings

COMMAND = "python -m assistant.settings_doc > docs/configuration.md"

# The few fields with no comment of their own in settings.py. A comment above the field wins; an entry here for
# a field that has one, or for a field that no longer exists, is an error (so this list shrinks, never rots).
UNCOMMENTED = {
    "index_dir": "The embedded Chroma index folder; uploads go to its `uploads/` unless `upload_dir` is set.",
    "collection": "Prefix of the Chroma collections (`<collection>-passages`, `-sentences`, `-documents`, `-meta`).",
    "embed_batch_size": "Sentences encoded per batch.",
    "passage_overlap_sentences": "Sentences shared by neighbouring passages.",
    "top_k": "Passages retrieved per question.",
    "weight_bm25": "Fusion weight of the BM25 branch (0: it does not run).",
    "rerank_candidates": "How many of the fused candidates are reranked.",
    "mmr_lambda": "MMR trade-off between relevance (1) and diversity (0).",
    "type_weight": "See `lexical_weight`: added when a sentence holds the asked-for kind of answer.",
    "max_answer_sentences": "Sentences in an answer to a why/how question.",
    "auth_file": "A file of `user:password` lines, instead of or besides `auth`.",
    "debug": "Tracebacks instead of one-line errors, and every library's log lines.",
    "llm_max_tokens": "Longest generated answer, in tokens.",
}

INTRO = """\
# Configuration

<!-- Generated from assistant/settings.py by `{command}`; do not edit by hand (tests/test_settings.py checks it). -->

Every setting is a field of `Settings` in `assistant/settings.py`: its default, overridden by its `ASSISTANT_*`
environment variable, overridden by a command-line flag where a command has one. The meanings below are the
comments above each field in settings.py (for the few fields without one: `UNCOMMENTED` in
assistant/settings_doc.py).

- An empty variable counts as unset. Booleans take `1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off`; paths
  expand `~`; a value of the wrong type is a one-line error naming the variable.
- `assistant eval --config "default,top_k=10"` and its config files use the field names.
- Python: `Settings.from_env(top_k=8)`, `Assistant(settings=...)` or `Assistant(index_dir, top_k=8)`.

| env var | flag | type | default | meaning |
| --- | --- | --- | --- | --- |
"""


def field_comments(cls: type = Settings) -> dict[str, str]:
    """The comment lines written directly above each field of `cls` in its source, joined into one paragraph."""
    lines, _ = inspect.getsourcelines(cls)
    (node,) = ast.parse(inspect.getsource(cls)).body
    assert isinstance(node, ast.ClassDef)
    comments: dict[str, str] = {}
    for stmt in node.body:
        if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
            continue
        above: list[str] = []
        i = stmt.lineno - 2  # the line above the field, 0-based in `lines`
        while i >= 0 and lines[i].strip().startswith("#"):
            above.insert(0, lines[i].strip().lstrip("#").strip())
            i -= 1
        if above:
            comments[stmt.target.id] = " ".join(above)
    return comments


def cli_flags() -> dict[str, list[str]]:
    """Settings fields that a command-line option sets, and that option's flags (`--index`, `-k/--top-k`)."""
    import click

    from assistant.cli import main

    names = {f.name for f in dataclasses.fields(Settings)}
    flags: dict[str, list[str]] = {}
    commands: list[click.Command] = [main, *main.commands.values()]
    for command in commands:
        for param in command.params:
            if isinstance(param, click.Option) and param.name in names:
                spelled = "/".join(sorted(param.opts, key=len))
                if spelled not in flags.setdefault(param.name, []):
                    flags[param.name].append(spelled)
    return flags


def _type_name(kind: Any) -> str:
    args = [a for a in get_args(kind) if a is not type(None)]
    if args:  # `float | None`
        return f"{args[0].__name__} or unset"
    return getattr(kind, "__name__", str(kind))


def _default(f: dataclasses.Field[Any]) -> str:
    value = f.default if f.default_factory is dataclasses.MISSING else f.default_factory()
    if value is None:
        return "(unset)"
    if value == "":
        return "(empty)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    """The whole of docs/configuration.md."""
    comments = field_comments()
    fields = dataclasses.fields(Settings)
    names = {f.name for f in fields}
    if stale := sorted(set(UNCOMMENTED) - names):
        raise ValueError(f"settings_doc.UNCOMMENTED names fields Settings does not have: {', '.join(stale)}")
    if doubled := sorted(set(UNCOMMENTED) & set(comments)):
        raise ValueError(f"settings_doc.UNCOMMENTED repeats fields commented in settings.py: {', '.join(doubled)}")
    if missing := [f.name for f in fields if f.name not in comments and f.name not in UNCOMMENTED]:
        raise ValueError(f"add a comment above {', '.join(missing)} in assistant/settings.py")
    hints = get_type_hints(Settings)
    flags = cli_flags()
    rows = [
        f"| `ASSISTANT_{f.name.upper()}` | {', '.join(f'`{x}`' for x in flags.get(f.name, []))} "
        f"| {_type_name(hints[f.name])} | {_cell(_default(f))} "
        f"| {_cell(comments.get(f.name) or UNCOMMENTED[f.name])} |"
        for f in fields
    ]
    return INTRO.format(command=COMMAND) + "\n".join(rows) + "\n"


def main() -> None:
    sys.stdout.buffer.write(render().encode("utf-8"))  # UTF-8 whatever the terminal's locale


if __name__ == "__main__":
    main()
