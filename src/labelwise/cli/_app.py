"""The typer application every command module registers on, and its one error boundary.

Every command, including those registered later in their own modules, runs inside
:class:`_Group.invoke`, which is where an exception meets the user:

- a :class:`~labelwise.errors.LabelwiseError` prints ``error: <one line>`` and exits 2;
- an operating-system refusal (``OSError``: no permission, a folder in the way, a
  full disk) prints ``error: cannot ...: <reason>: <path>`` and exits 2;
- anything else is a labelwise bug: one line naming the exception, exit 1, and the
  traceback only with ``LABELWISE_DEBUG=1``;
- warnings print as ``warning: <message>`` on stderr.

Help pages get plain metavars (``FILE``, ``INTEGER``; nothing after a flag) instead
of typer's ``{file}``, ``<bool>``, ``<list[str]>``.
"""

from __future__ import annotations

import copy
import os
import sys
import warnings
from typing import Any

import typer
from typer.core import TyperArgument, TyperGroup, TyperOption

from labelwise.errors import LabelwiseError

__all__ = ["app", "report_error"]

# click's own signals (usage errors, --help's exit, Ctrl-C) pass through untouched;
# newer typers carry their own copy of click, so the classes are found through typer
_CLICK_SIGNALS: tuple[type[BaseException], ...] = (
    typer.Exit,
    typer.Abort,
    *(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"),
)
_USAGE_ERROR: type[BaseException] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError"
)

_METAVARS = {
    "int": "INTEGER",
    "integer": "INTEGER",
    "float": "NUMBER",
    "str": "TEXT",
    "text": "TEXT",
    "Path": "PATH",
    "path": "PATH",
    "bool": "BOOLEAN",
    "boolean": "BOOLEAN",
}


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True, width=None if sys.stderr.isatty() else 140, highlight=False)


def report_error(exc: BaseException) -> int:
    """Print ``exc`` as one ``error:`` line on stderr; return the exit code (2 or 1)."""
    from rich.markup import escape

    console = _stderr_console()
    if isinstance(exc, LabelwiseError):
        message, code = str(exc), 2
    elif isinstance(exc, OSError):
        path = exc.filename if exc.filename is not None else ""
        reason = exc.strerror or type(exc).__name__
        message, code = f"cannot use {str(path)!r}: {reason}.", 2
    else:
        message = (
            f"unexpected {type(exc).__name__}: {exc} (a labelwise bug; rerun with "
            "LABELWISE_DEBUG=1 for the traceback and report it)"
        )
        code = 1
    first = " ".join(str(message).split())  # one line, whatever the message held
    console.print(f"[bold red]error:[/] {escape(first)}", soft_wrap=True)
    return code


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    from rich.markup import escape

    text = " ".join(str(message).split())
    _stderr_console().print(f"[bold yellow]warning:[/] {escape(text)}", soft_wrap=True)


def _type_name(param: Any) -> tuple[str, bool]:
    """The plain metavar of an option's type, and whether it repeats (a list)."""
    if hasattr(param, "bare_type"):  # typer >= 0.25
        bare = str(param.bare_type())
    else:
        bare = str(getattr(getattr(param, "type", None), "name", "") or "")
    repeated = bare.startswith("list[") or bool(getattr(param, "multiple", False))
    bare = bare.removeprefix("list[").removesuffix("]")
    return _METAVARS.get(bare, _METAVARS.get(bare.lower(), bare.upper() or "VALUE")), repeated


def clean_metavars(command: Any) -> Any:
    """Give every parameter of ``command`` (and its subcommands) a plain metavar."""
    for param in command.params:
        if isinstance(param, TyperOption):
            if param.is_flag or param.count:
                param.metavar = ""
            elif param.metavar is None:
                name, repeated = _type_name(param)
                param.metavar = name + (" (repeatable)" if repeated else "")
        elif isinstance(param, TyperArgument):
            name = (param.metavar or param.name or "value").upper()
            param.metavar = name
            usage = name if param.required else f"[{name}]"
            if param.nargs != 1:
                usage += "..."
            # typer (>= 0.16) writes required arguments as {name} on the usage line and
            # their type as <path>
            kind = _type_name(param)[0]
            param._usage_display_name = lambda usage=usage: usage  # type: ignore[attr-defined]
            param.display_type_rich = lambda ctx, kind=kind: kind  # type: ignore[attr-defined]
            # typer < 0.29 builds both from make_metavar and the type's own metavar
            param.make_metavar = (  # type: ignore[method-assign]
                lambda ctx=None, *, usage=False, name=name, line=usage, **_: line if usage else name
            )
            param.type = copy.copy(param.type)
            param.type.get_metavar = lambda *a, kind=kind, **k: kind  # type: ignore[method-assign]
    if not getattr(command, "_labelwise_clean", False):
        make_help = command.get_help_option

        def get_help_option(ctx: Any, make_help: Any = make_help) -> Any:
            option = make_help(ctx)
            if option is not None:
                option.metavar = ""
            return option

        command.get_help_option = get_help_option
        command._labelwise_clean = True
    for sub in getattr(command, "commands", {}).values():
        clean_metavars(sub)
    return command


class _Group(TyperGroup):
    """The top-level group: clean help, and the one place exceptions meet the user."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        return None if command is None else clean_metavars(command)

    def get_params(self, ctx: Any) -> Any:
        params = super().get_params(ctx)
        for param in params:
            if isinstance(param, TyperOption) and param.is_flag:
                param.metavar = ""
        return params

    def invoke(self, ctx: Any) -> Any:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            try:
                return super().invoke(ctx)
            except _USAGE_ERROR as exc:
                if type(exc).__name__ == "NoArgsIsHelpError":
                    raise
                # one line, like every other error (typer would draw a box around it)
                hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""  # type: ignore[attr-defined]
                message = " ".join(exc.format_message().split())  # type: ignore[attr-defined]
                _stderr_console().print(
                    f"[bold red]error:[/] {_escape(message)}{hint}", soft_wrap=True
                )
                raise typer.Exit(code=exc.exit_code) from None  # type: ignore[attr-defined]
            except _CLICK_SIGNALS:
                raise
            except Exception as exc:
                if os.environ.get("LABELWISE_DEBUG") and not isinstance(exc, LabelwiseError):
                    raise
                raise typer.Exit(code=report_error(exc)) from None


app = typer.Typer(
    name="labelwise",
    cls=_Group,
    help=(
        "labelwise: build labeled datasets at the lowest labeling cost.\n\n"
        "Aggregate noisy crowd answers, score annotators, route tasks, choose what to "
        "label next, audit a dataset and plan a labeling budget. Run 'labelwise demo' "
        "for the whole pipeline on built-in data."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from labelwise import __version__

        typer.echo(f"labelwise {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False,
        "--version",
        help="Print the labelwise version and exit.",
        callback=_print_version,
        is_eager=True,
    ),
) -> None:
    """labelwise: build labeled datasets at the lowest labeling cost."""
