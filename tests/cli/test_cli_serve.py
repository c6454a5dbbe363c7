"""`xxgk serve`: the data directory made at the first start, held to its year, region and roster
at later ones; what it prints; the links file.  The server itself is not started here."""

from __future__ import annotations

import csv
import io
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from xxgk.cli.main import main
from xxgk.site import security
from xxgk.site.store import Store

ROOT = Path(__file__).resolve().parents[2]
ROSTER = ROOT / "samples" / "roster.csv"


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    return calls


def serve(data: Path, *extra: str, roster: Path = ROSTER, year: str = "2025") -> Any:
    return CliRunner().invoke(main, ["serve", "--data", str(data), "--year", year, "--roster", str(roster),
                                     "--region", "沙坡头区", *extra])


def test_first_start_makes_the_cycle(tmp_path: Path, served: list[dict[str, Any]]) -> None:
    data = tmp_path / "site"
    result = serve(data, "--port", "8123")
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8123/office" in result.output
    password = result.output.split("办公室密码 (password): ")[1].split()[0]
    (options,) = served
    assert {k: options[k] for k in ("host", "port", "ssl_certfile", "ssl_keyfile", "proxy_headers")} == {
        "host": "127.0.0.1", "port": 8123, "ssl_certfile": None, "ssl_keyfile": None, "proxy_headers": False}
    assert options["timeout_keep_alive"] > 0 and options["h11_max_incomplete_event_size"] > 0
    assert options["limit_concurrency"] > 1100
    assert (data.stat().st_mode & 0o777, (data / "xxgk.sqlite3").stat().st_mode & 0o777,
            (data / "单位链接.csv").stat().st_mode & 0o777) == (0o700, 0o600, 0o600)
    rows = list(csv.reader(io.StringIO((data / "单位链接.csv").read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["代码", "名称", "链接"] and len(rows) == 30
    assert rows[1][:2] == ["640502001", "沙坡头区机关事务局"]
    token = rows[1][2].split("/u/")[1]
    assert rows[1][2].startswith("http://127.0.0.1:8123/u/") and len(token) >= 43  # 256 bits
    store = Store(data)
    try:
        stored = store.meta("password") or ""
        assert password not in stored and stored.startswith("scrypt$")
        assert security.check_password(password, stored)
        hashes = {u.token_hash for u in store.units()}
        assert security.token_hash(token) in hashes and token not in hashes
        raw = (data / "xxgk.sqlite3").read_bytes()
        assert password.encode() not in raw
        # the current link is kept for the office's 发放链接 page: the directory is the office's alone
        assert token.encode() in raw
    finally:
        store.close()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for name in ("xxgk.sqlite3", "单位链接.csv"):
        assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name


def test_base_url_deadline_and_contact_are_kept(tmp_path: Path, served: list[dict[str, Any]]) -> None:
    data = tmp_path / "site"
    first = serve(data, "--host", "0.0.0.0", "--port", "8124")
    assert first.exit_code == 0, first.output
    assert "--base-url" in first.output and "其他电脑打不开" in first.output
    assert links(data)[0].startswith("http://127.0.0.1:8124/u/")
    given = serve(data, "--host", "0.0.0.0", "--base-url", "http://192.168.1.10:8124/", "--deadline", "2026-1-31",
                  "--contact", "区政务公开办  张三 0955-1234567")
    assert given.exit_code == 0, given.output
    assert "报送截止 (deadline): 2026-01-31" in given.output and "其他电脑打不开" not in given.output
    later = serve(data, "--host", "0.0.0.0")  # nothing given: what was kept holds
    assert later.exit_code == 0 and "http://192.168.1.10:8124/office" in later.output
    assert "2026-01-31" in later.output and "其他电脑打不开" not in later.output
    assert all(x.startswith("http://192.168.1.10:8124/u/") for x in links(data))
    store = Store(data)
    try:
        assert store.meta("contact") == "区政务公开办 张三 0955-1234567"
    finally:
        store.close()


@pytest.mark.parametrize(("option", "value", "said"), [
    ("--deadline", "明年一月", "截止日期"), ("--deadline", "2026-02-30", "截止日期"),
    ("--deadline", "2025-01-31", "请写2026年的日期"),
    ("--base-url", "192.168.1.10:8000", "链接地址"), ("--base-url", "http://", "链接地址"),
])
def test_bad_settings_are_usage_errors(tmp_path: Path, served: list[dict[str, Any]], option: str, value: str,
                                       said: str) -> None:
    result = serve(tmp_path / "site", option, value)
    assert result.exit_code == 2 and said in result.output and served == []


def links(data: Path) -> list[str]:
    rows = list(csv.reader(io.StringIO((data / "单位链接.csv").read_text(encoding="utf-8-sig"))))
    return [r[2] for r in rows[1:]]


def test_later_start_reopens_and_keeps_links(tmp_path: Path, served: list[dict[str, Any]]) -> None:
    data = tmp_path / "site"
    serve(data)
    links = (data / "单位链接.csv").read_bytes()
    again = serve(data)
    assert again.exit_code == 0 and "首次启动时显示的密码" in again.output
    assert (data / "单位链接.csv").read_bytes() == links
    reset = serve(data, "--reset-password")
    assert "办公室密码 (password): " in reset.output


def test_refuses_another_year_or_roster(tmp_path: Path, served: list[dict[str, Any]]) -> None:
    data = tmp_path / "site"
    serve(data)
    other_year = serve(data, year="2024")
    assert other_year.exit_code == 2 and "2025年度" in other_year.output and "单独的数据目录" in other_year.output
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER.read_text(encoding="utf-8-sig") + "640502999,新设单位\n", encoding="utf-8")
    refused = serve(data, roster=roster)
    assert refused.exit_code == 2 and "--change-roster" in refused.output
    taken = serve(data, "--change-roster", roster=roster)
    assert taken.exit_code == 0, taken.output
    rows = list(csv.reader(io.StringIO((data / "单位链接.csv").read_text(encoding="utf-8-sig"))))
    assert len(rows) == 31 and rows[-1][:2] == ["640502999", "新设单位"]
    assert len(served) == 2  # only the two good starts served


def test_warns_beyond_localhost_without_tls(tmp_path: Path, served: list[dict[str, Any]]) -> None:
    result = serve(tmp_path / "site", "--host", "0.0.0.0")
    assert result.exit_code == 0 and "未启用HTTPS" in result.output
    quiet = serve(tmp_path / "other", "--host", "127.0.0.1")
    assert "未启用HTTPS" not in quiet.output


def test_certfile_needs_keyfile(tmp_path: Path, served: list[dict[str, Any]]) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("x")
    result = serve(tmp_path / "site", "--certfile", str(cert))
    assert result.exit_code == 2 and "--keyfile" in result.output and served == []


def test_bad_roster_is_a_usage_error(tmp_path: Path, served: list[dict[str, Any]]) -> None:
    roster = tmp_path / "r.csv"
    roster.write_text("甲,乙\n1,2\n", encoding="utf-8")
    result = serve(tmp_path / "site", roster=roster)
    assert result.exit_code == 2 and "错误" in result.output and served == []


def test_previous_is_validated_kept_and_used(tmp_path: Path, served: list[dict[str, Any]],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from xxgk.site.service import Service

    made: list[Any] = []
    real = Service.__init__

    def spy(self: Service, *args: Any, **kw: Any) -> None:
        real(self, *args, **kw)
        made.append(self.collection.previous)

    monkeypatch.setattr(Service, "__init__", spy)
    data = tmp_path / "site"
    wrong = serve(data, "--previous", str(ROOT / "samples" / "returns" / "2025" / next(
        p.name for p in (ROOT / "samples" / "returns" / "2025").iterdir())))
    assert wrong.exit_code == 2 and "--previous" in wrong.output and "2024年度" in wrong.output
    last = ROOT / "samples" / "previous" / "沙坡头区2024年汇总.xlsx"
    first = serve(data, "--previous", str(last))
    assert first.exit_code == 0, first.output
    again = serve(data)  # the kept copy is used
    assert again.exit_code == 0
    assert [p.kind for p in made] == ["summary", "summary"] and made[1].path.parent.parent.parent == data
    assert any("登记上年数据" in line for line in _audit(data))


def _audit(data: Path) -> list[str]:
    store = Store(data)
    try:
        return [" ".join(row) for row in store.audit_rows(limit=1000).rows]
    finally:
        store.close()
