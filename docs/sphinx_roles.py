"""A griffe extension for the API reference: the docstrings' Sphinx cross-reference roles (``:func:`~x.y```,
``:class:`Z```, ...) become Markdown code spans (``y``, ``Z``), which is how mkdocstrings shows code."""
import re

import griffe

ROLE = re.compile(r":(?:py:)?(?:mod|func|class|meth|data|attr|exc|obj):`(~?)([^`<]*?)(?:\s*<[^>]+>)?`")


def _plain(match: re.Match) -> str:
    """``:role:`~a.b``` -> `b`; ``:role:`a.b``` and ``:role:`title <a.b>``` -> `a.b` and `title`."""
    short, shown = match.group(1), match.group(2).strip()
    return f"`{shown.rsplit('.', 1)[-1] if short else shown}`"


class SphinxRoles(griffe.Extension):
    def on_object(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = ROLE.sub(_plain, obj.docstring.value)
