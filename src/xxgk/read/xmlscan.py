"""A linear scan of untrusted XML bytes, markup token by markup token.

The pre-flight and the metadata read look into package parts before any parser
does, and a damaged part must not stall them: a regular expression that looks
for one element and fails at an unclosed tag starts again at the next ``<``, so
``<c `` repeated a few thousand times costs minutes.  Here every ``<`` opens
exactly one token that ends where an XML parser (quick-xml, python-calamine's)
ends it — a comment at ``-->``, a start tag at the first ``>`` outside quoted
attribute values, an end tag at the next ``>`` — or at the end of the bytes
when it is never closed; the scan then goes on after it, so each byte is read
a bounded number of times.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# Every alternative ends at its closing delimiter or at the end of the bytes (\Z), so a
# token always matches once started; the atomic groups rule out backtracking anyway.
_TOKEN = re.compile(
    rb"<(?:"
    rb"!--.*?(?:-->|\Z)"  # comment
    rb"|!\[CDATA\[.*?(?:\]\]>|\Z)"  # CDATA section
    rb"|\?.*?(?:\?>|\Z)"  # processing instruction
    rb"|!(?>[^>]*)(?:>|\Z)"  # any other declaration
    rb"|/(?>([^\s>]*))(?>[^>]*)(?:>|\Z)"  # end tag: 1 = name
    rb"|(?>([^\s/>\"'=]*))"  # start tag: 2 = name, 3 = attributes (a final / if empty)
    rb"((?>(?:[^>\"']+|\"[^\"]*(?:\"|\Z)|'[^']*(?:'|\Z))*))(?:>|\Z)"
    rb")",
    re.S,
)


def tokens(xml: bytes, start: int = 0, end: int | None = None) -> Iterator[re.Match[bytes]]:
    """Every markup token of ``xml[start:end]`` in order: group 1 is an end tag's name,
    group 2 a start tag's name and group 3 its attributes (both None for comments,
    processing instructions, CDATA and declarations)."""
    return _TOKEN.finditer(xml, start, len(xml) if end is None else end)


def local(name: bytes) -> bytes:
    """A qualified name without its prefix, as quick-xml takes it (after the first colon)."""
    return name[name.find(b":") + 1 :]


_ATTRIBUTE = re.compile(rb"""\s*([^\s=/>"']+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def attributes(attrs: bytes) -> list[tuple[bytes, bytes]]:
    """A start tag's attributes (name as written, raw value), read in order as an XML parser
    reads them, so that text inside one attribute's value is never taken for another."""
    out, at = [], 0
    while (m := _ATTRIBUTE.match(attrs, at)) is not None:
        out.append((m.group(1), m.group(2) if m.group(2) is not None else m.group(3)))
        at = m.end()
    return out


def attribute(attrs: bytes, name: bytes) -> bytes | None:
    """The value of attribute ``name`` (exactly: no prefix); the last if it is repeated."""
    values = [v for k, v in attributes(attrs) if k == name]
    return values[-1] if values else None


_REF = re.compile(r"&(?:#x([0-9a-fA-F]{1,8})|#([0-9]{1,9})|(lt|gt|amp|quot|apos));")
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def unescape(text: str) -> str:
    """XML's own escapes only (not HTML's: &#x80; is U+0080 here, as in every XML parser)."""
    if "&" not in text:
        return text

    def one(m: re.Match[str]) -> str:
        hexa, dec, named = m.groups()
        if named:
            return _ENTITIES[named]
        code = int(hexa, 16) if hexa else int(dec)
        return chr(code) if code <= 0x10FFFF else m.group(0)

    return _REF.sub(one, text)
