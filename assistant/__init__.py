"""assistant: question answering over news articles, with exact cited spans."""

from assistant.app import Assistant
from assistant.settings import Settings
from assistant.types import Answer, Citation, Document, Filters, IngestReport, Passage, ScoredPassage

__all__ = [
    "Answer",
    "Assistant",
    "Citation",
    "Document",
    "Filters",
    "IngestReport",
    "Passage",
    "ScoredPassage",
    "Settings",
]
__version__ = "0.1.0"
