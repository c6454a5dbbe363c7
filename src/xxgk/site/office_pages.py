"""The office's pages under ``/office``: sign-in, the live register, each unit, the downloads."""

from __future__ import annotations

import datetime as dt
import time

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from xxgk.cycle.state import STATES
from xxgk.cycle.worker import Exceeded
from xxgk.forms.findings import Report
from xxgk.report.text import finding_line
from xxgk.site import datadir, office_register, security
from xxgk.site.http import (
    MB,
    XLSX,
    address,
    annotated_response,
    base_url,
    csrf_token,
    file_response,
    page,
    posted,
    problem,
    receive_upload,
    service_of,
    stored_file,
)
from xxgk.site.lines import Line
from xxgk.site.store import SESSION_SECONDS, SUFFIXES, UnitRow, Upload

TOO_MANY = "登录失败次数过多，请5分钟后再试。"
OFFICE_COOKIE = "xxgk_office"
LOGIN_COOKIE = "xxgk_login"


def office_session(request: Request) -> str | None:
    """The hash of the office session cookie, when it names a live session."""
    cookie = request.cookies.get(OFFICE_COOKIE, "")
    if not cookie:
        return None
    digest = security.token_hash(cookie)
    return digest if service_of(request).store.session_alive(digest, time.time()) else None


def office(request: Request) -> str:
    session = office_session(request)
    if session is None:
        raise HTTPException(303, headers={"Location": "/office/login"})
    return session


def office_unit_of(request: Request) -> UnitRow:
    unit = service_of(request).store.unit(int(request.path_params["unit"]))
    if unit is None:
        raise HTTPException(404)
    return unit


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    path = "/office" if name == LOGIN_COOKIE else "/"
    response.set_cookie(name, value, max_age=max_age, path=path, httponly=True, samesite="strict",
                        secure=request.app.state.settings.secure_cookies)


# ---------------------------------------------------------------- signing in and out

async def login_page(request: Request) -> Response:
    if office_session(request) is not None:
        return RedirectResponse("/office", status_code=303)
    nonce = request.cookies.get(LOGIN_COOKIE) or security.new_token()
    response = page(request, "login.html", {"csrf": csrf_token(request, f"login:{nonce}"), "error": ""})
    set_cookie(request, response, LOGIN_COOKIE, nonce, max_age=3600)
    return response


async def login(request: Request) -> Response:
    """Sign in.  The attempt is counted as a failure before the password is checked (and given
    back when it was right), so parallel guesses past the limit are refused unchecked; scrypt
    runs in a thread, never on the event loop."""
    store = service_of(request).store
    brake: security.Brake = request.app.state.sign_in_brake
    who = address(request)
    if brake.blocked(who):
        return problem(request, 429, TOO_MANY)
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    form = await posted(request, f"login:{nonce}", small=True)
    if not brake.attempt(who):
        return problem(request, 429, TOO_MANY)
    stored = store.meta("password") or ""
    if not await run_in_threadpool(security.check_password, str(form.get("password", "")), stored):
        store.log_unless_full("（未登录）", "登录失败", "", who)
        return page(request, "login.html", {"csrf": csrf_token(request, f"login:{nonce}"),
                                            "error": "密码不正确。"}, status=403)
    brake.forgive(who)
    session = security.new_token()
    store.add_session(security.token_hash(session), time.time() + SESSION_SECONDS)
    store.log_unless_full("办公室", "登录", "", who)
    response = RedirectResponse("/office", status_code=303)
    set_cookie(request, response, OFFICE_COOKIE, session, max_age=SESSION_SECONDS)
    response.delete_cookie(LOGIN_COOKIE, path="/office")
    return response


async def logout(request: Request) -> Response:
    session = office(request)
    store = service_of(request).store
    await posted(request, f"office:{session}", small=True)
    store.drop_session(session)
    store.log("办公室", "退出登录", "", address(request))
    response = RedirectResponse("/office/login", status_code=303)
    response.delete_cookie(OFFICE_COOKIE, path="/")
    return response


# ---------------------------------------------------------------- the register and the units

async def register_page(request: Request) -> Response:
    session = office(request)
    service = service_of(request)
    version = service.store.version
    lines = await service.run(service.register)
    settings = datadir.cycle_settings(service.store)
    today = dt.date.today()
    entries = {x.unit.id: service.entry(x.unit.id) for x in lines}
    return page(request, "register.html", {
        "lines": lines, "counts": counts(lines), "version": version, "settings": settings,
        "progress": office_register.progress(lines, settings, today), "columns": office_register.COLUMNS,
        "rows": office_register.rows(lines, entries, datadir.categories(service.store, [x.unit for x in lines]),
                                     settings, today),
        "csrf": csrf_token(request, f"office:{session}")})


async def register_json(request: Request) -> Response:
    office(request)
    service = service_of(request)
    version = service.store.version
    if request.query_params.get("since") == str(version):
        return JSONResponse({"version": version, "unchanged": True})
    lines = await service.run(service.register)
    settings = datadir.cycle_settings(service.store)
    today = dt.date.today()
    return JSONResponse({"version": version, "counts": counts(lines),
                         "progress": office_register.progress(lines, settings, today).text,
                         "lines": [office_register.line_json(x, service.entry(x.unit.id), settings, today)
                                   for x in lines]})


async def office_unit(request: Request) -> Response:
    session = office(request)
    service = service_of(request)
    unit = office_unit_of(request)
    line = next((x for x in await service.run(service.register) if x.unit.id == unit.id), None)
    sent = service.history(unit, line)
    history = [x.upload for x in sent]
    reports = {up.id: service.report(up) for up in history}  # the current one as judged now
    token = datadir.current_tokens(service.store).get(unit.id)
    base = base_url(request)
    filler, phone = office_register.signer(service.entry(unit.id))
    return page(request, "office_unit.html", {
        "unit": unit, "history": history, "sent": sent, "reports": reports, "filler": filler, "phone": phone,
        "sent_back": datadir.sent_back(service.store).get(unit.id),
        "link": datadir.link(base, token) if token else "",
        "texts": {i: [finding_line(f, service.form) for f in r.findings] for i, r in reports.items()},
        "marked": {up.id for up in history if annotatable(up, reports[up.id])},
        "line": line,
        "csrf": csrf_token(request, f"office:{session}"), "new_link": "",
        "max_mb": request.app.state.settings.max_upload // MB,
    })


async def office_file(request: Request) -> Response:
    office(request)
    store = service_of(request).store
    up = store.upload(int(request.path_params["upload"]))
    if up is None:
        raise HTTPException(404)
    store.log("办公室", "下载报表原件", up.name, address(request))
    return stored_file(request, up)


async def office_annotated(request: Request) -> Response:
    office(request)
    up = service_of(request).store.upload(int(request.path_params["upload"]))
    if up is None:
        raise HTTPException(404)
    return await annotated_response(request, up, "办公室")


async def office_new_link(request: Request) -> Response:
    session = office(request)
    store = service_of(request).store
    base = base_url(request)
    unit = office_unit_of(request)
    await posted(request, f"office:{session}")
    token = datadir.new_link(store, unit, address=address(request))
    datadir.write_links(store, base)
    unit = store.unit(unit.id) or unit
    return page(request, "new_link.html", {"unit": unit, "link": datadir.link(base, token),
                                           "csrf": csrf_token(request, f"office:{session}")})


async def office_exempt(request: Request) -> Response:
    session = office(request)
    service = service_of(request)
    unit = office_unit_of(request)
    form = await posted(request, f"office:{session}")
    reason = str(form.get("reason", "")).strip()
    if form.get("undo"):
        await service.run(lambda: service.exempt(unit, None, address=address(request)))
    elif not reason:
        return problem(request, 400, "标记免报需要写明原因。")
    else:
        await service.run(lambda: service.exempt(unit, reason[:500], address=address(request)))
    return RedirectResponse(f"/office/unit/{unit.id}", status_code=303)


async def office_upload(request: Request) -> Response:
    session = office(request)
    unit = office_unit_of(request)
    up = await receive_upload(request, unit, f"office:{session}", via="office")
    if isinstance(up, Response):
        return up
    return RedirectResponse(f"/office/unit/{unit.id}", status_code=303)


# ---------------------------------------------------------------- downloads and records

async def office_summary(request: Request) -> Response:
    office(request)
    service = service_of(request)
    kind = "csv" if request.url.path.endswith(".csv") else "xlsx"
    if not any(x.upload is not None for x in await service.run(service.register)):
        return problem(request, 409, "还没有单位报送，暂无可汇总的数据。")
    try:
        path = await service.summary_file(kind)
    except Exceeded as exc:
        return problem(request, 503, f"汇总表未能生成：{exc}")
    service.store.log("办公室", "下载汇总表" if kind == "xlsx" else "下载明细CSV", "", address(request))
    name = f"{service.region}{service.year}年政府信息公开情况统计汇总表.{kind}"
    return file_response(path, name, XLSX if kind == "xlsx" else "text/csv; charset=utf-8")


async def office_zip(request: Request) -> Response:
    office(request)
    service = service_of(request)
    path = await service.annotated_zip()
    service.store.log("办公室", "下载全部批注副本", "", address(request))
    return file_response(path, f"{service.region}{service.year}年批注副本.zip", "application/zip")


UNREADABLE = {"file.empty", "file.encrypted", "file.not_spreadsheet", "file.old_word", "file.too_large",
              "file.unreadable", "file.unsafe_xml", "file.not_ours"}


def annotatable(up: Upload, report: Report) -> bool:
    """Whether ``up`` has a marked copy to offer: a spreadsheet kept as one, read, with findings."""
    return (up.path.lower().endswith(SUFFIXES) and bool(report.findings)
            and not any(f.code in UNREADABLE for f in report.findings))


def counts(lines: list[Line]) -> dict[str, int]:
    out = dict.fromkeys(STATES, 0)
    for x in lines:
        out[x.state] += 1
    return out


ROUTES = [
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
]
