"""The `xxgk` command line: parse options, call one library function, print, set the exit code.

Library functions never print or exit; this module is the only place that does.
"""

from __future__ import annotations

import click

from . import __version__, forms


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
