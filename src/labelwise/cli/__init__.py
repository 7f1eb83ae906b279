"""The ``labelwise`` command line. Each command lives in its own module and registers
itself on :data:`labelwise.cli._app.app`; importing the module is what adds it."""

from __future__ import annotations

from labelwise.cli import aggregate as _aggregate  # noqa: F401
from labelwise.cli import audit as _audit  # noqa: F401
from labelwise.cli import demo as _demo  # noqa: F401
from labelwise.cli import engine as _engine  # noqa: F401
from labelwise.cli import plan as _plan  # noqa: F401
from labelwise.cli import prune as _prune  # noqa: F401
from labelwise.cli import select as _select  # noqa: F401
from labelwise.cli import serve as _serve  # noqa: F401
from labelwise.cli import simulate as _simulate  # noqa: F401
from labelwise.cli import split as _split  # noqa: F401
from labelwise.cli import version as _version  # noqa: F401
from labelwise.cli import weak as _weak  # noqa: F401
from labelwise.cli._app import app

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``labelwise`` script."""
    app()
