"""PDF returns: Word reports printed to PDF by LibreOffice Writer are read as the Word
document is (the same tables, figures, unit and year), tables split over a page break joined
with their repeated header dropped, wrong printed totals caught; scans, bombs and oversized
files refused with a Chinese finding."""

from __future__ import annotations

import zlib
from pathlib import Path

import docx
import pytest
from docx.oxml import OxmlElement

import lo
from retyped import UNIT, sound_values, tables, title, to_docx
from xxgk.check.file import check_file
from xxgk.forms.builtin import builtin
from xxgk.read import pdf as pdf_book
from xxgk.read.docx import read_docx
from xxgk.read.open import read
from xxgk.read.returns import ReadError
from xxgk.read.safety import pdfcheck

GK2021, GK2019 = builtin("gk2021"), builtin("gk2019")


def _split(path: Path) -> Path:
    """Table 三 pushed down the page so that it runs onto the next one, its header rows
    marked to repeat there."""
    doc = docx.Document(str(path))
    big = max(doc.tables, key=lambda t: len(t.rows))
    for _ in range(25):
        big._tbl.addprevious(OxmlElement("w:p"))
    for row in big.rows[:3]:
        row._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    doc.save(str(path))
    return path


def _wrong_t4_total(path: Path) -> Path:
    values = sound_values(GK2021)
    inputs = {c.key for c in GK2021.inputs}
    total = next(k for k in values if k.startswith("t4") and k not in inputs and values[k])
    values[total] = 0 * values[total]
    return to_docx(tables(GK2021, values), title(2021), path)


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """Name → (the Word document, its PDF printed by LibreOffice Writer), one soffice run."""
    if lo.soffice() is None:
        pytest.skip("LibreOffice is not installed")
    base = tmp_path_factory.mktemp("pdf")
    made = {
        "gk2021": to_docx(tables(GK2021, sound_values(GK2021)), title(2021), base / "gk2021.docx"),
        "gk2019": to_docx(tables(GK2019, sound_values(GK2019)), title(2020), base / "gk2019.docx"),
        "split": _split(to_docx(tables(GK2021, sound_values(GK2021, 5)), title(2022), base / "split.docx")),
        "wrong": _wrong_t4_total(base / "wrong.docx"),
    }
    pdfs = lo.convert(list(made.values()), "pdf", base / "out", lo.make_profile(base / "profile"))
    return {name: (d, p) for (name, d), p in zip(made.items(), pdfs, strict=True)}


@pytest.mark.libreoffice
@pytest.mark.parametrize("name", ["gk2021", "gk2019", "split"])
def test_a_printed_report_reads_as_its_word_document(printed: dict[str, tuple[Path, Path]], name: str) -> None:
    word, pdf = printed[name]
    got, want = check_file(pdf), check_file(word)
    assert got.valid, [f.message for f in got.report.findings]
    assert got.values == want.values
    ret = read(pdf)
    assert ret.kind == "pdf" and ret.identity.form == read(word).identity.form
    assert (ret.identity.agency_name, ret.identity.year) == (UNIT, read(word).identity.year)


@pytest.mark.libreoffice
def test_a_table_over_a_page_break_is_one_table_without_its_repeated_header(
        printed: dict[str, tuple[Path, Path]]) -> None:
    word, pdf = printed["split"]
    assert len(lo.pdf_pages(pdf)) >= 2
    assert pdf_book.read_pdf(pdf.read_bytes()).grids == read_docx(word.read_bytes()).grids


@pytest.mark.libreoffice
def test_a_wrong_printed_total_is_caught(printed: dict[str, tuple[Path, Path]]) -> None:
    got = check_file(printed["wrong"][1])
    assert not got.valid
    assert any(f.code == "formula.mismatch" for f in got.report.findings)


# ---------------------------------------------------------------- refused


def a_pdf(*contents: bytes, extra: bytes = b"") -> bytes:
    """A minimal PDF, one page per content stream (drawing only: no text layer)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(len(contents))).encode()
    objects.append(b"<< /Type /Pages /Kids [" + kids + b"] /Count " + str(len(contents)).encode() + b" >>")
    for i, content in enumerate(contents):
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents "
                       + str(4 + 2 * i).encode() + b" 0 R >>")
        objects.append(b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream")
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n" + extra
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def refused(tmp_path: Path, data: bytes, code: str) -> str:
    (tmp_path / "r.pdf").write_bytes(data)
    with pytest.raises(ReadError) as info:
        read(tmp_path / "r.pdf")
    assert info.value.code == code, (info.value.code, info.value.detail)
    return info.value.detail


def test_a_scanned_pdf_says_what_to_send(tmp_path: Path) -> None:
    assert refused(tmp_path, a_pdf(b"0 0 100 100 re f"), "file.unreadable") == pdf_book.SCANNED
    result = check_file(tmp_path / "r.pdf")
    assert not result.valid and pdf_book.SCANNED in result.report.findings[0].message


def test_too_many_pages_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_book, "MAX_PAGES", 2)
    assert "3页" in refused(tmp_path, a_pdf(b"", b"", b""), "file.too_large")


def test_too_many_objects_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdfcheck, "MAX_OBJECTS", 50)
    assert "对象" in refused(tmp_path, a_pdf(b"", extra=b"9 0 obj null endobj\n" * 60), "file.too_large")


def test_a_deflate_bomb_in_a_stream_is_refused_before_parsing(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdfcheck, "MAX_INFLATED", 1024 * 1024)
    bomb = zlib.compress(b"0 0 1 1 re f\n" * 200_000, 9)
    assert "解压" in refused(tmp_path, a_pdf(bomb), "file.too_large")


def test_a_pdf_is_a_report_file_kind_and_found_in_folders(tmp_path: Path) -> None:
    from xxgk.cycle.discover import READ, SKIPPED

    assert ".pdf" in READ and ".pdf" not in SKIPPED


def test_a_page_too_long_to_interpret_is_refused_before_it_is(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """pdfminer interprets a few thousand characters a second: a page's content is measured first
    (and its warnings about the undefined font are not printed)."""
    page = b"BT /F1 12 Tf 10 10 Td (1) Tj ET\n" * (pdf_book.MAX_CONTENT // 32 + 10)
    assert "KB" in refused(tmp_path, a_pdf(page), "file.too_large")
    small = b"BT /F1 12 Tf 10 10 Td (1) Tj ET\n" * 20
    with pytest.raises(ReadError):  # read, no table in it
        read(tmp_path / "r.pdf") if (tmp_path / "r.pdf").write_bytes(a_pdf(small)) else None
    assert capsys.readouterr().err == ""
