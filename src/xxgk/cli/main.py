"""The `xxgk` command line: parse options, call one library function, print, set the exit code.

Library functions never print or exit; this module is the only place that does.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from xxgk import __version__
from xxgk.cli.usage import ChineseGroup, fail, fail_file
from xxgk.files import display_name, exists_error
from xxgk.forms import model as forms
from xxgk.forms.builtin import builtin_forms, for_year, resolve
from xxgk.forms.load import load

if TYPE_CHECKING:
    from collections.abc import Sequence

    from xxgk.check.figures import Figure
    from xxgk.cycle import batch
    from xxgk.cycle.roster import Unit


@click.group(cls=ChineseGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xxgk")
def main() -> None:
    """xxgk — 政府信息公开情况统计表: generate templates, check returns, merge a summary."""


@main.command("forms")
def forms_cmd() -> None:
    """List the built-in forms (表式): id, name, years it applies to."""
    for form in builtin_forms():
        lo, hi = form.years
        span = f"{lo or '…'}–{hi or '…'}"
        click.echo(f"{form.id}\t{span}\tv{form.version}\t{form.name}")


def _no_spreadsheets(paths: tuple[Path, ...]) -> str:
    return "没有找到报表文件（.xlsx/.xlsm/.xls/.ods/.docx/.html/.htm/.pdf）：" + "、".join(map(str, paths))


def _roster(path: Path) -> list[Unit]:
    """The roster read, with a warning for names borne by several units (told apart by code)."""
    from xxgk.cycle.roster import duplicate_names, read_roster

    units = read_roster(path)
    same = duplicate_names(units)
    if same:
        click.echo(f"提醒：名单中有重名单位（{'、'.join(same)}），只能按代码区分；报表须带单位代码。"
                   " (duplicate names in the roster)", err=True)
    return units


def _known_forms(paths: tuple[Path, ...]) -> list[forms.Form] | None:
    """The built-in forms plus custom definitions given with --form (None: built-ins only)."""
    if not paths:
        return None
    try:
        return [*builtin_forms(), *(load(p) for p in paths)]
    except forms.FormError as exc:
        raise click.BadParameter(str(exc), param_hint="--form") from None


@main.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: one block per return, ready to paste into a message; json: one document.")
@click.option("--year", type=click.IntRange(1990, 2100),
              help="统计年度 (reporting year): files of another year are flagged; default: the year of most files.")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Roster CSV/XLSX (代码, 名称): a file named for another unit than its own is flagged.")
@click.option("--annotate", "annotate_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write a copy of each return with findings, problem cells highlighted, into DIR.")
@click.option("--force", is_flag=True, help="Overwrite existing annotated copies.")
@click.option("--previous", "previous", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Last year's return of the same unit, or a summary (then the unit's own row of its 分单位明细): adds the year-over-year checks.")
@click.option("--form", "form_paths", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A custom form definition (YAML) to recognise besides the built-in forms; repeatable.")
@click.option("--show-values", is_flag=True,
              help="List the figures read from each return (text output; json always has them).")
def check_cmd(paths: tuple[Path, ...], fmt: str, year: int | None, roster: Path | None,
              annotate_dir: Path | None, force: bool, previous: Path | None,
              form_paths: tuple[Path, ...], show_values: bool) -> None:
    """Check returns (files, or directories searched for .xlsx/.xlsm/.xls/.ods/.et, and for the
    annual report itself as .docx/.html/.htm/.pdf).

    Exit code 0 if every return is valid, 1 if any has errors or unexplained warnings.
    """
    import json

    from xxgk.check.figures import figures_json
    from xxgk.cycle import batch
    from xxgk.cycle.previous import PreviousError
    from xxgk.cycle.roster import RosterError
    from xxgk.forms.findings import batch_json
    from xxgk.report import text as render

    known = _known_forms(form_paths)
    if annotate_dir is not None:
        _make_dir(annotate_dir, "--annotate")
    try:
        units = _roster(roster) if roster is not None else None
        done = batch.check_paths(paths, year=year, roster=units, previous=previous, forms=known,
                           exclude=[annotate_dir] if annotate_dir is not None else [])
    except RosterError as exc:
        fail(str(exc))
    except PreviousError as exc:
        raise click.BadParameter(str(exc), param_hint="--previous") from None
    if not done.entries:
        raise click.UsageError(_no_spreadsheets(paths) + _skipped_text(done.skipped))
    for notice in [*done.notices, *(n for e in done.entries for n in e.notices)]:
        click.echo(notice, err=True)
    if annotate_dir is not None:
        _annotate(done, annotate_dir, force, known)
    reports = [e.report for e in done.entries]
    if fmt == "json":
        doc = batch_json(reports)
        for item, probed in zip(doc["returns"], done.probed, strict=True):
            item["figures"] = figures_json(list(probed.figures))
        doc["skipped"] = [{"file": str(f), "reason": why} for f, why in done.skipped]
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        text = render.results_text([(e.report, form) for form, e in zip(done.read_as, done.entries, strict=True)])
        if show_values:
            text += "".join(_figures_text(e.report.file, p.figures) for p, e in zip(done.probed, done.entries, strict=True))
        click.echo(text, nl=False)
        click.echo(_skipped_text(done.skipped), nl=False)
    sys.exit(0 if done.valid else 1)


def _figures_text(file: str, figures: Sequence[Figure]) -> str:
    """The figures read from one return, one line each: 行次/栏次, label, value."""
    if not figures:
        return f"\n读取的数字（{Path(file).name}）：未能读取\n"
    lines = [f"\n读取的数字（{Path(file).name}）："]
    for f in figures:
        value = "（不是数字）" if f.value is None else format(f.value, "f")
        lines.append(f"  {f.code}\t{f.place}“{f.label}”\t{value}{'（合计）' if f.total else ''}")
    return "\n".join(lines) + "\n"


def _skipped_text(skipped: Sequence[tuple[Path | str, str]]) -> str:
    if not skipped:
        return ""
    lines = [f"\n未读取的文件（{len(skipped)}）："]
    lines += [f"  {f} — {why}" for f, why in skipped]
    return "\n".join(lines) + "\n"


def _make_dir(path: Path, option: str) -> None:
    """An output folder made before any work, or a usage error naming the option."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.BadParameter(f"无法创建目录{path}：{exc.strerror or exc} (cannot create directory)",
                                 param_hint=option) from None


def _annotate(done: batch.Checked, out_dir: Path, force: bool, known: Sequence[forms.Form] | None) -> None:
    from xxgk.check.file import check_file
    from xxgk.read.tables import DOCUMENT_KINDS
    from xxgk.report.annotate import annotate, target_path

    read = [(p, e) for p, e, form in zip(done.probed, done.entries, done.read_as, strict=True)
            if form is not None and e.report.findings]
    for probed, entry in read:  # the report itself is not a workbook to mark up
        if entry.file_kind in DOCUMENT_KINDS:
            click.echo(f"Word文档和网页不生成批注文件，请按校验结果修改（{display_name(Path(probed.path).name)}）。", err=True)
    # read again here, for their workbooks: the workers read each within the limits already
    todo = [(ret, e) for p, e in read if e.file_kind not in DOCUMENT_KINDS
            and (ret := check_file(p.path, known).ret) is not None]
    existing = [p for p in (target_path(ret, out_dir) for ret, _ in todo) if p.exists()]
    if existing and not force:
        fail_file(exists_error(existing[0]))
    for ret, entry in todo:
        try:
            out = annotate(ret, entry.report.findings, out_dir, overwrite=force)
        except Exception as exc:  # noqa: BLE001 - report it and go on with the batch
            click.echo(f"无法生成批注文件（{display_name(ret.path.name)}）：{exc}", err=True)
        else:
            click.echo(f"已生成批注文件：{display_name(out)}", err=True)


@main.command("template")
@click.option("--year", type=click.IntRange(1990, 2100), required=True, help="统计年度 (reporting year).")
@click.option("--form", "form_spec", metavar="ID|PATH", help="Form id or YAML file; default: by year.")
@click.option("--agency", help="填报单位 name (one workbook).")
@click.option("--code", default="", help="Unit code for --agency.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Workbook to write.")
@click.option("--roster", type=click.Path(dir_okay=False, path_type=Path),
              help="Roster CSV/XLSX (代码, 名称): one workbook per unit.")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), help="Directory for --roster.")
@click.option("--jobs", type=click.IntRange(min=1), help="Worker processes for --roster (default: CPUs).")
@click.option("--force", is_flag=True, help="Overwrite existing workbooks.")
def template_cmd(year: int, form_spec: str | None, agency: str | None, code: str, output: Path | None,
                 roster: Path | None, out_dir: Path | None, jobs: int | None, force: bool) -> None:
    """Generate the template(s) a department fills in.

    xxgk template --year Y [--form ID|PATH] (--agency NAME [--code CODE] -o FILE | --roster FILE --out-dir DIR)
    """
    from xxgk.cycle.roster import RosterError
    from xxgk.write import template

    single = agency is not None or output is not None
    if single == (roster is not None or out_dir is not None):
        fail("请二选一：--agency NAME -o FILE，或 --roster FILE --out-dir DIR (choose one mode)")
    try:
        form = resolve(form_spec, year)
        if not form.applies_to(year):
            lo, hi = form.years
            click.echo(f"提醒：{form.id}（{form.name}）适用于{lo or '…'}–{hi or '…'}年度，不是{year}年度的表式；"
                       f"{year}年度应为{for_year(year).id}。 (form {form.id} is not the form of {year})", err=True)
        if single:
            if not agency or not agency.strip() or output is None:
                fail("单个模板需要 --agency 和 -o (--agency NAME and -o FILE are both required)")
            path = template.write_template(form, output, year=year, agency=agency.strip(),
                                           code=code.strip(), overwrite=force)
            click.echo(f"已生成模板 (written): {path}")
            return
        if roster is None or out_dir is None:
            fail("批量生成需要 --roster 和 --out-dir (--roster FILE and --out-dir DIR are both required)")
        units = _roster(roster)
        out_dir.mkdir(parents=True, exist_ok=True)
        todo = template.plan(((u.code, u.name) for u in units), out_dir, year=year, form=form)
        existing = [job.path for job in todo if job.path.exists()]
        if existing and not force:
            fail(f"{len(existing)}个文件已存在，如需覆盖请加 --force (files exist, e.g. {existing[0]})")
        with click.progressbar(length=len(todo), label="生成模板 (writing)", file=sys.stderr,
                               hidden=not sys.stderr.isatty()) as bar:
            for _ in template.write_many(form, todo, year=year, workers=jobs, overwrite=force):
                bar.update(1)
        click.echo(f"已生成{len(todo)}个模板 (written {len(todo)} workbooks) → {out_dir}")
    except (forms.FormError, RosterError) as exc:
        fail(str(exc))
    except OSError as exc:
        fail_file(exc)


@main.command("merge")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Summary workbook to write (汇总表).")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Roster CSV/XLSX (代码, 名称): who must report; others are listed, not summed.")
@click.option("--region", default="", help="Region named in the title (e.g. 沙坡头区).")
@click.option("--year", type=click.IntRange(1990, 2100),
              help="统计年度 (reporting year); default: the year of most files.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: for people, in Chinese; json: one document (returns, summary, units, output).")
@click.option("--jobs", type=click.IntRange(min=1), help="Worker processes (default: CPUs).")
@click.option("--prefer", type=click.Choice(["strict", "latest"]), default="strict", show_default=True,
              help="Two different files of one unit: strict refuses both; latest takes the later one.")
@click.option("--previous", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Last year's summary: year-over-year checks on the totals.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write every value of every accepted return as a long CSV (UTF-8 with BOM).")
@click.option("--force", is_flag=True, help="Overwrite an existing summary / CSV.")
@click.option("--form", "form_paths", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A custom form definition (YAML) to recognise besides the built-in forms; repeatable.")
def merge_cmd(paths: tuple[Path, ...], output: Path, roster: Path | None, region: str, year: int | None, fmt: str,
              jobs: int | None, prefer: str, previous: Path | None, csv_path: Path | None,
              force: bool, form_paths: tuple[Path, ...]) -> None:
    """Check every return and merge the accepted ones into a summary workbook.

    Exit code 0 if every roster unit reported and passed; 1 if any is missing, failed,
    or in conflict (the summary is still written); 2 for bad usage.
    """
    import json

    from xxgk.cycle import batch
    from xxgk.cycle.collection import CollectionError
    from xxgk.cycle.previous import PreviousError
    from xxgk.cycle.roster import RosterError
    from xxgk.report.summary.outputs import write_outputs
    from xxgk.report.summary.texts import summary_text

    known = _known_forms(form_paths)
    for target in (output, csv_path):
        if target is not None and target.exists() and not force:
            fail_file(exists_error(target))
    try:
        found = batch.collect(paths, exclude=[p for p in (output, csv_path) if p is not None])
        if not found.files:
            fail(_no_spreadsheets(paths) + _skipped_text(found.skipped))
        units = _roster(roster) if roster is not None else None
        with click.progressbar(length=len(found.files), label="校验汇总 (checking)", file=sys.stderr,
                               hidden=not sys.stderr.isatty()) as bar:
            done = [0]

            def progress(n: int, _total: int) -> None:
                bar.update(n - done[0])
                done[0] = n

            result = batch.merge(found, roster=units, region=region.strip(), year=year,
                                 prefer="latest" if prefer == "latest" else "strict", jobs=jobs,
                                 previous=previous, progress=progress, forms=known)
        write_outputs(result, output, csv_path, overwrite=force)
    except CollectionError as exc:
        fail(str(exc))
    except PreviousError as exc:
        fail(f"--previous: {exc}")
    except RosterError as exc:
        fail(str(exc))
    except OSError as exc:
        fail_file(exc)
    if fmt == "json":
        click.echo(json.dumps(result.to_json(output), ensure_ascii=False, indent=2))
    else:
        click.echo(summary_text(result, output), nl=False)
        if csv_path is not None:
            click.echo(f"明细CSV已生成：{csv_path}")
    sys.exit(0 if result.complete else 1)


@main.command("report")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Word document to write (.docx).")
@click.option("--force", is_flag=True, help="Overwrite an existing document.")
def report_cmd(source: Path, output: Path, force: bool) -> None:
    """Tables 二、三、四 of a checked return or a summary as a Word document (official layout, A4).

    The return or summary must pass its checks (no errors); exit code 2 otherwise.
    """
    from xxgk.report.word import ReportError, write_report

    if output.suffix.lower() != ".docx":
        raise click.BadParameter("输出文件须为.docx (the output must be a .docx file)", param_hint="-o")
    try:
        out = write_report(source, output, overwrite=force)
    except ReportError as exc:
        fail(str(exc))
    except OSError as exc:
        fail_file(exc)
    click.echo(f"报告表格已生成：{out}")


from xxgk.cli.serve import serve_cmd  # noqa: E402 - the web stack itself loads only when serve runs

main.add_command(serve_cmd)
