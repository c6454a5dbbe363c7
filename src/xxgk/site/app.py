"""The ASGI app: the units' pages (``/u/<token>``), the office's (``/office``), static assets.

Every page is rendered on the server (Jinja2); the little JavaScript (drag-and-drop upload,
the live register) is shipped in the package.  Every state change is a POST carrying a CSRF
token; every response carries nosniff, a ``'self'`` Content-Security-Policy and no Referer
(a unit's link must not leak through it).  Blocking work goes through `Cycle.run`.
"""

from __future__ import annotations

import html
import logging
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

from markupsafe import Markup
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xxgk.forms.findings import SEVERITY_MARK
from xxgk.report.text import closing, finding_line
from xxgk.site import datadir, figures, security
from xxgk.site.service import STATES, Cycle, Line
from xxgk.site.store import SESSION_SECONDS, UnitRow, Upload

log = logging.getLogger("xxgk.site")
HERE = Path(__file__).parent
MB = 1024 * 1024
MULTIPART_SLACK = 64 * 1024  # form fields and part headers around the file
OFFICE_COOKIE = "xxgk_office"
LOGIN_COOKIE = "xxgk_login"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
MESSAGES = {
    400: "请求有误，请返回上一页重试。",
    403: "请求已失效（页面打开过久或来源不明），请刷新页面后重试。",
    404: "页面不存在。请核对链接是否完整；如链接已更换，请向区政务公开办索取新链接。",
    405: "不支持该操作。",
    429: "尝试次数过多，请稍后再试。",
}


@dataclass(frozen=True)
class Settings:
    base_url: str = "http://127.0.0.1:8000"
    max_upload: int = 20 * MB
    secure_cookies: bool = False
    workers: int = 2


class TooLarge(Exception):
    pass


def too_large_message(limit: int) -> str:
    return f"文件超过{limit // MB}MB的大小上限，未保存。请检查是否选错了文件（统计表通常不超过1MB）。"


def create_app(cycle: Cycle, settings: Settings | None = None) -> ASGIApp:
    """The site for ``cycle`` (whose store is open); the caller closes the cycle and the store."""
    settings = settings or Settings()
    pages = Jinja2Templates(directory=str(HERE / "templates"))
    pages.env.globals.update(states=STATES, marks=SEVERITY_MARK)
    sign_in_brake = security.Brake(limit=5, window=300)
    token_brake = security.Brake(limit=20, window=300)
    store = cycle.store
    secret = store.meta("secret") or ""

    # ---------------------------------------------------------------- helpers

    def address(request: Request) -> str:
        return request.client.host if request.client else "?"

    def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
        base = {"year": cycle.year, "region": cycle.region, "form": cycle.form}
        return pages.TemplateResponse(request, name, {**base, **context}, status_code=status)

    def unit_of(request: Request) -> UnitRow:
        """The unit whose token is in the path; a wrong token is a missing page (and counts as a guess)."""
        who = address(request)
        if token_brake.blocked(who):
            raise HTTPException(429)
        token = request.path_params["token"]
        digest = security.token_hash(token)
        unit = store.unit_by_token_hash(digest)
        if unit is None or not security.same(unit.token_hash, digest):
            token_brake.fail(who)
            raise HTTPException(404)
        return unit

    def own_upload(unit: UnitRow, request: Request) -> Upload:
        up = store.upload(int(request.path_params["upload"]))
        if up is None or up.unit != unit.id:
            raise HTTPException(404)
        return up

    def office_session(request: Request) -> str | None:
        """The hash of the office session cookie, when it names a live session."""
        cookie = request.cookies.get(OFFICE_COOKIE, "")
        if not cookie:
            return None
        digest = security.token_hash(cookie)
        return digest if store.session_alive(digest, time.time()) else None

    def office(request: Request) -> str:
        session = office_session(request)
        if session is None:
            raise HTTPException(303, headers={"Location": "/office/login"})
        return session

    async def posted(request: Request, purpose: str) -> dict[str, Any]:
        """The form of a POST whose CSRF token is good for ``purpose`` (else 403)."""
        form = await _form(request, settings.max_upload)
        if not security.csrf_ok(secret, purpose, str(form.get("csrf", ""))):
            raise HTTPException(403)
        return form

    def set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
        path = "/office" if name == LOGIN_COOKIE else "/"
        response.set_cookie(name, value, max_age=max_age, path=path, httponly=True, samesite="strict",
                            secure=settings.secure_cookies)

    def download(data: bytes, filename: str, media_type: str) -> Response:
        return Response(data, media_type=media_type, headers={"Content-Disposition": disposition(filename)})

    def file_response(path: Path, filename: str) -> Response:
        return download(path.read_bytes(), filename, media_type_of(filename))

    # ---------------------------------------------------------------- the unit's pages

    async def unit_page(request: Request) -> Response:
        unit = unit_of(request)
        token = request.path_params["token"]
        history = store.uploads(unit.id)
        current = history[0] if history else None
        report = cycle.report(current) if current else None
        entry = cycle.entry(unit.id)
        line = next((x for x in await cycle.run(cycle.register) if x.unit.id == unit.id), None)
        findings = report.findings if report else []
        return page(request, "unit.html", {
            "unit": unit, "token": token, "history": history, "current": current, "report": report,
            "line": line, "lines": [finding_line(f, cycle.form) for f in findings], "findings": findings,
            "closing": closing(report) if report else "",
            "tables": figures.tables(cycle.form, entry.values if entry else None, findings) if current else [],
            "csrf": security.csrf_token(secret, f"unit:{unit.token_hash}"),
            "max_mb": settings.max_upload // MB,
        })

    async def unit_template(request: Request) -> Response:
        unit = unit_of(request)
        path = await cycle.run(cycle.template_file, unit)
        store.log(unit.name, "下载模板", unit.name, address(request))
        return file_response(path, f"{unit.name}_{cycle.year}年政府信息公开情况统计表.xlsx")

    async def unit_upload(request: Request) -> Response:
        unit = unit_of(request)
        form = await posted(request, f"unit:{unit.token_hash}")
        up = await _accept(request, unit, form, via="unit")
        if isinstance(up, Response):
            return up
        target = f"/u/{request.path_params['token']}#result"
        if wants_json(request):
            return JSONResponse({"ok": True, "valid": up.valid, "redirect": target})
        return RedirectResponse(target, status_code=303)

    async def _accept(request: Request, unit: UnitRow, form: dict[str, Any], *, via: str) -> Upload | Response:
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return problem(request, 400, "请选择要上传的文件。")
        data = await upload.read()
        await upload.close()
        if len(data) > settings.max_upload:
            return problem(request, 413, too_large_message(settings.max_upload))
        if not data:
            return problem(request, 400, "上传的文件是空的（0字节），请重新选择文件。")
        return await cycle.run(lambda: cycle.accept(unit, data, upload.filename or "", via=via,
                                                    address=address(request)))

    async def unit_file(request: Request) -> Response:
        unit = unit_of(request)
        up = own_upload(unit, request)
        return file_response(store.path(up), up.name)

    async def unit_annotated(request: Request) -> Response:
        unit = unit_of(request)
        return await annotated_response(request, own_upload(unit, request), unit.name)

    async def annotated_response(request: Request, up: Upload, who: str) -> Response:
        path = await cycle.run(cycle.annotated_file, up)
        if path is None:
            return problem(request, 404, "该文件无法读取为统计表，没有批注副本。请查看页面上列出的问题。")
        store.log(who, "下载批注副本", up.name, address(request))
        return file_response(path, f"{PurePath(up.name).stem}_校验结果{path.suffix}")

    # ---------------------------------------------------------------- the office's pages

    async def login_page(request: Request) -> Response:
        if office_session(request) is not None:
            return RedirectResponse("/office", status_code=303)
        nonce = request.cookies.get(LOGIN_COOKIE) or security.new_token()
        response = page(request, "login.html", {"csrf": security.csrf_token(secret, f"login:{nonce}"),
                                                "error": ""})
        set_cookie(response, LOGIN_COOKIE, nonce, max_age=3600)
        return response

    async def login(request: Request) -> Response:
        who = address(request)
        if sign_in_brake.blocked(who):
            return problem(request, 429, "登录失败次数过多，请5分钟后再试。")
        nonce = request.cookies.get(LOGIN_COOKIE, "")
        form = await posted(request, f"login:{nonce}")
        if not security.check_password(str(form.get("password", "")), store.meta("password") or ""):
            sign_in_brake.fail(who)
            store.log("（未登录）", "登录失败", "", who)
            return page(request, "login.html", {"csrf": security.csrf_token(secret, f"login:{nonce}"),
                                                "error": "密码不正确。"}, status=403)
        session = security.new_token()
        store.add_session(security.token_hash(session), time.time() + SESSION_SECONDS)
        store.log("办公室", "登录", "", who)
        response = RedirectResponse("/office", status_code=303)
        set_cookie(response, OFFICE_COOKIE, session, max_age=SESSION_SECONDS)
        response.delete_cookie(LOGIN_COOKIE, path="/office")
        return response

    async def logout(request: Request) -> Response:
        session = office(request)
        await posted(request, f"office:{session}")
        store.drop_session(session)
        store.log("办公室", "退出登录", "", address(request))
        response = RedirectResponse("/office/login", status_code=303)
        response.delete_cookie(OFFICE_COOKIE, path="/")
        return response

    async def register_page(request: Request) -> Response:
        session = office(request)
        version = store.version
        lines = await cycle.run(cycle.register)
        return page(request, "register.html", {"lines": lines, "counts": counts(lines), "version": version,
                                               "rows": register_rows(lines),
                                               "csrf": security.csrf_token(secret, f"office:{session}")})

    async def register_json(request: Request) -> Response:
        office(request)
        version = store.version
        if request.query_params.get("since") == str(version):
            return JSONResponse({"version": version, "unchanged": True})
        lines = await cycle.run(cycle.register)
        return JSONResponse({"version": version, "counts": counts(lines), "lines": [x.to_json() for x in lines]})

    def office_unit_of(request: Request) -> UnitRow:
        unit = store.unit(int(request.path_params["unit"]))
        if unit is None:
            raise HTTPException(404)
        return unit

    async def office_unit(request: Request) -> Response:
        session = office(request)
        unit = office_unit_of(request)
        history = store.uploads(unit.id)
        reports = {up.id: cycle.report(up) for up in history}
        return page(request, "office_unit.html", {
            "unit": unit, "history": history, "reports": reports,
            "texts": {i: [finding_line(f, cycle.form) for f in r.findings] for i, r in reports.items()},
            "line": next((x for x in await cycle.run(cycle.register) if x.unit.id == unit.id), None),
            "csrf": security.csrf_token(secret, f"office:{session}"), "new_link": "",
            "max_mb": settings.max_upload // MB,
        })

    async def office_file(request: Request) -> Response:
        office(request)
        up = store.upload(int(request.path_params["upload"]))
        if up is None:
            raise HTTPException(404)
        store.log("办公室", "下载报表原件", up.name, address(request))
        return file_response(store.path(up), up.name)

    async def office_annotated(request: Request) -> Response:
        office(request)
        up = store.upload(int(request.path_params["upload"]))
        if up is None:
            raise HTTPException(404)
        return await annotated_response(request, up, "办公室")

    async def office_new_link(request: Request) -> Response:
        session = office(request)
        unit = office_unit_of(request)
        await posted(request, f"office:{session}")
        token = datadir.new_link(store, unit, address=address(request))
        datadir.write_links(store, settings.base_url, {unit.id: token})
        unit = store.unit(unit.id) or unit
        return page(request, "new_link.html", {"unit": unit, "link": datadir.link(settings.base_url, token)})

    async def office_exempt(request: Request) -> Response:
        session = office(request)
        unit = office_unit_of(request)
        form = await posted(request, f"office:{session}")
        reason = str(form.get("reason", "")).strip()
        if form.get("undo"):
            await cycle.run(lambda: cycle.exempt(unit, None, address=address(request)))
        elif not reason:
            return problem(request, 400, "标记免报需要写明原因。")
        else:
            await cycle.run(lambda: cycle.exempt(unit, reason[:500], address=address(request)))
        return RedirectResponse(f"/office/unit/{unit.id}", status_code=303)

    async def office_upload(request: Request) -> Response:
        session = office(request)
        unit = office_unit_of(request)
        form = await posted(request, f"office:{session}")
        up = await _accept(request, unit, form, via="office")
        if isinstance(up, Response):
            return up
        return RedirectResponse(f"/office/unit/{unit.id}", status_code=303)

    async def office_summary(request: Request) -> Response:
        office(request)
        kind = "csv" if request.url.path.endswith(".csv") else "xlsx"
        if not any(x.upload is not None for x in await cycle.run(cycle.register)):
            return problem(request, 409, "还没有单位报送，暂无可汇总的数据。")
        data = await cycle.run(cycle.summary_bytes, kind)
        store.log("办公室", "下载汇总表" if kind == "xlsx" else "下载明细CSV", "", address(request))
        name = f"{cycle.region}{cycle.year}年政府信息公开情况统计汇总表.{kind}"
        return download(data, name, XLSX if kind == "xlsx" else "text/csv; charset=utf-8")

    async def office_zip(request: Request) -> Response:
        office(request)
        data = await cycle.run(cycle.annotated_zip)
        store.log("办公室", "下载全部批注副本", "", address(request))
        return download(data, f"{cycle.region}{cycle.year}年批注副本.zip", "application/zip")

    async def office_reminder(request: Request) -> Response:
        office(request)
        text = await cycle.run(cycle.reminder)
        if request.query_params.get("download"):
            return download(text.encode("utf-8"), "催报.txt", "text/plain; charset=utf-8")
        return page(request, "reminder.html", {"text": text})

    async def office_audit(request: Request) -> Response:
        office(request)
        return page(request, "audit.html", {"rows": store.audit_rows()})

    async def home(request: Request) -> Response:
        return page(request, "home.html", {})

    # ---------------------------------------------------------------- errors

    def problem(request: Request, status: int, message: str) -> Response:
        if wants_json(request):
            return JSONResponse({"ok": False, "error": message}, status_code=status)
        return page(request, "message.html", {"message": message, "status": status}, status=status)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code in (301, 302, 303):
            return RedirectResponse((exc.headers or {})["Location"], status_code=exc.status_code)
        if exc.status_code == 413:
            message = too_large_message(settings.max_upload)
        else:
            message = MESSAGES.get(exc.status_code, "请求无法处理。")
        return problem(request, exc.status_code, message)

    async def server_error(request: Request, exc: Exception) -> Response:
        incident = uuid.uuid4().hex[:10]
        log.error("error %s on %s %s", incident, request.method, request.url.path, exc_info=exc)
        message = f"服务器内部错误，请稍后重试；如仍出错，请将错误编号{incident}告知区政务公开办。"
        return problem(request, 500, message)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        yield

    routes = [
        Route("/", home),
        Route("/u/{token}", unit_page),
        Route("/u/{token}/template", unit_template),
        Route("/u/{token}/upload", unit_upload, methods=["POST"]),
        Route("/u/{token}/file/{upload:int}", unit_file),
        Route("/u/{token}/annotated/{upload:int}", unit_annotated),
        Route("/office", register_page),
        Route("/office/login", login_page),
        Route("/office/login", login, methods=["POST"]),
        Route("/office/logout", logout, methods=["POST"]),
        Route("/office/register.json", register_json),
        Route("/office/unit/{unit:int}", office_unit),
        Route("/office/unit/{unit:int}/link", office_new_link, methods=["POST"]),
        Route("/office/unit/{unit:int}/exempt", office_exempt, methods=["POST"]),
        Route("/office/unit/{unit:int}/upload", office_upload, methods=["POST"]),
        Route("/office/file/{upload:int}", office_file),
        Route("/office/annotated/{upload:int}", office_annotated),
        Route("/office/summary.xlsx", office_summary),
        Route("/office/summary.csv", office_summary),
        Route("/office/annotated.zip", office_zip),
        Route("/office/reminder", office_reminder),
        Route("/office/audit", office_audit),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={HTTPException: http_error, Exception: server_error})
    app.state.cycle = cycle
    return SecurityHeaders(app)


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def counts(lines: list[Line]) -> dict[str, int]:
    out = dict.fromkeys(STATES, 0)
    for x in lines:
        out[x.state] += 1
    return out


def register_rows(lines: list[Line]) -> Markup:
    """The register's table rows: written here rather than in the template, since the page
    must stay fast with thousands of units (3,000 rows: Jinja took 300 ms)."""
    esc = html.escape
    out = []
    for i, x in enumerate(lines, 1):
        u, up = x.unit, x.upload
        at, errors, warnings, name = (up.at, str(up.errors), str(up.warnings), up.name) if up else ("", "", "", "")
        out.append(
            f'<tr data-id="{u.id}" data-state="{x.state}">'
            f'<td class="muted">{i}</td><td class="mono">{esc(u.code)}</td>'
            f'<td><a href="/office/unit/{u.id}">{esc(u.name)}</a></td>'
            f'<td><span class="badge {x.state}">{x.label}</span></td><td class="at">{at}</td>'
            f'<td class="errors">{errors}</td><td class="warnings">{warnings}</td><td class="file">{esc(name)}</td></tr>')
    return Markup("\n".join(out))


def disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback and the real (Chinese) name per RFC 5987/6266."""
    fallback = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in filename) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def media_type_of(filename: str) -> str:
    suffix = PurePath(filename).suffix.lower()
    return {".xlsx": XLSX, ".xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12", ".xls": "application/vnd.ms-excel",
            ".ods": "application/vnd.oasis.opendocument.spreadsheet"}.get(suffix, "application/octet-stream")


async def _form(request: Request, limit: int) -> dict[str, Any]:
    """The posted form, the body counted while it streams in: past ``limit`` (plus the fields
    around the file) reading stops with 413 and nothing is kept."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit + MULTIPART_SLACK:
        raise HTTPException(413)
    received = 0
    upstream = request.receive

    async def receive() -> Message:
        nonlocal received
        message = await upstream()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit + MULTIPART_SLACK:
                raise TooLarge
        return message

    try:
        form = await Request(request.scope, receive).form(max_files=1, max_fields=10)
    except TooLarge:
        raise HTTPException(413) from None
    except HTTPException:
        raise
    except Exception:  # noqa: BLE001 - a malformed body is the client's mistake
        raise HTTPException(400) from None
    return dict(form.items())


class SecurityHeaders:
    """nosniff, the Content-Security-Policy, no framing, no Referer, no caching of pages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(b"x-content-type-options", b"nosniff"), (b"content-security-policy", CSP.encode()),
                            (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer")]
                if not scope["path"].startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)

