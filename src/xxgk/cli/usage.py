"""click's own usage errors in Chinese, with click's English in brackets.

Clerks read the tool's messages in Chinese; click writes "Missing option", "does not
exist", "is not one of" in English.  `ChineseGroup` shows every click error the way the
tool shows its own ("错误 (error): …"), translated by the patterns below; a message that no
pattern knows is shown in English with a Chinese lead, never dropped.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

__all__ = ["ChineseGroup", "fail", "fail_file", "translate"]

_CJK = re.compile(r"[\u4e00-\u9fff]")

# whole messages: pattern → Chinese (groups by number)
_MESSAGES: Sequence[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Missing argument (.+)$"), "缺少参数 {0}"),
    (re.compile(r"Missing option (.+)$"), "缺少选项 {0}"),
    (re.compile(r"No such option:? (\S+)"), "没有选项 {0}"),
    (re.compile(r"No such command (.+)$"), "没有命令 {0}"),
    (re.compile(r"Got unexpected extra arguments? \((.*)\)$"), "多余的参数：{0}"),
    (re.compile(r"Option (.+) requires an argument$"), "选项 {0} 需要一个值"),
    (re.compile(r"Option (.+) does not take a value$"), "选项 {0} 不带值"),
]
# what follows "Invalid value for X: "
_VALUES: Sequence[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?:File|Directory|Path) (.+) does not exist$"), "{0} 不存在"),
    (re.compile(r"(?:File|Directory|Path) (.+) is a directory$"), "{0} 是目录，这里应给出文件"),
    (re.compile(r"(?:File|Directory|Path) (.+) is a file$"), "{0} 是文件，这里应给出目录"),
    (re.compile(r"(?:File|Directory|Path) (.+) is not (?:readable|writable)$"), "{0} 没有读写权限"),
    (re.compile(r"(.*) is not one of (.+)$"), "{0} 不是可选的值（可选：{1}）"),
    (re.compile(r"(.*) is not a valid integer(?: range)?$"), "{0} 不是整数"),
    (re.compile(r"(.+) is not in the range (.+)$"), "{0} 不在允许的范围（{1}）内"),
]
_INVALID = re.compile(r"Invalid value for '?([^':]+?)'?: (.*)$", re.S)


def translate(message: str) -> str:
    """A click error message in Chinese with the English in brackets (Chinese ones kept)."""
    invalid = _INVALID.match(message)
    if invalid:
        hint, inner = invalid.groups()
        if _CJK.search(inner):
            return f"{hint}：{inner} (invalid value for {hint})"
        return f"{hint}：{_match(_VALUES, inner) or '值无效'} ({message})"
    if _CJK.search(message):
        return message
    return f"{_match(_MESSAGES, message) or '用法错误'} ({message})"


def _match(patterns: Sequence[tuple[re.Pattern[str], str]], text: str) -> str:
    for pattern, chinese in patterns:
        m = pattern.match(text.strip().rstrip("."))
        if m:
            return chinese.format(*(g or "" for g in m.groups()))
    return ""


class ChineseGroup(click.Group):
    """A group whose click errors are shown in Chinese (exit code 2 as click's)."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except click.ClickException as exc:
            _show(exc)
        except click.Abort:
            click.echo("已中止 (aborted)", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


def _show(exc: click.ClickException) -> NoReturn:
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and ctx is not None:
        click.echo(f"{ctx.get_usage()}\n查看帮助 (for help): {ctx.command_path} --help\n", err=True)
    click.echo(f"错误 (error): {translate(exc.format_message())}", err=True)
    sys.exit(exc.exit_code)


def fail(message: str) -> NoReturn:
    """A usage or file problem: said on stderr, exit code 2, no traceback."""
    click.echo(f"错误 (error): {message}", err=True)
    sys.exit(2)


def fail_file(exc: OSError) -> NoReturn:
    """A file that cannot be written or read: its name and the system's reason, exit code 2."""
    if isinstance(exc, FileExistsError):
        fail(f"{exc}，如需覆盖请加 --force (use --force to overwrite)")
    fail(f"{exc.filename or ''}: {exc.strerror or exc}")
