"""Submitted text made safe to show on the board: it can change nothing but its own cell, and it
shows as what it is. One policy for every field and every renderer the board targets (GitHub-
flavoured Markdown, HTML, the plot, the terminal):

* :func:`visible`: control, format (bidi overrides, zero-width), surrogate, private-use and
  unassigned characters, line/paragraph separators and the other characters that render as
  nothing (default-ignorable code points such as the Hangul fillers U+3164, U+115F, U+1160,
  U+FFA0, and the braille blank U+2800) become visible ``\\uXXXX`` escapes;
* :func:`is_blank`: whether text shows nothing at all (only spaces, marks and the characters
  above); the leaderboard rejects such names and authors;
* :func:`markdown`: one line of inert Markdown table-cell text (no row or cell breaks, links,
  images, code spans, autolinks or HTML). Text a GitHub-flavoured renderer would turn into a link
  (``www.``, a ``scheme:``, an ``@``: URLs, e-mail addresses, ``mailto:``/``xmpp:``) is shown as a
  code span, where no autolink applies;
* :func:`html_text`: HTML-escaped text, attribute-safe;
* :func:`plot_label`: a short label for matplotlib (whose mathtext the board turns off).
"""
from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import quote

_HIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_BLANK_CATEGORIES = _HIDDEN | {"Zs", "Mn", "Me", "Mc"}
_INVISIBLE = ((0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
              (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x2800, 0x2800),
              (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8),
              (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF))
"""Unicode's default-ignorable code points (DerivedCoreProperties.txt) and the braille blank: they render as nothing."""
_AUTOLINK = re.compile(r"www\.|[A-Za-z][A-Za-z0-9+.-]*:|@", re.IGNORECASE)
"""What starts a GitHub-flavoured autolink: ``www.``, a URI scheme (``https:``, ``ftp:``, ``mailto:``...) or an ``@``."""
_MARKDOWN = {"|": "&#124;", "[": "&#91;", "]": "&#93;", "`": "&#96;", "\\": "&#92;", "*": "&#42;", "_": "&#95;",
             "~": "&#126;", ":": "&#58;", "!": "&#33;", "#": "&#35;"}

_URL_SAFE = "/:?#@!$&'*+,;=%~-._"  # kept in link targets; everything else (parentheses, brackets, ...) is %-encoded


def _invisible(c: str) -> bool:
    return any(low <= ord(c) <= high for low, high in _INVISIBLE)


def visible(text) -> str:
    """``str(text)`` with every hidden, invisible or layout-changing character written as a ``\\uXXXX`` escape."""
    return "".join(f"\\u{ord(c):04x}" if unicodedata.category(c) in _HIDDEN or _invisible(c) else c
                   for c in str(text))


def is_blank(text) -> bool:
    """Whether ``text`` shows nothing: every character a space, a mark or one that renders as nothing."""
    return all(unicodedata.category(c) in _BLANK_CATEGORIES or _invisible(c) for c in str(text))


def _code_span(text: str) -> str:
    """``text`` (already :func:`visible`) as one Markdown code span, safe in a table cell."""
    fence = "`" * (1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
    return f"{fence} {text.replace('|', chr(92) + '|')} {fence}"


def markdown(text) -> str:
    """``text`` as inert Markdown for one table cell (a code span where it would autolink)."""
    text = visible(text)
    if _AUTOLINK.search(text):
        return _code_span(text)
    return "".join(_MARKDOWN.get(c, c) for c in html.escape(text))


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
