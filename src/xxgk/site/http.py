"""What every page of the site shares: headers, forms, CSRF, downloads, errors, templates.

The handlers read the app's parts from ``request.app.state`` (``service``, ``settings``,
``templates``, ``secret`` and the brakes), which `xxgk.site.app.create_app` sets.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
import uuid
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xxgk.cycle.state import STATES
from xxgk.cycle.worker import Exceeded
from xxgk.forms.findings import SEVERITY_MARK
from xxgk.site import datadir, security
from xxgk.site.lines import Held
from xxgk.site.service import Service
from xxgk.site.store import UnitRow, Upload, disk_full

log = logging.getLogger("xxgk.site")
HERE = Path(__file__).parent
MB = 1024 * 1024
MULTIPART_SLACK = 64 * 1024  # form fields and part headers around the file
SMALL_FORM = 4 * 1024  # what a form without a file may post (signing in): nothing spooled to disk
BODY_IDLE = 20.0  # seconds a request body may pause between two pieces
BODY_TOTAL = 600.0  # seconds the whole body may take (20 MB at 35 KB/s)
SLOT_WAIT = 120.0  # seconds an upload may wait for one of the slots in memory
LOGGED = "xxgk.logged"  # in the scope of a request whose error `server_error` logged
DISK_FULL = "服务器磁盘已满，请联系区政务公开办。"
BUSY = "服务器正忙，正在处理其他单位的上传，请稍后重新上传。"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
MESSAGES = {
    400: "请求有误，请返回上一页重试。",
    403: "请求已失效（页面打开过久或来源不明），请刷新页面后重试。",
    408: "上传中断或过慢，未保存。请检查网络后重新上传。",
    404: "页面不存在。请核对链接是否完整；如链接已更换，请向区政务公开办索取新链接。",
    405: "不支持该操作。",
    429: "尝试次数过多，请稍后再试。",
}


class TooLarge(Exception):
    pass


class TooSlow(Exception):
    pass


def too_large_message(limit: int) -> str:
    return f"文件超过{limit // MB}MB的大小上限，未保存。请检查是否选错了文件（统计表通常不超过1MB）。"


def templates() -> Jinja2Templates:
    """The pages' Jinja2 environment, with the register's states and the findings' marks."""
    pages = Jinja2Templates(directory=str(HERE / "templates"))
    pages.env.globals.update(states=STATES, marks=SEVERITY_MARK)
    return pages


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def base_url(request: Request) -> str:
    """The address links start with: the office's setting, else what the server listens on."""
    kept = datadir.cycle_settings(service_of(request).store).base_url
    return kept or str(request.app.state.settings.base_url).rstrip("/")


def address(request: Request) -> str:
    return request.client.host if request.client else "?"


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    service = service_of(request)
    base = {"year": service.year, "region": service.region, "form": service.form}
    pages: Jinja2Templates = request.app.state.templates
    return pages.TemplateResponse(request, name, {**base, **context}, status_code=status)


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def problem(request: Request, status: int, message: str) -> Response:
    if wants_json(request):
        return JSONResponse({"ok": False, "error": message}, status_code=status)
    return page(request, "message.html", {"message": message, "status": status}, status=status)


# ---------------------------------------------------------------- forms and CSRF

def csrf_token(request: Request, purpose: str) -> str:
    return security.csrf_token(request.app.state.secret, purpose)


async def posted(request: Request, purpose: str, *, small: bool = False) -> dict[str, Any]:
    """The form of a POST whose CSRF token is good for ``purpose`` (else 403); ``small``: a form
    without a file (the body is capped at a few KB: nothing unauthenticated reaches the disk)."""
    limit = SMALL_FORM if small else request.app.state.settings.max_upload + MULTIPART_SLACK
    form = await read_form(request, limit)
    if not security.csrf_ok(request.app.state.secret, purpose, str(form.get("csrf", ""))):
        raise HTTPException(403)
    return form


async def read_form(request: Request, limit: int) -> dict[str, Any]:
    """The posted form, the body counted while it streams in: past ``limit`` bytes reading stops
    with 413, past `BODY_IDLE` seconds without a piece (or `BODY_TOTAL` in all) with 408; nothing
    is kept."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise HTTPException(413)
    received = 0
    upstream = request.receive
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BODY_TOTAL

    async def receive() -> Message:
        nonlocal received
        try:
            message = await asyncio.wait_for(upstream(), min(BODY_IDLE, max(deadline - loop.time(), 0)))
        except asyncio.TimeoutError:
            raise TooSlow from None
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise TooLarge
        return message

    try:
        form = await Request(request.scope, receive).form(max_files=1, max_fields=10)
    except TooLarge:
        raise HTTPException(413) from None
    except TooSlow:
        raise HTTPException(408) from None
    except HTTPException:
        raise
    except Exception:  # noqa: BLE001 - a malformed body is the client's mistake
        raise HTTPException(400) from None
    return dict(form.items())


async def receive_upload(request: Request, unit: UnitRow, purpose: str, *, via: str,
                         hold_worse: bool = False) -> Upload | Held | Response:
    """The file posted for ``unit`` (a form whose CSRF token is good for ``purpose``), kept and
    checked as its return; or the page saying why not.  ``hold_worse`` (a unit's own page): a
    file that would replace a return that passed with one that does not is held for the unit
    to confirm (`Service.accept`); a form with ``confirm`` confirms the one held.  A unit's own uploads (``via`` unit) are
    held to its quotas before the body is read; at most `Settings.uploads_in_flight` bodies are
    in memory at once; refused files past `Settings.keep_refused` are pruned."""
    settings = request.app.state.settings
    over = quota_problem(request, unit) if via == "unit" else None
    if over is not None:
        return over
    slots: asyncio.Semaphore = request.app.state.upload_slots
    try:
        await asyncio.wait_for(slots.acquire(), SLOT_WAIT)
    except asyncio.TimeoutError:
        return problem(request, 503, BUSY)
    try:
        over = quota_problem(request, unit) if via == "unit" else None  # again: others may have sent meanwhile
        if over is not None:
            return over
        form = await posted(request, purpose)
        up: Upload | Held | Response
        if hold_worse and form.get("confirm"):
            up = await confirm_held(request, unit, str(form["confirm"]))
        else:
            up = await accept_upload(request, unit, form, via=via, hold_worse=hold_worse)
    finally:
        slots.release()
    if isinstance(up, Upload):
        service = service_of(request)
        await service.run(service.store.prune_refused, unit.id, settings.keep_refused)
    return up


def quota_problem(request: Request, unit: UnitRow) -> Response | None:
    """429 with what to do when ``unit`` has used up its uploads for the hour or its bytes for the day."""
    settings = request.app.state.settings
    store = service_of(request).store
    service = service_of(request)
    held = service.held_since(unit.id, 3600)[0], service.held_since(unit.id, 24 * 3600)[1]  # files held count too
    count = store.sent_since(unit.id, 3600)[0] + held[0]
    if count >= settings.uploads_per_hour:
        return problem(request, 429, f"本单位1小时内已上传{count}次，达到上限（每小时{settings.uploads_per_hour}次）。"
                                     "请核对文件无误后过一段时间再上传；如有特殊情况，请联系区政务公开办。")
    sent = store.sent_since(unit.id, 24 * 3600)[1] + held[1]
    if sent >= settings.bytes_per_day:
        return problem(request, 429, f"本单位24小时内已上传{sent / MB:.1f}MB，达到上限（每天{settings.bytes_per_day // MB}MB）。"
                                     "请明天再上传；如有特殊情况，请联系区政务公开办。")
    return None


async def confirm_held(request: Request, unit: UnitRow, digest: str) -> Upload | Response:
    """The upload held for ``unit`` (``digest``), confirmed: its current return."""
    service = service_of(request)
    held = service.held(unit, digest)
    if held is None:
        return problem(request, 409, "该确认已失效（可能已确认过或服务已重启），请重新上传文件。")
    return await service.run(lambda: service.release(unit, held, address=address(request)))


async def accept_upload(request: Request, unit: UnitRow, form: dict[str, Any], *, via: str,
                        hold_worse: bool = False) -> Upload | Held | Response:
    """The posted file kept and checked as ``unit``'s return (or held for the unit to confirm,
    see `Service.accept`), or the page saying why not."""
    service = service_of(request)
    limit = request.app.state.settings.max_upload
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return problem(request, 400, "请选择要上传的文件。")
    data = await upload.read()
    await upload.close()
    if len(data) > limit:
        return problem(request, 413, too_large_message(limit))
    if not data:
        return problem(request, 400, "上传的文件是空的（0字节），请重新选择文件。")
    return await service.accept(unit, data, upload.filename or "", via=via, address=address(request),
                                hold_worse=hold_worse)


# ---------------------------------------------------------------- downloads

def disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback and the real (Chinese) name per RFC 5987/6266."""
    fallback = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in filename) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def media_type_of(filename: str) -> str:
    suffix = PurePath(filename).suffix.lower()
    return {".xlsx": XLSX, ".xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12", ".xls": "application/vnd.ms-excel",
            ".ods": "application/vnd.oasis.opendocument.spreadsheet"}.get(suffix, "application/octet-stream")


def download(data: bytes, filename: str, media_type: str) -> Response:
    return Response(data, media_type=media_type, headers={"Content-Disposition": disposition(filename)})


def file_response(path: Path, filename: str, media_type: str | None = None) -> Response:
    """``path`` streamed to the client in chunks (never read whole into memory)."""
    return FileResponse(path, media_type=media_type or media_type_of(filename),
                        headers={"Content-Disposition": disposition(filename)})


def stored_file(request: Request, up: Upload) -> Response:
    """The file as uploaded; a refused file pruned to bound the disk is gone (404, saying so)."""
    if up.pruned:
        return problem(request, 404, "该文件未通过校验，已按保留规则删除（只保留最近的未通过文件）。")
    return file_response(service_of(request).store.path(up), up.name)


async def annotated_response(request: Request, up: Upload, who: str) -> Response:
    """The marked copy of ``up``, logged as downloaded by ``who``."""
    service = service_of(request)
    try:
        path = await service.annotated_file(up)
    except Exceeded as exc:
        return problem(request, 503, f"无法生成批注副本：{exc}。请按页面上列出的问题修改。")
    if path is None:
        return problem(request, 404, "该文件无法读取为统计表，没有批注副本。请查看页面上列出的问题。")
    service.store.log(who, "下载批注副本", up.name, address(request))
    return file_response(path, f"{PurePath(up.name).stem}_校验结果{path.suffix}")


# ---------------------------------------------------------------- errors

async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code in (301, 302, 303):
        return RedirectResponse((exc.headers or {})["Location"], status_code=exc.status_code)
    if exc.status_code == 413 and request.method == "POST" and request.url.path.endswith("/upload"):
        message = too_large_message(request.app.state.settings.max_upload)
    elif exc.status_code == 413:
        message = "提交的内容过大，未处理。"
    else:
        message = MESSAGES.get(exc.status_code, "请求无法处理。")
    return problem(request, exc.status_code, message)


async def server_error(request: Request, exc: Exception) -> Response:
    """500 with an incident number, logged without the unit's token; a full disk says so (507)."""
    incident = uuid.uuid4().hex[:10]
    token = str(request.path_params.get("token", "")) or None
    text = "".join(traceback.format_exception(exc))
    where = request.url.path
    if token:  # a unit's link is its key: never in the log
        text, where = text.replace(token, "<token>"), where.replace(token, "<token>")
    request.scope[LOGGED] = True
    if disk_full(exc):
        log.error("error %s on %s %s: the disk is full", incident, request.method, where)
        return problem(request, 507, DISK_FULL)
    log.error("error %s on %s %s\n%s", incident, request.method, where, text)
    message = f"服务器内部错误，请稍后重试；如仍出错，请将错误编号{incident}告知区政务公开办。"
    return problem(request, 500, message)


class SecurityHeaders:
    """nosniff, the Content-Security-Policy, no framing, no Referer, no caching of pages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                headers += [(b"x-content-type-options", b"nosniff"), (b"content-security-policy", CSP.encode()),
                            (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer")]
                if not scope["path"].startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not (started and scope.get(LOGGED)):
                raise
            # `server_error` answered and logged it (without the unit's token); Starlette raises
            # it again for the server to log, which would write the path: not again


