"""The DTD check of an XML part: its prolog read only as far as the root element."""

from __future__ import annotations

from xxgk.read.returns import ReadError
from xxgk.read.safety.archive import MAX_PART, Inflater, Part, Zip, content_key, read_capped, recall, remember

PROLOG_CAP = 16 * 1024  # bytes of an XML part read to find its root element


def check_prolog(zf: Zip, info: Part) -> None:
    """Refuse an XML part whose prolog declares a DTD (entity bombs, external entities).

    A DTD can only come before the root element, so reading up to the first start
    tag is enough; a prolog longer than `PROLOG_CAP` is itself refused.  (A part is
    checked whole — size and CRC — only when that reading reaches its end.)
    """
    key = content_key(zf, info)
    if key is not None and recall(key) is not None:
        return
    part = Inflater(zf, info)
    buf = part.read(160)  # the XML declaration and the root's name, usually
    while not _prolog_verdict(info.filename, buf, complete=len(buf) >= info.file_size):
        more = part.read(4096)
        if not more:
            break
        buf += more
    if key is not None:
        remember(key, True)


def whole_part(zf: Zip, info: Part) -> bytes:
    """A part that holds cells, inflated whole and its prolog vetted (the first KB decides
    nearly always; the rest of `PROLOG_CAP` is decoded only when it does not)."""
    xml = read_capped(zf, info, MAX_PART)
    if not _prolog_verdict(info.filename, xml[:1024], complete=len(xml) <= 1024):
        _prolog_verdict(info.filename, xml[:PROLOG_CAP], complete=len(xml) <= PROLOG_CAP)
    return xml


def _prolog_verdict(name: str, buf: bytes, *, complete: bool) -> bool:
    """True when the start of a part is known safe; raises when it declares a DTD or its
    prolog runs past `PROLOG_CAP`; False: read more."""
    verdict = prolog(_prolog_text(buf))
    if verdict == "dtd":
        raise ReadError("file.unsafe_xml", f"部件{name}含有DOCTYPE/ENTITY声明")
    if verdict == "ok" or complete:
        return True
    if len(buf) >= PROLOG_CAP:
        raise ReadError("file.unsafe_xml", f"部件{name}的XML声明部分异常冗长")
    return False


def _prolog_text(buf: bytes) -> str:
    if buf.startswith((b"\xff\xfe", b"\xfe\xff")) or buf[1:2] == b"\x00" or buf[:1] == b"\x00":
        enc = "utf-16-be" if buf.startswith(b"\xfe\xff") or buf[:1] == b"\x00" else "utf-16-le"
        return buf[: len(buf) // 2 * 2].decode(enc, "ignore")
    return buf.decode("latin-1")


def prolog(text: str) -> str:
    """``ok``: the root element starts before any declaration; ``dtd``: a ``<!DOCTYPE``
    (or any other ``<!`` markup that is not a comment) comes first; ``more``: undecided.

    Comments and processing instructions are skipped whole, so markup inside them
    does not count.
    """
    i = 0
    while True:
        i = text.find("<", i)
        if i < 0 or i + 1 >= len(text):
            return "more"
        if text.startswith("<!--", i):
            j = text.find("-->", i + 4)
        elif text[i + 1] == "?":
            j = text.find("?>", i + 2)
        elif text[i + 1] == "!":
            if len(text) - i < 4 and "<!--".startswith(text[i:]):
                return "more"  # the read ended inside what may be a comment's opening
            return "dtd"
        else:
            return "ok"
        if j < 0:
            return "more"
        i = j + 2
