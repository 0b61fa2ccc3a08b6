"""depthkit's command line: thin typer commands over the library functions.

Each submodule registers its commands on :data:`app`. Data goes to stdout or files;
progress and logs go to stderr. A :class:`~depthkit.errors.DepthkitError` becomes a
one-paragraph message and exit code 2, never a traceback.
"""

from __future__ import annotations

import sys

from ..errors import DepthkitError
from .app import app

# Registration order is the order of `depthkit --help`.
from . import grammar as _grammar  # noqa: F401,I001
from . import generate as _generate  # noqa: F401
from . import import_suites as _import_suites  # noqa: F401
from . import verify as _verify  # noqa: F401
from . import eval as _eval  # noqa: F401
from . import report as _report  # noqa: F401
from . import models as _models  # noqa: F401
from . import demo as _demo  # noqa: F401
from . import run as _run  # noqa: F401


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point."""
    from ..logs import configure

    configure()
    try:
        rc = app(args=argv, standalone_mode=False)
    except DepthkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished work is saved; run the same command again to resume", file=sys.stderr)
        return 130
    except SystemExit as exc:  # typer/click exits (e.g. --help)
        return int(exc.code or 0)
    except Exception as exc:
        # Usage errors from click (or the copy of click that typer vendors): both carry
        # show() and exit_code, and print "Usage: ... Error: ..." without a traceback.
        if callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            return exc.exit_code
        if type(exc).__name__ == "Abort":
            print("aborted", file=sys.stderr)
            return 1
        raise
    if rc == 130:  # click turns Ctrl-C into a returned 130 outside standalone mode
        print("interrupted: finished work is saved; run the same command again to resume", file=sys.stderr)
    return rc if isinstance(rc, int) else 0
