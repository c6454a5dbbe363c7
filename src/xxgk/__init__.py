"""xxgk: the annual government-information-disclosure statistics (政府信息公开情况统计表).

The public API, importable from ``xxgk`` alone::

    from xxgk import Collection, builtin, read_roster, write_summary

Names are loaded on first use, so ``xxgk`` on the command line starts without the readers and
writers it does not need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name → the module that defines it
_API = {
    "Collection": "xxgk.cycle.collection",
    "read": "xxgk.read.open",
    "check_file": "xxgk.check.file",
    "builtin": "xxgk.forms.builtin",
    "write_template": "xxgk.write.template",
    "write_summary": "xxgk.report.summary.workbook",
    "read_roster": "xxgk.cycle.roster",
}

__all__ = ["__version__", *_API]

if TYPE_CHECKING:
    from xxgk.check.file import check_file as check_file
    from xxgk.cycle.collection import Collection as Collection
    from xxgk.cycle.roster import read_roster as read_roster
    from xxgk.forms.builtin import builtin as builtin
    from xxgk.read.open import read as read
    from xxgk.report.summary.workbook import write_summary as write_summary
    from xxgk.write.template import write_template as write_template


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'xxgk' has no attribute {name!r}")
    value = getattr(importlib.import_module(_API[name]), name)
    globals()[name] = value
    return value
