"""The `xxgk` command line: parse options, call one library function, print, set the exit code.

Library functions never print or exit; this module is the only place that does.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import NoReturn

import click

from . import __version__, forms
from .files import exists_error


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xxgk")
def main() -> None:
    """xxgk — 政府信息公开情况统计表: generate templates, check returns, merge a summary."""


@main.command("forms")
def forms_cmd() -> None:
    """List the built-in forms (表式): id, name, years it applies to."""
    for form in forms.builtin_forms():
        lo, hi = form.years
        span = f"{lo or '…'}–{hi or '…'}"
        click.echo(f"{form.id}\t{span}\tv{form.version}\t{form.name}")


def _fail(message: str) -> NoReturn:
    """A usage or file problem: said on stderr, exit code 2, no traceback."""
    click.echo(f"错误 (error): {message}", err=True)
    sys.exit(2)


def _fail_file(exc: OSError) -> NoReturn:
    if isinstance(exc, FileExistsError):
        _fail(f"{exc}，如需覆盖请加 --force (use --force to overwrite)")
    _fail(f"{exc.filename or ''}: {exc.strerror or exc}")


def _no_spreadsheets(paths: tuple[Path, ...]) -> str:
    return "没有找到报表文件（.xlsx/.xlsm/.xls/.ods/.docx/.html/.htm）：" + "、".join(map(str, paths))


def _known_forms(paths: tuple[Path, ...]) -> list[forms.Form] | None:
    """The built-in forms plus custom definitions given with --form (None: built-ins only)."""
    if not paths:
        return None
    try:
        return [*forms.builtin_forms(), *(forms.load(p) for p in paths)]
    except forms.FormError as exc:
        raise click.BadParameter(str(exc), param_hint="--form") from None


@main.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: one block per return, ready to paste into a message; json: one document.")
@click.option("--annotate", "annotate_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write a copy of each return with findings, problem cells highlighted, into DIR.")
@click.option("--previous", "previous", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Last year's return of the same unit, or a summary (then the unit's own row of its 分单位明细): adds the year-over-year checks.")
@click.option("--form", "form_paths", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A custom form definition (YAML) to recognise besides the built-in forms; repeatable.")
def check_cmd(paths: tuple[Path, ...], fmt: str, annotate_dir: Path | None, previous: Path | None,
              form_paths: tuple[Path, ...]) -> None:
    """Check returns (files, or directories searched for .xlsx/.xlsm/.xls/.ods, and for the
    annual report itself as .docx/.html/.htm).

    Exit code 0 if every return is valid, 1 if any has errors or unexplained warnings.
    """
    import json

    from . import check, render
    from .findings import batch_json

    known = _known_forms(form_paths)
    files = check.collect_files(paths)
    if not files:
        raise click.UsageError(_no_spreadsheets(paths))
    last = None
    if previous is not None:
        last = check.check_file(previous, known)
        if last.ret is None or last.unknown:
            problems = "；".join(f.message for f in last.report.findings if f.severity == "error")
            raise click.BadParameter(f"上年数据无法使用：{problems}", param_hint="--previous")
    results = check.check_files(files, known)
    by_unit: dict[str, dict[str, Decimal]] = {}
    if previous is not None and last is not None and last.ret is not None and last.ret.identity.kind == "summary":
        from .returns import ReadError
        from .summary import unit_figures

        try:
            by_unit = unit_figures(previous, last.ret.form)  # read once for the whole batch
        except ReadError as exc:
            raise click.BadParameter(f"上年数据无法使用：{exc.detail}", param_hint="--previous") from None
    for result in results:
        if last is None or last.ret is None or result.ret is None:
            continue
        figures = None
        if last.ret.identity.kind == "summary" and result.ret.identity.kind != "summary":
            # a unit's return against last year's district summary: that unit's own row
            figures = by_unit.get(result.ret.identity.agency_code.strip())
            if figures is None:
                click.echo(f"上年汇总表的分单位明细中没有{result.path.name}的单位，未作上年比对。", err=True)
                continue
        if not check.compare_with(result, last, figures):
            click.echo(f"上年数据与{result.path.name}不是同一单位，未作上年比对。", err=True)
    if annotate_dir is not None:
        from .annotate import annotate

        annotate_dir.mkdir(parents=True, exist_ok=True)
        for result in results:
            if result.ret is not None and result.report.findings and result.ret.kind in ("docx", "html"):
                click.echo(f"Word文档和网页不生成批注文件，请按校验结果修改（{result.path.name}）。", err=True)
            elif result.ret is not None and result.report.findings:
                try:
                    out = annotate(result.ret, result.report.findings, annotate_dir, overwrite=True)
                except Exception as exc:  # noqa: BLE001 - report it and go on with the batch
                    click.echo(f"无法生成批注文件（{result.path.name}）：{exc}", err=True)
                else:
                    click.echo(f"已生成批注文件：{out}", err=True)
    reports = [r.report for r in results]
    if fmt == "json":
        click.echo(json.dumps(batch_json(reports), ensure_ascii=False, indent=2))
    else:
        click.echo(render.results_text([(r.report, r.ret.form if r.ret else None) for r in results]), nl=False)
    sys.exit(0 if all(r.valid for r in reports) else 1)


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
    from . import template
    from .roster import RosterError, read_roster

    single = agency is not None or output is not None
    if single == (roster is not None or out_dir is not None):
        _fail("请二选一：--agency NAME -o FILE，或 --roster FILE --out-dir DIR (choose one mode)")
    try:
        form = forms.resolve(form_spec, year)
        if single:
            if not agency or not agency.strip() or output is None:
                _fail("单个模板需要 --agency 和 -o (--agency NAME and -o FILE are both required)")
            if not output.parent.is_dir():
                _fail(f"{output}: 所在目录不存在 (no such directory)")
            path = template.write_template(form, output, year=year, agency=agency.strip(),
                                           code=code.strip(), overwrite=force)
            click.echo(f"已生成模板 (written): {path}")
            return
        if roster is None or out_dir is None:
            _fail("批量生成需要 --roster 和 --out-dir (--roster FILE and --out-dir DIR are both required)")
        units = read_roster(roster)
        out_dir.mkdir(parents=True, exist_ok=True)
        todo = template.plan(((u.code, u.name) for u in units), out_dir, year=year, form=form)
        existing = [job.path for job in todo if job.path.exists()]
        if existing and not force:
            _fail(f"{len(existing)}个文件已存在，如需覆盖请加 --force (files exist, e.g. {existing[0]})")
        with click.progressbar(length=len(todo), label="生成模板 (writing)", file=sys.stderr,
                               hidden=not sys.stderr.isatty()) as bar:
            for _ in template.write_many(form, todo, year=year, workers=jobs, overwrite=force):
                bar.update(1)
        click.echo(f"已生成{len(todo)}个模板 (written {len(todo)} workbooks) → {out_dir}")
    except (forms.FormError, RosterError) as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail_file(exc)


@main.command("merge")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Summary workbook to write (汇总表).")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Roster CSV/XLSX (代码, 名称): who must report; others are listed, not summed.")
@click.option("--region", default="", help="Region named in the title (e.g. 沙坡头区).")
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
def merge_cmd(paths: tuple[Path, ...], output: Path, roster: Path | None, region: str, fmt: str,
              jobs: int | None, prefer: str, previous: Path | None, csv_path: Path | None,
              force: bool, form_paths: tuple[Path, ...]) -> None:
    """Check every return and merge the accepted ones into a summary workbook.

    Exit code 0 if every roster unit reported and passed; 1 if any is missing, failed,
    or in conflict (the summary is still written); 2 for bad usage.
    """
    import json

    from . import merge, summary
    from .roster import RosterError, read_roster

    known = _known_forms(form_paths)
    for target in (output, csv_path):
        if target is not None and target.exists() and not force:
            _fail_file(exists_error(target))
    try:
        files = merge.collect(paths, exclude=[p for p in (output, csv_path) if p is not None])
        if not files:
            _fail(_no_spreadsheets(paths))
        units = read_roster(roster) if roster is not None else None
        with click.progressbar(length=len(files), label="校验汇总 (checking)", file=sys.stderr,
                               hidden=not sys.stderr.isatty()) as bar:
            done = [0]

            def progress(n: int, _total: int) -> None:
                bar.update(n - done[0])
                done[0] = n

            result = merge.merge(files, roster=units, region=region.strip(), prefer=prefer, jobs=jobs,
                                 previous=previous, progress=progress, forms=known)
        summary.write_summary(result, output, overwrite=force)
        if csv_path is not None:
            summary.write_csv(result, csv_path, overwrite=force)
    except merge.MergeError as exc:
        _fail(str(exc))
    except RosterError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail_file(exc)
    if fmt == "json":
        click.echo(json.dumps(result.to_json(output), ensure_ascii=False, indent=2))
    else:
        click.echo(summary.summary_text(result, output), nl=False)
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
    from .report import ReportError, write_report

    if output.suffix.lower() != ".docx":
        raise click.BadParameter("输出文件须为.docx (the output must be a .docx file)", param_hint="-o")
    try:
        out = write_report(source, output, overwrite=force)
    except ReportError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail_file(exc)
    click.echo(f"报告表格已生成：{out}")
