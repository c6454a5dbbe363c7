"""The office's tools beside the register: the cycle's settings (link address, deadline,
contact), sending a return back with a note, the template for a paper return, the audit log
filtered and exported."""

from __future__ import annotations

import csv
import datetime as dt
import io
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from xxgk.site import datadir
from xxgk.site.http import address, base_url, csrf_token, download, file_response, page, posted, problem, service_of
from xxgk.site.office_pages import office, office_unit_of
from xxgk.site.store import AuditPage

AUDIT_FIELDS = ("时间", "操作人", "操作", "内容", "来源地址")
AUDIT_PAGE = 100
AUDIT_EXPORT = 1_000_000


# ---------------------------------------------------------------- settings

async def settings_page(request: Request) -> Response:
    session = office(request)
    return _settings(request, session, "", "")


def _settings(request: Request, session: str, error: str, done: str, status: int = 200) -> Response:
    kept = datadir.cycle_settings(service_of(request).store)
    return page(request, "office_settings.html", {
        "settings": kept, "error": error, "done": done, "listening": request.app.state.settings.base_url,
        "csrf": csrf_token(request, f"office:{session}"),
    }, status=status)


async def save_settings(request: Request) -> Response:
    session = office(request)
    form = await posted(request, f"office:{session}")
    store = service_of(request).store
    deadline = str(form.get("deadline", "")).strip()
    try:
        said = datadir.save_settings(
            store, base_url=str(form.get("base_url", "")).strip(),
            deadline=datadir.parse_deadline(deadline, service_of(request).year) if deadline else None,
            contact=str(form.get("contact", "")), address=address(request))
    except datadir.SetupError as exc:
        return _settings(request, session, str(exc).split(" (")[0], "", status=400)
    if said:
        datadir.write_links(store, base_url(request))
    return _settings(request, session, "", "已保存：" + "；".join(said) if said else "没有改动。")


# ---------------------------------------------------------------- one unit

async def send_back(request: Request) -> Response:
    """退回 the unit's current return with a note: it counts as not passed until the unit uploads again."""
    session = office(request)
    service = service_of(request)
    unit = office_unit_of(request)
    form = await posted(request, f"office:{session}")
    note = str(form.get("note", "")).strip()
    current = service.store.latest().get(unit.id)
    if current is None:
        return problem(request, 409, "该单位还没有上传，无可退回的报表。")
    if not note:
        return problem(request, 400, "退回需要写明原因，单位会在报送页面上看到。")
    await service.run(lambda: datadir.send_back(service.store, unit, current.id, note, address=address(request)))
    return RedirectResponse(f"/office/unit/{unit.id}", status_code=303)


async def unit_template(request: Request) -> Response:
    """The unit's template, for the office to type a paper return into (代报)."""
    office(request)
    service = service_of(request)
    unit = office_unit_of(request)
    path = await service.run(service.template_file, unit)
    service.store.log("办公室", "下载模板（代报）", unit.name, address(request))
    return file_response(path, f"{unit.name}_{service.year}年政府信息公开情况统计表.xlsx")


# ---------------------------------------------------------------- the audit log

def audit_query(request: Request) -> dict[str, str]:
    """The log's filter from the query: who, action, text, from/to date, and ``quiet`` (no downloads)."""
    q = {k: request.query_params.get(k, "").strip()[:100] for k in ("who", "action", "text", "since", "until")}
    q["since"], q["until"] = _day(q["since"]), _day(q["until"])
    q["quiet"] = "1" if request.query_params.get("quiet") else ""
    return q


def _found(request: Request, q: dict[str, str], limit: int, offset: int = 0) -> AuditPage:
    return service_of(request).store.audit_rows(
        limit=limit, offset=offset, who=q["who"], action=q["action"], text=q["text"], since=q["since"],
        until=q["until"], downloads=not q["quiet"])


def _cell(text: str) -> str:
    """A text Excel will not run as a formula (a file or unit name may start with = + - @)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _day(text: str) -> str:
    try:
        return dt.date.fromisoformat(text).isoformat() if text else ""
    except ValueError:
        return ""


async def audit_page(request: Request) -> Response:
    """The audit log, newest first, `AUDIT_PAGE` rows a page (a thousand template downloads push
    nothing out of reach: they are paged, or left out with ``quiet``)."""
    session = office(request)
    q = audit_query(request)
    wanted = request.query_params.get("page", "")
    number = int(wanted) if wanted.isdigit() and 0 < len(wanted) < 7 else 1
    found = _found(request, q, AUDIT_PAGE, (number - 1) * AUDIT_PAGE)
    pages = max(1, -(-found.total // AUDIT_PAGE))
    keep = {k: v for k, v in q.items() if v}
    return page(request, "audit.html", {
        "rows": found.rows, "total": found.total, "q": q, "actions": service_of(request).store.audit_actions(),
        "page": number, "pages": pages, "filtered": bool(keep), "query": urlencode(keep),
        "prev": "?" + urlencode({**keep, "page": number - 1}) if number > 1 else "",
        "next": "?" + urlencode({**keep, "page": number + 1}) if number < pages else "",
        "csrf": csrf_token(request, f"office:{session}"),
    })


async def audit_csv(request: Request) -> Response:
    office(request)
    service = service_of(request)
    rows = _found(request, audit_query(request), AUDIT_EXPORT).rows
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(AUDIT_FIELDS)
    out.writerows([_cell(c) for c in row] for row in rows)
    service.store.log("办公室", "导出操作日志", f"{len(rows)}条", address(request))
    name = f"{service.region}{service.year}年度报送网站操作日志.csv"
    return download(("\ufeff" + buf.getvalue()).encode("utf-8"), name, "text/csv; charset=utf-8")


ROUTES = [
    Route("/office/settings", settings_page),
    Route("/office/settings", save_settings, methods=["POST"]),
    Route("/office/unit/{unit:int}/send-back", send_back, methods=["POST"]),
    Route("/office/unit/{unit:int}/template", unit_template),
    Route("/office/audit", audit_page),
    Route("/office/audit.csv", audit_csv),
]
