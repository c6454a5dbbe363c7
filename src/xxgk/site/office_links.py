"""What the office sends the units: the 发放链接 page (every unit's current link with a copy
button, a QR code and a ready 通知: link, deadline, contact, three steps; one per unit and one
for all; the same as an .xlsx) and the 催报 page (the text for all, and one per unit not yet
through with its link).  Links start with the address the units will open (the settings' base URL)."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import segno
import xlsxwriter
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from xxgk.site import datadir
from xxgk.site.http import XLSX, address, base_url, csrf_token, download, page, service_of
from xxgk.site.lines import Line
from xxgk.site.office_pages import office, office_unit_of
from xxgk.site.store import UnitRow

STEPS = (
    "1. 打开链接，下载本单位的统计表模板（已填好单位名称和年度）；",
    "2. 在模板上填写后，回到同一页面上传，网页会立即给出校验结果；",
    "3. 如有错误或提醒，按页面列出的单元格修改或填写情况说明后重新上传，直到显示“已通过”（以最后一次上传为准）。",
)


@dataclass(frozen=True)
class LinkRow:
    unit: UnitRow
    category: str
    link: str  # "" when the unit has no working link kept (make a new one)
    notice: str


def notice(*, region: str, year: int, unit: str, link: str, settings: datadir.CycleSettings) -> str:
    """The 通知 for one unit: what to do, by when, through which link, whom to ask."""
    when = f"请于{datadir.date_text(settings.deadline)}前" if settings.deadline else "请按时"
    out = [f"【通知】报送{year}年度政府信息公开情况统计表",
           f"{unit}：",
           f"{when}通过本单位专属链接报送{year}年度政府信息公开情况统计表：",
           link or "（链接待办公室重新生成）",
           "步骤：", *STEPS,
           "此链接为本单位专用，请勿转发。"]
    if settings.contact:
        out.append(f"联系方式：{settings.contact}")
    out.append(f"{region}政务公开办")
    return "\n".join(out) + "\n"


def notice_all(*, region: str, year: int, rows: list[LinkRow], settings: datadir.CycleSettings) -> str:
    """One 通知 for every unit: the steps once, then each unit's own link."""
    when = f"请各单位于{datadir.date_text(settings.deadline)}前" if settings.deadline else "请各单位按时"
    out = [f"【通知】报送{year}年度政府信息公开情况统计表",
           f"各单位：{when}通过本单位专属链接报送{year}年度政府信息公开情况统计表。",
           "步骤：", *STEPS,
           "各单位链接（仅限本单位使用，请勿转发）："]
    out.extend(f"{i}. {r.unit.name}：{r.link or '（链接待办公室重新生成）'}" for i, r in enumerate(rows, 1))
    if settings.contact:
        out.append(f"联系方式：{settings.contact}")
    out.append(f"{region}政务公开办")
    return "\n".join(out) + "\n"


def chase(line: Line, link: str, *, year: int, settings: datadir.CycleSettings, today: dt.date) -> str:
    """The 催报 for one unit not yet through: where it stands (the register's words), by when,
    its link, whom to ask."""
    what = {"missing": "尚未报送", "exempt": "免报"}.get(line.state, f"{line.label}（{line.detail}）" if line.detail
                                                        else line.label)
    out = [f"{line.unit.name}：贵单位{year}年度政府信息公开情况统计表目前{what}。"]
    left = settings.days_left(today)
    if settings.deadline is not None and left is not None:
        late = f"已逾期{-left}天，请尽快" if left < 0 else ("今天截止，请今天内" if left == 0 else f"还有{left}天，请")
        out.append(f"报送截止{datadir.date_text(settings.deadline)}，{late}通过本单位专属链接报送：")
    else:
        out.append("请尽快通过本单位专属链接报送：")
    out.append(link or "（链接待办公室重新生成）")
    if line.state != "missing":
        out.append("打开链接即可看到校验结果和需要修改的单元格，改正后重新上传，以最后一次上传为准。")
    if settings.contact:
        out.append(f"联系方式：{settings.contact}")
    return "\n".join(out) + "\n"


def chases(request: Request, lines: list[Line]) -> list[tuple[Line, str]]:
    """Every unit not yet through (未报送, 未通过, 提醒待说明) with its own 催报 text."""
    service = service_of(request)
    settings = datadir.cycle_settings(service.store)
    base = base_url(request)
    tokens = datadir.current_tokens(service.store)
    today = dt.date.today()
    return [(x, chase(x, datadir.link(base, tokens[x.unit.id]) if x.unit.id in tokens else "", year=service.year,
                      settings=settings, today=today))
            for x in lines if x.state not in ("passed", "exempt")]


def link_rows(request: Request) -> list[LinkRow]:
    service = service_of(request)
    store = service.store
    settings = datadir.cycle_settings(store)
    base = base_url(request)
    tokens = datadir.current_tokens(store)
    kinds = datadir.categories(store)
    rows = []
    for unit in store.units():
        link = datadir.link(base, tokens[unit.id]) if unit.id in tokens else ""
        rows.append(LinkRow(unit, kinds.get(unit.id, ""), link,
                            notice(region=service.region, year=service.year, unit=unit.name, link=link,
                                   settings=settings)))
    return rows


async def links_page(request: Request) -> Response:
    session = office(request)
    service = service_of(request)
    rows = link_rows(request)
    settings = datadir.cycle_settings(service.store)
    local = base_url(request).split("://", 1)[-1].split(":", 1)[0].split("/", 1)[0] in ("127.0.0.1", "localhost",
                                                                                       "[::1]")
    service.store.log("办公室", "查看发放链接", "", address(request))
    return page(request, "office_links.html", {
        "rows": rows, "settings": settings, "local": local, "base": base_url(request),
        "all": notice_all(region=service.region, year=service.year, rows=rows, settings=settings),
        "deadline": datadir.date_text(settings.deadline), "csrf": csrf_token(request, f"office:{session}"),
    })


async def reminder_page(request: Request) -> Response:
    """催报: the service's text for all, and one per unit not yet through, with its link."""
    session = office(request)
    service = service_of(request)
    text = await service.run(service.reminder)
    if request.query_params.get("download"):
        return download(text.encode("utf-8"), "催报.txt", "text/plain; charset=utf-8")
    lines = await service.run(service.register)
    return page(request, "reminder.html", {"text": text, "chases": chases(request, lines),
                                           "csrf": csrf_token(request, f"office:{session}")})


async def links_xlsx(request: Request) -> Response:
    office(request)
    service = service_of(request)
    rows = link_rows(request)
    settings = datadir.cycle_settings(service.store)
    service.store.log("办公室", "导出发放链接", f"{len(rows)}个单位", address(request))
    name = f"{service.region}{service.year}年度报送链接.xlsx"
    return download(links_workbook(rows, settings), name, XLSX)


def links_workbook(rows: list[LinkRow], settings: datadir.CycleSettings) -> bytes:
    """序号, 类别, 代码, 单位, 链接, 截止日期, 通知: one row per unit, ready to mail-merge."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_urls": False})
    ws = wb.add_worksheet("报送链接")
    head = wb.add_format({"bold": True, "bg_color": "#F2F4F7", "border": 1})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    top = wb.add_format({"valign": "top"})
    headers = ["序号", "类别", "代码", "单位", "链接", "截止日期", "通知"]
    for col, (text, width) in enumerate(zip(headers, (6, 10, 14, 28, 70, 12, 80), strict=True)):
        ws.write_string(0, col, text, head)
        ws.set_column(col, col, width)
    deadline = settings.deadline.isoformat() if settings.deadline else ""
    for i, row in enumerate(rows, 1):
        ws.write_number(i, 0, i, top)
        for col, text in enumerate((row.category, row.unit.code, row.unit.name, row.link, deadline), 1):
            ws.write_string(i, col, text, top)
        ws.write_string(i, 6, row.notice, wrap)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, len(rows), len(headers) - 1)
    wb.close()
    return buf.getvalue()


async def link_qr(request: Request) -> Response:
    """The unit's link as a QR code (SVG), to print on the notice or show on a phone."""
    office(request)
    unit = office_unit_of(request)
    token = datadir.current_tokens(service_of(request).store).get(unit.id)
    if token is None:
        raise HTTPException(404)
    buf = io.BytesIO()
    segno.make(datadir.link(base_url(request), token), error="m").save(
        buf, kind="svg", scale=4, border=2, xmldecl=False, title=f"{unit.name}的报送链接")
    return Response(buf.getvalue(), media_type="image/svg+xml")


ROUTES = [
    Route("/office/reminder", reminder_page),
    Route("/office/links", links_page),
    Route("/office/links.xlsx", links_xlsx),
    Route("/office/links/qr/{unit:int}.svg", link_qr),
]
