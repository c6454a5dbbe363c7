"""The README documents every command exactly as its --help prints it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from xxgk.cli.main import main

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", ["forms", "template", "check", "merge", "report", "serve"])
def test_readme_shows_the_current_help(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"], prog_name="xxgk", terminal_width=100)
    assert result.exit_code == 0
    block = f"### `xxgk {command}`\n\n```\n{result.output.rstrip()}\n```"
    assert block in README, f"README's help for {command} is stale; paste `xxgk {command} --help`"


def test_readme_has_the_three_setup_commands() -> None:
    assert "xxgk merge samples/returns/2018 --roster samples/roster.csv" in README
    assert "pip install -q -e '.[test]' && .venv/bin/pytest" in README
    assert "xxgk serve --data out/site --year 2025 --roster samples/roster.csv --region 沙坡头区" in README
