"""The units' pages under ``/u/<token>``: the template, the upload and what to fix, the files sent."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from xxgk.report.text import closing, finding_line
from xxgk.site import datadir, figures, security
from xxgk.site.http import (
    MB,
    address,
    annotated_response,
    csrf_token,
    file_response,
    page,
    receive_upload,
    service_of,
    stored_file,
    wants_json,
)
from xxgk.site.store import UnitRow, Upload


def unit_of(request: Request) -> UnitRow:
    """The unit whose token is in the path.  A valid token is proof enough and is never braked
    (units behind one NAT address share it); a wrong one is a missing page and counts as a
    guess from that address: past the limit, wrong tokens get 429 without a look-up."""
    token = request.path_params["token"]
    digest = security.token_hash(token)
    unit = service_of(request).store.unit_by_token_hash(digest)
    if unit is not None and security.same(unit.token_hash, digest):
        return unit
    brake: security.Brake = request.app.state.token_brake
    if not brake.attempt(address(request)):
        raise HTTPException(429)
    raise HTTPException(404)


def own_upload(unit: UnitRow, request: Request) -> Upload:
    up = service_of(request).store.upload(int(request.path_params["upload"]))
    if up is None or up.unit != unit.id:
        raise HTTPException(404)
    return up


async def home(request: Request) -> Response:
    return page(request, "home.html", {})


async def unit_page(request: Request) -> Response:
    unit = unit_of(request)
    service = service_of(request)
    token = request.path_params["token"]
    history = service.store.uploads(unit.id)
    current = history[0] if history else None
    report = service.report(current) if current else None
    entry = service.entry(unit.id)
    line = next((x for x in await service.run(service.register) if x.unit.id == unit.id), None)
    findings = report.findings if report else []
    return page(request, "unit.html", {
        "unit": unit, "token": token, "history": history, "current": current, "report": report,
        "line": line, "lines": [finding_line(f, service.form) for f in findings], "findings": findings,
        "closing": closing(report) if report else "",
        "tables": figures.tables(service.form, entry.values if entry else None, findings) if current else [],
        "csrf": csrf_token(request, f"unit:{unit.token_hash}"),
        "max_mb": request.app.state.settings.max_upload // MB,
        "cycle": datadir.cycle_settings(service.store), "sent_back": datadir.sent_back(service.store).get(unit.id),
    })


async def unit_template(request: Request) -> Response:
    unit = unit_of(request)
    service = service_of(request)
    path = await service.run(service.template_file, unit)
    service.store.log(unit.name, "下载模板", unit.name, address(request))
    return file_response(path, f"{unit.name}_{service.year}年政府信息公开情况统计表.xlsx")


async def unit_upload(request: Request) -> Response:
    unit = unit_of(request)
    up = await receive_upload(request, unit, f"unit:{unit.token_hash}", via="unit")
    if isinstance(up, Response):
        return up
    target = f"/u/{request.path_params['token']}#result"
    if wants_json(request):
        return JSONResponse({"ok": True, "valid": up.valid, "redirect": target})
    return RedirectResponse(target, status_code=303)


async def unit_file(request: Request) -> Response:
    unit = unit_of(request)
    return stored_file(request, own_upload(unit, request))


async def unit_annotated(request: Request) -> Response:
    unit = unit_of(request)
    return await annotated_response(request, own_upload(unit, request), unit.name)


ROUTES = [
    Route("/", home),
    Route("/u/{token}", unit_page),
    Route("/u/{token}/template", unit_template),
    Route("/u/{token}/upload", unit_upload, methods=["POST"]),
    Route("/u/{token}/file/{upload:int}", unit_file),
    Route("/u/{token}/annotated/{upload:int}", unit_annotated),
]
