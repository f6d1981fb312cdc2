"""Submitted text made safe to show on the board: it can change nothing but its own cell.

* :func:`visible`: control, format (bidi overrides, zero-width), surrogate, private-use and
  unassigned characters and line/paragraph separators become visible ``\\uXXXX`` escapes;
* :func:`markdown`: one line of inert Markdown table-cell text (no row or cell breaks, links,
  images, code spans, autolinks or HTML);
* :func:`html_text`: HTML-escaped text, attribute-safe;
* :func:`plot_label`: a short label for matplotlib (whose mathtext the board turns off).
"""
from __future__ import annotations

import html
import unicodedata
from urllib.parse import quote

_HIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_MARKDOWN = {"|": "&#124;", "[": "&#91;", "]": "&#93;", "`": "&#96;", "\\": "&#92;", "*": "&#42;", "_": "&#95;",
             "~": "&#126;", ":": "&#58;", "!": "&#33;", "#": "&#35;"}

_URL_SAFE = "/:?#@!$&'*+,;=%~-._"  # kept in link targets; everything else (parentheses, brackets, ...) is %-encoded


def visible(text) -> str:
    """``str(text)`` with every hidden or layout-changing character written as a ``\\uXXXX`` escape."""
    return "".join(f"\\u{ord(c):04x}" if unicodedata.category(c) in _HIDDEN else c for c in str(text))


def markdown(text) -> str:
    """``text`` as inert Markdown for one table cell."""
    return "".join(_MARKDOWN.get(c, c) for c in html.escape(visible(text)))


def markdown_link(text, url: str | None) -> str:
    """A Markdown link to ``url`` (an ``http(s)`` URL the schema checked) labelled ``text``, or just the text."""
    if not url:
        return markdown(text)
    return f"[{markdown(text)}]({quote(url, safe=_URL_SAFE)})"


def html_text(text) -> str:
    """``text`` escaped for HTML element content and quoted attribute values."""
    return html.escape(visible(text), quote=True)


def plot_label(text, width: int = 40) -> str:
    """``text`` as a one-line plot label of at most ``width`` characters."""
    text = visible(text)
    return text if len(text) <= width else text[: width - 1] + "…"
