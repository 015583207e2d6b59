"""The `assistant` command."""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from assistant.settings import BACKENDS, Settings
from assistant.types import Filters, IngestReport, counted, is_url

index_option = click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Index folder (default: $ASSISTANT_INDEX_DIR or ./index).",
)
chroma_option = click.option(
    "--chroma-url",
    default=None,
    help="Use a Chroma server, e.g. http://127.0.0.1:8000 (default: $ASSISTANT_CHROMA_URL).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
backend_option = click.option(
    "--backend",
    type=click.Choice(BACKENDS),
    default=None,
    help="Who writes the answer: extractive (default, no model), llamacpp (local GGUF model) or openai "
    "(an OpenAI-compatible server at $ASSISTANT_LLM_URL). Generated citations are verified against the articles.",
)


# The fields a filter error names (see Filters), as this command's flags.
_FILTER_FLAGS = {"date_from": "--date-from", "date_to": "--date-to"}


class BadFlag(click.ClickException):
    """A flag's value that cannot be used: one line naming the flag, and the exit status of a usage error."""

    exit_code = 2


def _filters(sources: tuple[str, ...], date_from: str | None, date_to: str | None) -> Filters:
    """The filters the flags ask for; a date that is no calendar day, or a range ending before it starts, is a
    BadFlag (it would otherwise exclude every article)."""
    try:
        # Sources are stored as absolute paths (`file#line` for a jsonl record), or as URLs.
        paths = tuple(s if is_url(s) else os.path.abspath(os.path.expanduser(s)) for s in sources)
        return Filters(paths, date_from, date_to)
    except ValueError as e:
        message = str(e)
        for field, flag in _FILTER_FLAGS.items():
            message = message.replace(field, flag)
        raise BadFlag(message) from None


def _settings(ctx: click.Context, **overrides: Any) -> Settings:
    return Settings.from_env(debug=ctx.obj.get("debug") or None, **overrides)


def _assistant(settings: Settings) -> Any:
    from assistant.app import Assistant

    return Assistant(settings=settings)


def friendly_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Errors become one clear line and exit status 1; `--debug` shows the traceback instead."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as e:
            if click.get_current_context().obj.get("debug"):
                raise
            click.echo(f"Error: {e}", err=True)
            sys.exit(1)

    return wrapper


def configure_logging(debug: bool) -> None:
    """Our warnings on stderr; other libraries' records only when they are errors, or with --debug.

    Configured first, so a library calling logging.basicConfig later (ONNX Runtime's quantizer does) changes
    nothing; bm25s sets its own logger to DEBUG, pypdf warns about every odd PDF.
    """
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    if not debug:
        handler.addFilter(lambda r: r.name.split(".")[0] == "assistant" or r.levelno >= logging.ERROR)
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, handlers=[handler], force=True)


def _echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors, and every library's log lines.")
@click.version_option(package_name="assistant")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Ask questions about news articles and get answers with exact cited spans.

    \b
    Quick start:
      assistant ask "why did Tokayev prefer the CSTO?"   # uses the bundled sample article
      assistant ingest articles/                          # add your own (txt, md, html, pdf, jsonl, docx, odt, epub)
      assistant ask "who mediated between Erdogan and Putin?" --json
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    configure_logging(debug)


@main.command()
@click.argument("targets", nargs=-1, required=True, metavar="PATH|URL...")
@index_option
@chroma_option
@json_option
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a terminal).")
@click.pass_context
@friendly_errors
def ingest(
    ctx: click.Context,
    targets: tuple[str, ...],
    index_dir: Path | None,
    chroma_url: str | None,
    as_json: bool,
    progress: bool | None,
) -> None:
    """Add files or folders (txt, md, html, pdf, jsonl, docx, odt, epub), web pages and RSS/Atom feeds to the index.

    Unchanged files and pages are skipped, changed ones replace their old passages, and one that
    cannot be read is reported without stopping the others. A web page's article text is stored,
    with its title, date, author and URL; a feed's entries are each fetched as a page, and the ones
    already ingested are not fetched again. Exit status 1 if any file or page failed.

    \b
    Examples:
      assistant ingest news/ extra/article.html --index my-index
      assistant ingest https://example.org/news/2024/05/story.html
      assistant ingest https://example.org/world/rss.xml --json
    """
    bot = _assistant(_settings(ctx, index_dir=index_dir, chroma_url=chroma_url))
    _print_ingest(bot.ingest(targets, progress=progress), as_json)


def _print_ingest(report: IngestReport, as_json: bool) -> None:
    """The report as JSON, or as a line per web page and failure and a summary; exit status 1 if any failed."""
    if as_json:
        _echo_json(report.to_json())
    else:
        _echo_report(report)
    sys.exit(0 if report.ok else 1)


def _echo_report(report: IngestReport, prefix: str = "") -> None:
    for line in report.lines(is_url):
        click.echo(prefix + line, err=line.startswith("failed:"))
    click.echo(prefix + report.summary())


@main.command()
@click.argument("targets", nargs=-1, required=True, metavar="FEED_URL|FOLDER...")
@click.option(
    "--every",
    default="15m",
    show_default=True,
    metavar="INTERVAL",
    help="How often to ingest the targets again (30s, 15m, 2h); a folder's changes are ingested as they happen.",
)
@index_option
@chroma_option
@click.pass_context
@friendly_errors
def watch(
    ctx: click.Context, targets: tuple[str, ...], every: str, index_dir: Path | None, chroma_url: str | None
) -> None:
    """Keep feeds, pages and folders current until stopped (Ctrl-C).

    Each run ingests what is new or changed (feed entries already ingested are not fetched
    again) and prints what it added; a file deleted from a watched folder leaves the index.
    A running chat picks up the new documents.

    \b
    Examples:
      assistant watch https://example.org/world/rss.xml --every 30m
      assistant watch inbox/ https://example.org/feed.atom --index my-index
    """
    from assistant.watch import parse_interval
    from assistant.watch import watch as keep_current

    try:
        seconds = parse_interval(every)
    except ValueError as e:
        raise BadFlag(f"--every: {e}") from None
    bot = _assistant(_settings(ctx, index_dir=index_dir, chroma_url=chroma_url))

    def on_run(report: IngestReport, removed: list[str]) -> None:
        stamp = time.strftime("%H:%M:%S ")
        for source in removed:
            click.echo(f"{stamp}removed: {source}")
        _echo_report(report, stamp)

    # The first Ctrl-C lets the run under way finish (an interrupt could land anywhere in an ingest); a second one
    # stops at once.
    stop = threading.Event()

    def stop_after_this_run(signum: int, frame: object) -> None:
        signal.signal(signal.SIGINT, previous)
        stop.set()
        click.echo("Stopping after this run (Ctrl-C again stops now).", err=True)

    click.echo(f"Watching {counted(len(targets), 'target')} every {every}; Ctrl-C stops.", err=True)
    previous = signal.signal(signal.SIGINT, stop_after_this_run)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            keep_current(bot, targets, seconds, on_run, stop)
    finally:
        signal.signal(signal.SIGINT, previous)
    click.echo("Stopped.", err=True)


@main.command()
@click.argument("question")
@index_option
@chroma_option
@json_option
@click.option("-k", "--top-k", type=click.IntRange(1, 100), default=None, help="Passages to retrieve.")
@click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="PATH|URL",
    help="Answer only from this file (`file#line` for a jsonl record) or web page. Repeatable.",
)
@click.option("--date-from", metavar="YYYY-MM-DD", help="Answer only from articles dated on or after this day.")
@click.option("--date-to", metavar="YYYY-MM-DD", help="Answer only from articles dated on or before this day.")
@backend_option
@click.pass_context
@friendly_errors
def ask(
    ctx: click.Context,
    question: str,
    index_dir: Path | None,
    chroma_url: str | None,
    as_json: bool,
    top_k: int | None,
    sources: tuple[str, ...],
    date_from: str | None,
    date_to: str | None,
    backend: str | None,
) -> None:
    """Answer QUESTION with numbered citations of the exact supporting spans.

    On an empty index the bundled sample article is ingested first. With a language-model backend the
    model's draft streams to stderr as it is written; stdout gets the verified answer.

    \b
    Examples:
      assistant ask "why did Tokayev prefer the CSTO?" --json
      assistant ask "why did Tokayev prefer the CSTO?" --date-from 2022-01-01 --date-to 2022-01-31
      assistant ask "why did Tokayev prefer the CSTO?" --backend llamacpp
      ASSISTANT_LLM_URL=http://127.0.0.1:11434/v1 ASSISTANT_LLM_MODEL=qwen2.5:3b \\
        assistant ask "who mediated between Erdogan and Putin?" --backend openai
    """
    filters = _filters(sources, date_from, date_to)
    settings = _settings(ctx, index_dir=index_dir, chroma_url=chroma_url, top_k=top_k, backend=backend)
    bot = _assistant(settings)
    if bot.ensure_sample() is not None:
        # On stderr: stdout is the answer (or the JSON object) alone.
        click.echo("Note: the index was empty, so the bundled sample article was ingested first.", err=True)
    answer = _stream_answer(bot, question, filters, show_draft=not as_json and settings.backend != "extractive")
    if as_json:
        _echo_json(answer.to_json())
        return
    if answer.note:
        click.echo(f"Note: {answer.note}", err=True)
    if answer.short_answer:
        click.echo(f"Short answer: {answer.short_answer}")
    click.echo(answer.text)
    if answer.citations:
        click.echo()
    for c in answer.citations:
        click.echo(f"[{c.n}] {c.source} [{c.start}:{c.end}]")
        click.echo(f"    {c.text}")


def _stream_answer(bot: Any, question: str, filters: Filters, show_draft: bool) -> Any:
    """Ask `bot`, echoing the model's draft to stderr as it streams; return the final verified answer."""
    from assistant.types import Answer

    drafted = False
    for item in bot.stream(question, filters=filters):
        if isinstance(item, Answer):
            if drafted:
                click.echo("\n", err=True)
            return item
        if show_draft:
            click.echo(item, nl=False, err=True)
            drafted = True
    raise RuntimeError("the answer stream ended without an answer")


@main.command()
@index_option
@chroma_option
@json_option
@click.pass_context
@friendly_errors
def stats(ctx: click.Context, index_dir: Path | None, chroma_url: str | None, as_json: bool) -> None:
    """Count the documents and passages in the index.

    \b
    Examples:
      assistant stats --index my-index
      assistant stats --json                  # {"documents": 12, "passages": 340}
    """
    counts = _assistant(_settings(ctx, index_dir=index_dir, chroma_url=chroma_url)).stats()
    if as_json:
        _echo_json(counts)
    else:
        click.echo(f"{counted(counts['documents'], 'document')}, {counted(counts['passages'], 'passage')}")


@main.command()
@click.argument("source")
@index_option
@chroma_option
@click.pass_context
@friendly_errors
def delete(ctx: click.Context, source: str, index_dir: Path | None, chroma_url: str | None) -> None:
    """Remove a document (by file path, `file#line`, or doc id) and all its passages.

    A file path removes every document from that file (all the records of a jsonl file).

    \b
    Examples:
      assistant delete news/port-strike.md
      assistant delete news/feed.jsonl#3 --index my-index
    """
    removed = _assistant(_settings(ctx, index_dir=index_dir, chroma_url=chroma_url)).delete(source)
    if not removed:
        raise click.ClickException(f"no document from {source!r} in the index")
    click.echo(f"deleted {counted(removed, 'document')}")


@main.command()
@click.argument("doc")
@index_option
@chroma_option
@json_option
@click.pass_context
@friendly_errors
def show(ctx: click.Context, doc: str, index_dir: Path | None, chroma_url: str | None, as_json: bool) -> None:
    """Print a stored document (by doc id or source) exactly as its offsets index it.

    \b
    Examples:
      assistant show news/port-strike.md      # the text a citation's [start:end] indexes
      assistant show news/feed.jsonl#3 --json  # with its doc id and metadata (title, date)
    """
    bot = _assistant(_settings(ctx, index_dir=index_dir, chroma_url=chroma_url))
    found = bot.find(doc)
    if not found:
        raise click.ClickException(f"no document {doc!r} in the index")
    for info in found:
        text = bot.document_text(info.doc_id)
        if as_json:
            _echo_json({"doc_id": info.doc_id, "source": info.source, "metadata": info.metadata, "text": text})
        else:
            click.echo(text)


@main.command()
@index_option
@chroma_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (not local: needs auth).")
@click.option("--port", type=click.IntRange(0, 65535), default=7860, show_default=True, help="Port to listen on.")
@click.option(
    "--share",
    type=click.Choice(["never"]),
    default="never",
    show_default=True,
    help="Public share links are not offered: they tunnel through an outside server. To reach the chat from "
    "another machine, use --host with ASSISTANT_AUTH.",
)
@click.option(
    "--no-auth", is_flag=True, help="Serve a non-local --host without a password (only behind a proxy that checks)."
)
@backend_option
@click.pass_context
@friendly_errors
def chat(
    ctx: click.Context,
    index_dir: Path | None,
    chroma_url: str | None,
    host: str,
    port: int,
    share: str,
    no_auth: bool,
    backend: str | None,
) -> None:
    """Start the web chat (and its HTTP API) and print its URL.

    On an empty index the bundled sample article is ingested first. Binding anything but
    127.0.0.1/localhost requires ASSISTANT_AUTH=user:password (or ASSISTANT_AUTH_FILE=path).
    --backend picks who writes answers by default; the chat's settings offer every backend that works here.

    \b
    Example:
      assistant chat --index my-index          # then open http://127.0.0.1:7860
      ASSISTANT_AUTH=me:secret assistant chat --host 0.0.0.0
      assistant chat --backend llamacpp         # answers by the local model, verified
    """
    from assistant.ui import serve

    settings = _settings(ctx, index_dir=index_dir, chroma_url=chroma_url, backend=backend)
    try:
        serve(settings, host=host, port=port, no_auth=no_auth)
    except OSError as e:
        if not _address_in_use(e):
            raise
        raise click.ClickException(
            f"{e}; is the chat already running? Choose another port with --port (--port 0 picks a free one)"
        ) from None


def _address_in_use(error: OSError) -> bool:
    """The port is taken. serve() reports the bind failure in its own words; the socket's errno is on the error
    that one replaced."""
    return any(isinstance(e, OSError) and e.errno == errno.EADDRINUSE for e in (error, error.__context__))


@main.command("eval")
@click.argument("set_path", metavar="SET", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--corpus",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Files or folders the set refers to, ingested before asking (default: the bundled article for sets that "
    "name it; SQuAD sets bring their own paragraphs). Repeatable.",
)
@click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Use (and ingest the corpus into) this index instead of a cached one built for the set.",
)
@click.option(
    "--config",
    "configs",
    multiple=True,
    metavar="NAME_OR_FILE",
    help="A preset (default, baseline), a .toml/.json file of settings, or inline `[preset,]key=value,...`. "
    "Repeat to compare configs side by side (default: default).",
)
@click.option("--limit", type=click.IntRange(1), default=None, help="Ask only the first N questions (a partial run).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Report folder (default: eval/reports/<timestamp>/).",
)
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a terminal).")
@click.pass_context
@friendly_errors
def evaluate(
    ctx: click.Context,
    set_path: Path,
    corpus: tuple[Path, ...],
    index_dir: Path | None,
    configs: tuple[str, ...],
    limit: int | None,
    out: Path | None,
    progress: bool | None,
) -> None:
    """Run the question set SET and report retrieval, answer, citation and latency quality per config.

    SET is our JSONL (questions or conversations), a CSV `question,answer[,source]`, or a SQuAD v1.1/v2.0 JSON
    file (each paragraph becomes one document of its own index). Writes results.jsonl, summary.json,
    report.md and report.html to --out.

    \b
    Example:
      assistant eval eval/seed_questions.jsonl --config default --config baseline
      assistant eval eval/squad_v1_super_bowl_50.json --config default --config "default,top_k=10"
    """
    import datetime as dt
    import shlex

    from assistant.evaluation import run_eval, write_report
    from assistant.evaluation.report import results_table

    words = ["assistant", "eval", str(set_path)]
    for path in corpus:
        words += ["--corpus", str(path)]
    if index_dir is not None:
        words += ["--index", str(index_dir)]
    for config in configs:
        words += ["--config", config]
    if limit is not None:
        words += ["--limit", str(limit)]
    show = sys.stderr.isatty() if progress is None else progress
    run = run_eval(
        set_path, corpus, index_dir, configs, limit, progress=show, settings=_settings(ctx), command=shlex.join(words)
    )
    if out is None:
        out = Path("eval") / "reports" / dt.datetime.now().strftime("%Y-%m-%d_%H%M%S")
    paths = write_report(run, out)
    click.echo(results_table(run))
    for r in run.runs:
        if r.summary["citation_validity"] not in (None, 1.0):
            click.echo(f"warning: citation validity of {r.config.name!r} is below 100%", err=True)
    if not run.complete:
        click.echo(f"partial run: {run.evaluated} of {len(run.eval_set.questions)} questions (--limit)", err=True)
    click.echo(f"report: {paths['report.md']} and {paths['report.html']}")
