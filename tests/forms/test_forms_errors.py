"""A bad form definition is refused with a message naming the file and the key path."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from xxgk.forms.builtin import builtin_dir, resolve
from xxgk.forms.load import build, load, schema
from xxgk.forms.model import FormError

BASE: dict[str, Any] = {
    "id": "demo",
    "name": "演示表",
    "years": {"from": 2030},
    "tables": [
        {
            "id": "t1",
            "units": False,
            "columns": [
                {"id": "c1", "label": "甲"},
                {"id": "c2", "label": "乙"},
                {"id": "c3", "label": "合计", "sum": ["c1", "c2"]},
            ],
            "rows": [
                {"id": "r1", "label": "一、收到"},
                {"id": "r2", "label": "（一）当面"},
                {"id": "r3", "label": "（二）网络"},
                {"id": "r4", "label": "二、合计", "sum": ["r2..r3"]},
            ],
        }
    ],
    "rules": [
        {
            "id": "E_r4",
            "table": "t1",
            "severity": "error",
            "assert": "r4 <= r1",
            "message": "第{code}栏“{column}”：合计不能大于收到数。",
        },
    ],
}


def variant(change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    change(data)
    return data


def refused(data: dict[str, Any]) -> FormError:
    with pytest.raises(FormError) as info:
        build(data, "bad.yaml")
    return info.value


def test_base_definition_is_valid() -> None:
    form = build(copy.deepcopy(BASE), "bad.yaml")
    assert [c.key for c in form.formulas] == [
        "t1.1.3",
        "t1.2.3",
        "t1.3.3",
        "t1.4.1",
        "t1.4.2",
        "t1.4.3",
    ]
    assert len(form.checks) == 3


def row(data: dict[str, Any], i: int) -> dict[str, Any]:
    result: dict[str, Any] = data["tables"][0]["rows"][i]
    return result


def col(data: dict[str, Any], i: int) -> dict[str, Any]:
    result: dict[str, Any] = data["tables"][0]["columns"][i]
    return result


CASES: list[tuple[str, Callable[[dict[str, Any]], object], str, str]] = [
    # (name, change, key path, words the message must contain)
    (
        "unknown row in a formula",
        lambda d: row(d, 3).update(sum=["r2", "r9"]),
        "tables[0].rows[3].sum",
        "unknown row 'r9'",
    ),
    (
        "unknown end of a range",
        lambda d: row(d, 3).update(sum=["r2..r7"]),
        "tables[0].rows[3].sum",
        "unknown row 'r7'",
    ),
    (
        "unknown column in a formula",
        lambda d: col(d, 2).update(sum=["c1", "cX"]),
        "tables[0].columns[2].sum",
        "unknown column 'cX'",
    ),
    (
        "unknown indicator in a rule",
        lambda d: d["rules"][0].update({"assert": "r4 <= r99"}),
        "rules[0].assert",
        "unknown indicator 'r99'",
    ),
    (
        "duplicate row id",
        lambda d: row(d, 2).update(id="r2"),
        "tables[0].rows[2].id",
        "duplicate id 'r2'",
    ),
    (
        "duplicate row code",
        lambda d: row(d, 2).update(code="2"),
        "tables[0].rows[2].code",
        "duplicate code '2'",
    ),
    (
        "duplicate column id",
        lambda d: col(d, 1).update(id="c1"),
        "tables[0].columns[1].id",
        "duplicate id 'c1'",
    ),
    (
        "duplicate table id",
        lambda d: d["tables"].append(copy.deepcopy(d["tables"][0])),
        "tables[1].id",
        "duplicate id 't1'",
    ),
    (
        "duplicate rule id",
        lambda d: d["rules"].append(copy.deepcopy(d["rules"][0])),
        "rules[1].id",
        "duplicate id 'E_r4'",
    ),
    (
        "row formula cycle",
        lambda d: (row(d, 2).update(sum=["r4"]), row(d, 3).update(sum=["r3"])),
        "tables[0].rows[2].sum",
        "formula cycle: r3 → r4 → r3",
    ),
    (
        "row formula referring to itself",
        lambda d: row(d, 3).update(sum=["r2", "r4"]),
        "tables[0].rows[3].sum",
        "formula cycle: r4 → r4",
    ),
    (
        "column formula cycle",
        lambda d: col(d, 0).update(sum=["c3"]),
        "tables[0].columns[0].sum",
        "formula cycle: c1 → c3 → c1",
    ),
    (
        "unknown value kind of a row",
        lambda d: row(d, 1).update(value="money"),
        "tables[0].rows[1].value",
        "unknown value 'money'",
    ),
    (
        "unknown value kind of a column",
        lambda d: col(d, 0).update(value="float"),
        "tables[0].columns[0].value",
        "unknown value 'float'",
    ),
    (
        "unknown value kind of a table",
        lambda d: d["tables"][0].update(value="real"),
        "tables[0].value",
        "unknown value 'real'",
    ),
    (
        "multiplication in a rule",
        lambda d: d["rules"][0].update({"assert": "r4 * 2 <= r1"}),
        "rules[0].assert",
        "not allowed",
    ),
    (
        "a rule that is not a comparison",
        lambda d: d["rules"][0].update({"assert": "r4 + r1"}),
        "rules[0].assert",
        "must be a comparison",
    ),
    (
        "a rule that does not parse",
        lambda d: d["rules"][0].update({"assert": "r4 <= (r1"}),
        "rules[0].assert",
        "cannot parse",
    ),
    (
        "a rule calling a function",
        lambda d: d["rules"][0].update({"assert": "len(r1) == 0"}),
        "rules[0].assert",
        "only sum(...) and last(name) may be called",
    ),
    ("unknown top-level key", lambda d: d.update(colour="red"), "colour", "unknown key"),
    (
        "unknown table key",
        lambda d: d["tables"][0].update(caption="x"),
        "tables[0].caption",
        "unknown key",
    ),
    (
        "unknown row key",
        lambda d: row(d, 0).update(units="件"),
        "tables[0].rows[0].units",
        "unknown key",
    ),
    (
        "unknown column key",
        lambda d: col(d, 0).update(groups=["x"]),
        "tables[0].columns[0].groups",
        "unknown key",
    ),
    (
        "unknown rule key",
        lambda d: d["rules"][0].update(level="error"),
        "rules[0].level",
        "unknown key",
    ),
    ("unknown years key", lambda d: d["years"].update(until=2040), "years.until", "unknown key"),
    (
        "unknown severity",
        lambda d: d["rules"][0].update(severity="fatal"),
        "rules[0].severity",
        "unknown value 'fatal'",
    ),
    (
        "unknown placeholder in a message",
        lambda d: d["rules"][0].update(message="{agency}错"),
        "rules[0].message",
        "only {column}, {row}, {code}, {label:ID} and {place:ID}",
    ),
    (
        "a label placeholder naming no row or column",
        lambda d: d["rules"][0].update(message="{label:r9}错"),
        "rules[0].message",
        "names no row or column",
    ),
    (
        "rule on an unknown column",
        lambda d: d["rules"][0].update(columns=["c1", "c9"]),
        "rules[0].columns",
        "unknown column 'c9'",
    ),
    (
        "rule on an unknown table",
        lambda d: d["rules"][0].update(table="t9"),
        "rules[0].table",
        "unknown table 't9'",
    ),
    (
        "a header row in a formula",
        lambda d: row(d, 1).update(kind="header"),
        "tables[0].rows[3].sum",
        "'r2' is a header row",
    ),
    (
        "a formula row without parts",
        lambda d: row(d, 0).update(kind="formula"),
        "tables[0].rows[0].sum",
        "needs sum",
    ),
    (
        "a row label missing",
        lambda d: row(d, 2).pop("label"),
        "tables[0].rows[2].label",
        "required",
    ),
    (
        "a row that is not a mapping",
        lambda d: d["tables"][0]["rows"].append("r5"),
        "tables[0].rows[4]",
        "expected a mapping",
    ),
    (
        "an id that is not a name",
        lambda d: row(d, 0).update(id="1st"),
        "tables[0].rows[0].id",
        "must be a name",
    ),
]


@pytest.mark.parametrize(
    ("change", "key", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_definition_names_the_key(
    change: Callable[[dict[str, Any]], object], key: str, words: str
) -> None:
    error = refused(variant(change))
    assert error.key == key
    assert error.source == "bad.yaml"
    assert str(error).startswith(f"bad.yaml: {key}: ")
    assert words in error.detail


def test_load_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "custom.yaml"
    path.write_text(
        "id: demo\nname: 演示表\ntables:\n  - id: t1\n    rows:\n"
        "      - {id: r1, label: 甲, value: money}\n",
        encoding="utf-8",
    )
    with pytest.raises(FormError) as info:
        load(path)
    assert str(info.value).startswith("custom.yaml: tables[0].rows[0].value: unknown value 'money'")


def test_load_reports_bad_yaml(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: demo\ntables: [\n", encoding="utf-8")
    with pytest.raises(FormError) as info:
        load(path)
    assert info.value.key == "yaml" and "not valid YAML" in str(info.value)


def test_resolve_unknown_builtin_lists_the_known_forms() -> None:
    with pytest.raises(FormError) as info:
        resolve("gk1999", 2021)
    assert info.value.key == "form"
    for known in ("gk2018", "gk2019", "gk2021"):
        assert known in str(info.value)


def test_bad_yaml_is_quoted_where_it_goes_wrong(tmp_path: Path) -> None:
    """The fast (libyaml) loader says little about a mistake; the message is the pure one's."""
    path = tmp_path / "tabbed.yaml"
    path.write_text("id: demo\ntables:\n\t- id: t1\n", encoding="utf-8")
    with pytest.raises(FormError) as info:
        load(path)
    message = str(info.value)
    assert "line 3" in message and "\t- id: t1" in message and "^" in message


def test_messages_name_rows_by_id_instead_of_repeating_labels() -> None:
    data = variant(lambda d: d["rules"][0].update(
        message="第{code}栏：{place:r4}“{label:r4}”不能大于{place:r1}“{label:r1}”（{label:c1}为{place:c1}）。"))
    check = next(c for c in build(data, "bad.yaml").checks if c.rule.id == data["rules"][0]["id"])
    r4, r1, c1 = (check.rule.table.row("r4"), check.rule.table.row("r1"), check.rule.table.column("c1"))
    assert check.message.startswith(
        f"第{check.column.code}栏：第{r4.code}行“{r4.label}”不能大于第{r1.code}行“{r1.label}”（{c1.label}为第{c1.code}栏）")


@pytest.mark.parametrize("form_id", ["gk2018", "gk2019", "gk2021"])
def test_the_built_in_forms_match_the_published_schema(form_id: str) -> None:
    import jsonschema
    import yaml

    data = yaml.safe_load((builtin_dir() / f"{form_id}.yaml").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema()).validate(data)


def test_what_only_the_schema_refuses_is_refused_by_the_loader_too() -> None:
    # an older printing's mark that is no label text: the hand checks let a list of anything
    # through, the published schema does not
    def change(d: dict[str, Any]) -> None:
        d["tables"][0]["older"] = [{"name": "旧表", "rows": {"旧": "r1"}, "marks": [["x"]], "replaces": ["r1"]}]

    error = refused(variant(change))
    assert error.key == "tables[0].older[0].marks[0]" and "schema" in error.detail
