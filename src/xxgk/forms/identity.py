"""Identity metadata that every generated workbook carries, for read-back.

The template writes these keys into a very hidden sheet (and document
properties); the reader trusts them over file names, which mean nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

META_SHEET = "_xxgk"
CHECK_SHEET = "_校验"

KIND = "kind"  # "return" (a unit's workbook) or "summary" (a merged workbook)
FORM = "form"
FORM_VERSION = "form_version"
FINGERPRINT = "fingerprint"
YEAR = "year"
AGENCY_CODE = "agency_code"
AGENCY_NAME = "agency_name"
TEMPLATE_ID = "template_id"
GENERATED_AT = "generated_at"
TOOL_VERSION = "tool_version"
REGION = "region"  # summaries only
UNITS = "units"  # summaries only: "code\tname" per included unit, joined by newlines
COMPLETE = "complete"  # summaries only: "summed/expected" units, e.g. "6/29"

KEYS = (KIND, FORM, FORM_VERSION, FINGERPRINT, YEAR, AGENCY_CODE, AGENCY_NAME,
        TEMPLATE_ID, GENERATED_AT, TOOL_VERSION, REGION, UNITS, COMPLETE)


@dataclass
class Identity:
    """Who a workbook belongs to and which form it follows."""

    kind: str = "return"
    form: str = ""
    form_version: int = 0
    fingerprint: str = ""
    year: int | None = None
    agency_code: str = ""
    agency_name: str = ""
    template_id: str = ""
    region: str = ""
    units: list[tuple[str, str]] = field(default_factory=list)
    complete: tuple[int, int] | None = None  # a summary's units summed and expected
    source: str = "metadata"  # "metadata" or "labels" (recognised from the visible sheet)
