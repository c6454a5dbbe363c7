"""The look of a generated workbook: Chinese fonts, borders, fills, locked or open cells.

Formats belong to one xlsxwriter workbook, so they are created per workbook;
the colours carry meaning the 填报说明 explains (yellow: type here; grey:
computed or not applicable; red: error; amber: needs an explanation).
"""

from __future__ import annotations

from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook

BODY_FONT = "宋体"
TITLE_FONT = "黑体"
INPUT_FILL = "#FFF2CC"  # light yellow: type here
NOTE_FILL = "#FFFBEB"  # paler yellow: optional text
FORMULA_FILL = "#E7E6E6"  # grey: computed or not applicable
HEADER_FILL = "#F2F2F2"
ERROR_FILL, ERROR_FONT = "#FFC7CE", "#9C0006"
WARNING_FILL, WARNING_FONT = "#F4B183", "#833C0B"  # orange, unlike the input yellow
OK_FONT = "#006100"

_BASE: dict[str, Any] = {"font_name": BODY_FONT, "font_size": 11, "valign": "vcenter"}
_CELL: dict[str, Any] = {**_BASE, "border": 1, "text_wrap": True}


class Styles:
    """Every format a template uses, created once for its workbook."""

    def __init__(self, wb: Workbook) -> None:
        def fmt(*layers: dict[str, Any], **extra: Any) -> Format:
            props: dict[str, Any] = {}
            for layer in layers:
                props.update(layer)
            props.update(extra)
            return wb.add_format(props)

        head = {"font_name": TITLE_FONT, "bold": True, "align": "center", "bg_color": HEADER_FILL}
        self.title = fmt(_BASE, font_name=TITLE_FONT, font_size=18, align="center", text_wrap=True)
        self.info = fmt(_BASE, align="left")
        self.info_wrap = fmt(_BASE, align="left", text_wrap=True)  # the official copy's line under the title
        self.status = fmt(_BASE, bold=True, align="center", font_color=ERROR_FONT, border=1)
        self.status_ok = wb.add_format({"font_color": OK_FONT})
        self.caption = fmt(_BASE, font_name=TITLE_FONT, font_size=12, align="left")
        self.header = fmt(_CELL, head)
        self.label = fmt(_CELL, align="left")
        self.label_head = fmt(_CELL, align="left", bold=True)
        self.group = fmt(_CELL, align="center")
        self.center = fmt(_CELL, align="center")
        self.input = fmt(_CELL, align="right", bg_color=INPUT_FILL, locked=False, text_wrap=False)
        self.formula = fmt(_CELL, align="right", bg_color=FORMULA_FILL, text_wrap=False)
        self.mark = fmt(_CELL, align="center", bg_color=FORMULA_FILL)
        self.hint = fmt(_CELL, align="left", valign="top", font_size=9, font_color=ERROR_FONT)
        self.note = fmt(_CELL, align="left", valign="top", font_size=10, bg_color=NOTE_FILL, locked=False)
        self.blank = fmt(_CELL)
        self.sign_label = fmt(_BASE, align="right")
        self.sign_input = fmt(_BASE, align="left", bottom=1, bg_color=INPUT_FILL, locked=False)
        self.error = wb.add_format({"bg_color": ERROR_FILL, "font_color": ERROR_FONT})
        self.warning = wb.add_format({"bg_color": WARNING_FILL, "font_color": WARNING_FONT})
        # the official copy of a summary: the table alone, no fills
        self.plain_header = fmt(_CELL, font_name=TITLE_FONT, bold=True, align="center")
        self.plain_value = fmt(_CELL, align="right", text_wrap=False)
        self.plain_center = fmt(_CELL, align="center")
        self.plain_sign = fmt(_BASE, align="left", bottom=1)
        self.guide_title = fmt(_BASE, font_name=TITLE_FONT, font_size=16, align="center")
        self.guide_heading = fmt(_BASE, font_name=TITLE_FONT, font_size=12, align="left")
        self.guide_text = fmt(_BASE, align="left", valign="top", text_wrap=True)
        self.plain = fmt(_BASE)
