"""The web chat: a Gradio app (the only module importing gradio) served with the JSON API of api.py."""

from __future__ import annotations

import os
import re
import socket
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from assistant.models import offline_env

# Gradio imports huggingface_hub, which reads its offline switch once; analytics are read when the app starts.
offline_env()
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
import gradio as gr

from assistant.api import (
    AskRequest,
    RetrieveRequest,
    ask_payload,
    create_app,
    make_filters,
    parse_request,
    retrieve_payload,
)
from assistant.app import Assistant
from assistant.auth import check_bind, credentials, is_local
from assistant.ingest.loaders import SUPPORTED
from assistant.llm import available_backends, backend_problem
from assistant.models.reader import reader_settings, uses_reader
from assistant.render import EMPTY_SOURCES, answer_html, draft_html, file_name, sources_html, text_html
from assistant.settings import Settings
from assistant.types import Answer, IngestReport, counted, is_url
from assistant.uploads import UploadError, save_upload

EXAMPLES = [
    "why did Tokayev prefer the CSTO?",
    "Who does Turkey support in Libya?",
    "Why does Germany avoid provoking Russia?",
]
CSS = """
#sources { max-height: 640px; overflow-y: auto; }
.sources .source { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px; }
.sources .source + .source { margin-top: 10px; }
.sources .source.flash { outline: 3px solid var(--color-accent); }
.sources .source-head { font-size: 0.9em; margin-bottom: 4px; }
.sources .num { font-weight: 700; color: var(--color-accent); }
.sources .offsets, .sources .file, .sources .date { color: var(--body-text-color-subdued); }
.sources .context { white-space: pre-wrap; line-height: 1.5; }
.sources mark { background: #ffe58a; color: #000; padding: 0 2px; border-radius: 3px; }
.abstained { font-weight: 700; color: #b45309; }
a.cite-marker { text-decoration: none; font-weight: 700; }
.unsupported { color: var(--body-text-color-subdued); text-decoration: underline dotted; }
.unsupported-label, .draft-label, .backend {
  font-size: 0.75em; text-transform: uppercase; letter-spacing: 0.03em; border-radius: 4px; padding: 0 4px;
  border: 1px solid currentColor; color: var(--body-text-color-subdued);
}
.unsupported-label { color: #b45309; }
.draft { color: var(--body-text-color-subdued); }
.answer-note { margin-top: 6px; font-size: 0.9em; color: #b45309; }
.resolved { margin-bottom: 4px; font-size: 0.85em; color: var(--body-text-color-subdued); }
"""
# A click on `[n]` in an answer scrolls the sources panel to that citation (no page navigation). The panel holds
# the sources of one answer: a marker of another answer lets its click go on to that answer's bubble, whose select
# event (ChatApp.select_turn) puts that answer's sources in the panel, and the card is shown once it is there.
HEAD = """
<script>
document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest("a.cite-marker");
  if (!link) return;
  event.preventDefault();
  const id = link.getAttribute("href").slice(1);
  if (document.getElementById(id)) event.stopPropagation();
  let tries = 0;
  const show = () => {
    const card = document.getElementById(id);
    if (!card) { if (++tries < 300) setTimeout(show, 100); return; }
    card.scrollIntoView({behavior: "smooth", block: "nearest"});
    card.classList.add("flash");
    setTimeout(() => card.classList.remove("flash"), 1500);
  };
  show();
}, true);
</script>
"""
UPLOAD_TYPES = list(SUPPORTED)
BACKEND_LABELS = {
    "extractive": "Extractive: sentences of the articles, no model",
    "llamacpp": "Local model (llama.cpp)",
    "openai": "Model server (OpenAI-compatible)",
}
UPLOAD_CEILING_FACTOR = 10
EMPTY_QUESTION = "Type a question first."
# Errors name a request's fields (`date_from: not a date ...`); the chat names them as its boxes do.
FIELD_LABELS = {"date_from": "From date", "date_to": "To date"}


class ChatApp:
    """One assistant shared by every browser session; each session's conversation lives in its own State."""

    def __init__(self, bot: Assistant, sample: IngestReport | None = None) -> None:
        """`sample`: the report of ingesting the bundled sample into an empty index at start, which the chat says."""
        self.bot = bot
        self.sample = sample
        self.bold_min_margin = short_answer_min_margin(bot.settings)
        # Only backends that can work are offered; the configured one is preselected when it can.
        self.backends = available_backends(bot.settings)
        self.default_backend = bot.settings.backend if bot.settings.backend in self.backends else "extractive"
        # Uploads and deletes from several sessions take turns instead of timing out on the index's file lock.
        self._writing = threading.Lock()

    # -- chat ---------------------------------------------------------------------------------

    def respond(
        self,
        message: str | None,
        turns: list[Answer],
        k: float,
        sources: list[str] | None,
        date_from: str | None,
        date_to: str | None,
        backend: str | None = None,
    ) -> Iterator[tuple[list[dict[str, str]], str, str, list[Answer]]]:
        """Stream the answer to `message` into the chat, then show it with linked citations and its sources."""
        question = (message or "").strip()
        if not question:
            gr.Warning(EMPTY_QUESTION)
            return
        # The answers themselves: follow-ups resolve against their resolved questions and short answers.
        history = [(t.question, t) for t in turns]
        shown = self.messages(turns) + [{"role": "user", "content": text_html(question)}]
        yield [*shown, {"role": "assistant", "content": "…"}], "", gr.skip(), turns
        streamed = ""
        backend = backend or self.default_backend
        # A model's draft still has its own passage numbers and unchecked quotes: it is shown as a draft,
        # then replaced by the verified answer. The extractive stream is the final answer's own text.
        show = text_html if backend == "extractive" else draft_html
        try:
            filters = make_filters(sources, (date_from or "").strip(), (date_to or "").strip())
            for item in self.bot.stream(question, history, k=int(k), filters=filters, backend=backend):
                if isinstance(item, Answer):
                    answer = item
                    break
                streamed += item
                yield [*shown, {"role": "assistant", "content": show(streamed)}], "", gr.skip(), turns
        except ValueError as e:  # an empty or too long question, a malformed date: the user can fix it
            error = f'<span class="abstained">Cannot answer:</span> {text_html(field_labels(str(e)))}'
            yield [*shown, {"role": "assistant", "content": error}], question, gr.skip(), turns
            return
        turns = [*turns, answer]
        yield self.messages(turns), "", self.sources(answer, len(turns) - 1), turns

    def messages(self, turns: Sequence[Answer]) -> list[dict[str, str]]:
        """The conversation for the chat: each question and its answer."""
        messages = []
        for turn, answer in enumerate(turns):
            messages.append({"role": "user", "content": text_html(answer.question)})
            messages.append({"role": "assistant", "content": answer_html(answer, turn, self.bold_min_margin)})
        return messages

    def sources(self, answer: Answer, turn: int) -> str:
        return sources_html(answer, turn, self.bot.document_text, self._metadata)

    def select_turn(self, turns: list[Answer], event: gr.SelectData) -> str:
        """Clicking an earlier answer shows that answer's sources."""
        turn = event.index if isinstance(event.index, int) else event.index[0]
        turn //= 2  # each turn is a question and an answer
        return self.sources(turns[turn], turn) if 0 <= turn < len(turns) else gr.skip()

    def _metadata(self, doc_id: str) -> dict[str, Any]:
        found = self.bot.find(doc_id)
        return found[0].metadata if found else {}

    # -- library ------------------------------------------------------------------------------

    def library(self) -> tuple[list[list[Any]], Any, Any, Any]:
        """The documents table, the choices of the delete and source-filter dropdowns, and the notice that the
        sample was ingested (while it is still in the library)."""
        docs = sorted(self.bot.documents(), key=lambda d: (str(d.metadata.get("title", "")).lower(), d.source))
        rows = [
            [d.metadata.get("title", ""), d.metadata.get("date", ""), d.passages, file_name(d.source)] for d in docs
        ]
        labels = [(f"{d.metadata.get('title') or file_name(d.source)} ({file_name(d.source)})", d) for d in docs]
        sample = self.sample if self.sample is not None and any(d.source in self.sample.added for d in docs) else None
        return (
            rows,
            gr.Dropdown(choices=[(label, d.doc_id) for label, d in labels], value=None),
            gr.Dropdown(choices=[(label, d.source) for label, d in labels]),
            gr.Markdown(sample_notice(sample) if sample else "", visible=sample is not None),
        )

    def add_files(
        self,
        files: list[str] | None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's idiom)
    ) -> list[list[str]]:
        """Save and ingest each uploaded file; one result row per file, whatever happens to the others."""
        settings = self.bot.settings
        rows: list[list[str]] = []
        paths = files or []
        for i, path in enumerate(paths):
            name = Path(path).name
            progress((i, len(paths)), desc=f"Adding {name}", unit="files")
            try:
                saved = save_upload(path, name, settings.uploads, int(settings.max_upload_mb * 1_000_000))
                with self._writing:
                    report = self.bot.ingest([saved.path], progress=False)
                rows.append([name, ingest_result(report)])
            except UploadError as e:
                rows.append([name, f"refused: {e}"])
                _discard_gradio_copy(path)
            except Exception as e:  # one bad file must not cost the user the results of the others
                if settings.debug:
                    raise
                rows.append([name, f"failed: {e}"])
        progress((len(paths), len(paths)), desc="Done", unit="files")
        return rows

    def add_url(self, url: str | None) -> tuple[list[list[str]], str]:
        """Fetch and ingest a web page, or each new entry of a feed: a result row per page, and the URL box (kept
        when nothing was fetched, so it can be corrected)."""
        url = (url or "").strip()
        if not is_url(url):
            return [[url or "(no URL)", "refused: give a web address starting with http:// or https://"]], url
        settings = self.bot.settings
        try:
            with self._writing:
                report = self.bot.ingest([url], progress=False, private_hosts=settings.chat_fetch_private)
        except Exception as e:
            if settings.debug:
                raise
            return [[url, f"failed: {e}"]], url
        return url_results(report), url if report.failed and not (report.added or report.unchanged) else ""

    def confirm_delete(self, doc_id: str | None) -> tuple[str, Any]:
        """The first click on Delete: what would be deleted, and the buttons to confirm or cancel it."""
        if not doc_id:
            return "Choose a document to delete.", gr.Row(visible=False)
        found = self.bot.find(doc_id)
        if not found:
            return "That document is no longer in the library.", gr.Row(visible=False)
        doc = found[0]
        what = text_html(doc.metadata.get("title") or file_name(doc.source))
        return (
            f"Delete **{what}** ({text_html(file_name(doc.source))}, {counted(doc.passages, 'passage')}) from the "
            "library? This cannot be undone.",
            gr.Row(visible=True),
        )

    def delete(self, doc_id: str | None) -> str:
        """Delete the document, once confirmed."""
        if not doc_id:
            return "Choose a document to delete."
        found = self.bot.find(doc_id)
        if not found:
            return "That document is no longer in the library."
        with self._writing:
            self.bot.delete(doc_id)
        uploads = self.bot.settings.uploads.resolve()
        upload = Path(found[0].source)
        if upload.parent == uploads and upload.is_file():  # our own copy of an upload (not a jsonl record)
            upload.unlink()
        return f"Deleted {text_html(found[0].metadata.get('title') or file_name(found[0].source))}."

    # -- API ----------------------------------------------------------------------------------

    def api_ask(
        self,
        question: str,
        history: list[Any] | None = None,
        k: int | None = None,
        sources: list[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        backend: str | None = None,
    ) -> dict[str, Any]:
        """Answer `question` (after the optional conversation `history`) with cited spans: the `ask --json` object.
        `backend` (extractive, llamacpp, openai) overrides the server's for this question."""
        fields = dict(
            question=question,
            history=history,
            k=k,
            sources=sources,
            date_from=date_from,
            date_to=date_to,
            backend=backend,
        )
        return _api_errors(lambda: ask_payload(self.bot, parse_request(AskRequest, **fields)))

    def api_retrieve(
        self,
        question: str,
        k: int | None = None,
        sources: list[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> dict[str, Any]:
        """The k passages most likely to answer `question`, with source, offsets and score."""
        fields = dict(question=question, k=k, sources=sources, date_from=date_from, date_to=date_to)
        return _api_errors(lambda: retrieve_payload(self.bot, parse_request(RetrieveRequest, **fields)))

    # -- layout -------------------------------------------------------------------------------

    def build(self) -> gr.Blocks:
        settings = self.bot.settings
        # delete_cache: Gradio's temporary copies of uploads are removed after an hour (ours are kept).
        with gr.Blocks(title="Assistant: cited answers from your articles", delete_cache=(3600, 3600)) as demo:
            turns = gr.State([])
            gr.Markdown(
                "## Assistant\nAnswers come only from your articles, and every claim cites the exact words it "
                "rests on: click a marker like **[1]** to see them highlighted in the article."
            )
            notice = gr.Markdown(visible=False, elem_id="notice")
            with gr.Tab("Chat"), gr.Row():
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(
                        label="Conversation",
                        height=520,
                        elem_id="chat",
                        feedback_options=None,
                        buttons=["copy"],
                        placeholder="Ask a question about the articles in the library.",
                    )
                    with gr.Row():
                        question = gr.Textbox(
                            placeholder="Ask about your articles…",
                            show_label=False,
                            scale=6,
                            autofocus=True,
                            elem_id="question",
                            max_length=4000,
                        )
                        ask = gr.Button("Ask", variant="primary", scale=1, min_width=80)
                    gr.Examples(EXAMPLES, inputs=question, label="Try")
                    new = gr.Button("New conversation", size="sm")
                with gr.Column(scale=2):
                    gr.Markdown("### Sources")
                    sources = gr.HTML(EMPTY_SOURCES, elem_id="sources")
                    # What users tune. Each control feeds one argument of ChatApp.respond.
                    with gr.Accordion("Settings", open=False, elem_id="chat-settings"):
                        backend = gr.Dropdown(
                            [(BACKEND_LABELS[b], b) for b in self.backends],
                            value=self.default_backend,
                            label="Answer written by",
                            elem_id="backend",
                            visible=len(self.backends) > 1,
                            info="A model's answer keeps only citations verified in the articles.",
                        )
                        top_k = gr.Slider(1, 20, value=settings.top_k, step=1, label="Passages to search")
                        only = gr.Dropdown(
                            [], multiselect=True, label="Only these articles (empty: all)", elem_id="only"
                        )
                        with gr.Row():
                            date_from = gr.Textbox(label=FIELD_LABELS["date_from"], placeholder="YYYY-MM-DD")
                            date_to = gr.Textbox(label=FIELD_LABELS["date_to"], placeholder="YYYY-MM-DD")
            with gr.Tab("Library"):
                table = gr.Dataframe(
                    headers=["Title", "Date", "Passages", "File"],
                    interactive=False,
                    label="Documents",
                    elem_id="library",
                )
                with gr.Row():
                    with gr.Column():
                        upload = gr.File(
                            file_count="multiple",
                            file_types=UPLOAD_TYPES,
                            label="Add articles",
                            elem_id="upload",
                        )
                        gr.Markdown(
                            "txt, md, html, pdf, docx, odt, epub or jsonl (one article per line); up to "
                            f"{settings.max_upload_mb:g} MB per upload and {settings.max_file_mb:g} MB per article. "
                            "A file with the name of an earlier upload replaces it."
                        )
                        with gr.Row():
                            url = gr.Textbox(
                                label="Add a web page or feed",
                                placeholder="https://…",
                                elem_id="url",
                                scale=4,
                                info="A page's article text is stored with its title, date and URL; a feed's "
                                "new entries are each fetched.",
                            )
                            fetch = gr.Button("Fetch", elem_id="fetch", scale=1)
                        results = gr.Dataframe(
                            headers=["File or page", "Result"],
                            interactive=False,
                            label="Results",
                            elem_id="results",
                        )
                    with gr.Column():
                        doomed = gr.Dropdown([], label="Document to delete", elem_id="delete-doc")
                        remove = gr.Button("Delete…", variant="stop", elem_id="delete")
                        status = gr.Markdown(elem_id="delete-status")
                        with gr.Row(visible=False) as confirm_row:
                            confirm = gr.Button("Yes, delete it", variant="stop", elem_id="delete-confirm")
                            cancel = gr.Button("Cancel", elem_id="delete-cancel")

            chat_inputs = [question, turns, top_k, only, date_from, date_to, backend]
            chat_outputs = [chatbot, question, sources, turns]
            for trigger in (question.submit, ask.click):
                trigger(self.respond, chat_inputs, chat_outputs, api_visibility="private")
            new.click(lambda: ([], [], EMPTY_SOURCES), None, [chatbot, turns, sources], api_visibility="private")
            chatbot.clear(lambda: ([], EMPTY_SOURCES), None, [turns, sources], api_visibility="private")
            chatbot.select(self.select_turn, [turns], [sources], api_visibility="private")

            library_outputs = [table, doomed, only, notice]
            demo.load(self.library, None, library_outputs, api_visibility="private")
            upload.upload(self.add_files, [upload], [results], api_visibility="private").then(
                self.library, None, library_outputs, api_visibility="private"
            )
            for trigger in (url.submit, fetch.click):
                trigger(self.add_url, [url], [results, url], api_visibility="private").then(
                    self.library, None, library_outputs, api_visibility="private"
                )
            # Deleting takes two clicks: Delete says what would go, "Yes, delete it" deletes. Choosing another
            # document withdraws the question, so a confirmation never applies to a document it did not name.
            remove.click(self.confirm_delete, [doomed], [status, confirm_row], api_visibility="private")
            doomed.input(lambda: ("", gr.Row(visible=False)), None, [status, confirm_row], api_visibility="private")
            cancel.click(
                lambda: ("Nothing was deleted.", gr.Row(visible=False)),
                None,
                [status, confirm_row],
                api_visibility="private",
            )
            confirm.click(lambda: gr.Row(visible=False), None, [confirm_row], api_visibility="private").then(
                self.delete, [doomed], [status], api_visibility="private"
            ).then(self.library, None, library_outputs, api_visibility="private")

            gr.api(self.api_ask, api_name="ask")
            gr.api(self.api_retrieve, api_name="retrieve")
        return demo


def short_answer_min_margin(settings: Settings) -> float | None:
    """The reader margin from which the chat shows a short answer in bold: measured for the reader and written in
    its reader.json (`short_answer_min_margin`, with the measurement beside it); None for a reader without one,
    or without a reader (no margin to compare), and then nothing is bold."""
    if not uses_reader(settings):
        return None
    found = reader_settings(settings.reader).get("short_answer_min_margin")
    return float(found) if found is not None else None


def field_labels(message: str) -> str:
    """The error message with each request field named by its label in the chat."""
    return re.sub(r"\b(date_from|date_to)\b", lambda m: FIELD_LABELS[m.group(1)], message)


def sample_notice(report: IngestReport) -> str:
    """The one line saying that an empty index got the bundled sample article (chat and console)."""
    return (
        f"The index was empty, so the bundled sample article ({', '.join(file_name(s) for s in report.added)}) "
        "was added to it: try one of the example questions."
    )


def ingest_result(report: IngestReport) -> str:
    """One line for one uploaded file (a jsonl file may hold many articles, some of them bad)."""
    parts = []
    if report.added:
        count = f"{len(report.added)} articles, " if len(report.added) > 1 else ""
        parts.append(f"added ({count}{report.passages} passage{'s' if report.passages != 1 else ''})")
    if report.unchanged:
        parts.append("already in the library" if len(report.unchanged) == 1 else f"{len(report.unchanged)} unchanged")
    parts += [f"failed: {file_name(source)}: {reason}" for source, reason in report.failed]
    return "; ".join(parts) or "failed: no article found in the file"


def url_results(report: IngestReport) -> list[list[str]]:
    """A result row for each page of a URL's ingest (a feed gives one per entry)."""

    def note(source: str) -> str:
        return f" ({report.notes[source]})" if source in report.notes else ""

    rows = [[s, f"added{note(s)}"] for s in report.added]
    rows += [[s, f"already in the library{note(s)}"] for s in report.unchanged]
    rows += [[s, f"failed: {reason}"] for s, reason in report.failed]
    return rows or [["", "no page found"]]


def _discard_gradio_copy(path: str) -> None:
    """Delete Gradio's temporary copy of a refused upload now: it is never read, and Gradio would keep it (and its
    disk space, up to the upload ceiling) for an hour. Nothing outside Gradio's upload folder is touched."""
    copy = Path(path).resolve()
    if copy.is_relative_to(Path(gr.utils.get_upload_folder()).resolve()) and copy.is_file():
        copy.unlink(missing_ok=True)


def _api_errors(call: Any) -> dict[str, Any]:
    try:
        return call()
    except ValueError as e:  # a bad question or filter: tell the client why
        raise gr.Error(str(e)) from None


def _listen(host: str, port: int) -> socket.socket:
    """Bind before the slow model load, so a port in use is reported at once."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as e:
        raise OSError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860, no_auth: bool = False) -> None:
    """Run the chat and the HTTP API until interrupted; an empty index gets the sample article first."""
    import uvicorn

    logins = credentials(settings)
    check_bind(host, logins, no_auth)
    sock = _listen(host, port)
    problem = backend_problem(settings, settings.backend)
    if problem:
        print(
            f"Warning: the {settings.backend} backend cannot answer here ({problem}); answering extractively.",
            flush=True,
        )
        settings = settings.replace(backend="extractive")
    bot = Assistant(settings=settings)
    sample = bot.ensure_sample()
    if sample is not None and sample.added:
        print(sample_notice(sample), flush=True)
    chat = ChatApp(bot, sample if sample is not None and sample.added else None)
    demo = chat.build()
    demo.queue(default_concurrency_limit=settings.ui_concurrency)
    app = create_app(bot, logins)
    # Gradio refuses a whole batch of files when one exceeds its limit, so its limit is only a ceiling that
    # keeps absurd uploads off the disk; below it, save_upload refuses an oversized file in its own result row.
    ceiling = int(settings.max_upload_mb * 1_000_000 * UPLOAD_CEILING_FACTOR)
    gr.mount_gradio_app(
        app,
        demo,
        path="/",
        auth=list(logins) or None,
        footer_links=["api", "settings"],
        show_error=True,
        max_file_size=ceiling,
        css=CSS,
        head=HEAD,
        ssr_mode=False,
        server_name=host,
        server_port=port,
        mcp_server=False,
        pwa=False,
    )
    # mount_gradio_app, unlike launch(), leaves has_launched False, and Gradio then skips its check that a file
    # given to an event was uploaded by a client: any client could have a server path ingested (issue 20).
    demo.has_launched = True
    shown_host = f"[{host}]" if ":" in host else host
    print(f"Running on http://{shown_host}:{sock.getsockname()[1]}", flush=True)
    if logins:
        print("Log in with a user:password from ASSISTANT_AUTH / ASSISTANT_AUTH_FILE.", flush=True)
    elif not is_local(host):
        print("Warning: serving without a password (--no-auth).", flush=True)
    # The first question would otherwise wait seconds for the vector indexes and the NER model to load.
    threading.Thread(target=bot.warm_up, name="warm-up", daemon=True).start()
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
