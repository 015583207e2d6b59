"""Main text of an HTML page: no scripts, styles or navigation; one block per paragraph."""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

_DROP = "script,style,noscript,template,nav,footer,aside,form,iframe,svg,canvas,button,select"
_BLOCKS = "p,div,h1,h2,h3,h4,h5,h6,li,br,tr,section,article,main,blockquote,pre,header,table,ul,ol,dd,dt,figcaption"
_BLOCK_MARK = "\ue000"  # a private-use character: a block boundary we insert, not page text
_SPACES = re.compile(r"\s+")


def html_to_text(html: str) -> tuple[str, str]:
    """(title, text) of a page; text blocks are separated by a blank line. The title is the main text's first
    <h1> (a <title> often carries the site's name too), else the page's <title>."""
    tree = LexborHTMLParser(html)
    title_node = tree.css_first("title")
    title = _SPACES.sub(" ", title_node.text()).strip() if title_node else ""
    for node in tree.css(_DROP):
        node.decompose()
    root = tree.css_first("article") or tree.css_first("main") or tree.body or tree.root
    if root is None:
        return title, ""
    heading = root.css_first("h1")
    title = (_SPACES.sub(" ", heading.text()).strip() if heading else "") or title
    for node in root.css(_BLOCKS):
        node.insert_after(_BLOCK_MARK)
    raw = root.text(separator="", deep=True)
    blocks = (_SPACES.sub(" ", b).strip() for b in raw.split(_BLOCK_MARK))
    return title, "\n\n".join(b for b in blocks if b)
