"""The ``verifier`` command: registers each command module and turns what each returns
(an outcome) or raises (an error) into the exit code, through ``verifier.errors.exit_code``.

Errors are caught exactly once, here: a ``VerifierError`` prints its one-line message and
exits with its code; anything else is a bug (exit 70) and says so in one line, with the
traceback only when VERIFIER_DEBUG=1.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
import traceback

import typer

from verifier import __version__
from verifier.errors import VerifierError, exit_code
from verifier.outcome import CommandStatus
from verifier.printable import one_line

COMMAND_MODULES = (
    "verifier.cli.publish",
    "verifier.cli.fetch",
    "verifier.cli.verify",
    "verifier.cli.pypi",
    "verifier.cli.compare",
    "verifier.cli.report",
    "verifier.cli.keygen",
    "verifier.cli.lock",
    "verifier.cli.debian",
    "verifier.cli.env",
    "verifier.cli.doctor",
    "verifier.cli.farm",
)


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="verifier",
        help="Check that a published release really comes from its published sources.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.callback()(_main_options)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)
    return app


def _show_version(value: bool) -> None:
    if value:
        print(f"verifier {__version__}")
        raise typer.Exit()


def _main_options(
    version: bool = typer.Option(False, "--version", callback=_show_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Check that a published release really comes from its published sources."""


def error_line(message: str) -> None:
    print(f"verifier: error: {one_line(message)}", file=sys.stderr)


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code (used by ``main`` and by tests)."""
    app = build_app()
    try:
        result = app(args=argv, standalone_mode=False)  # a command's outcome; 0 after --version or --help
        if result == exit_code(CommandStatus.INTERRUPTED):  # typer turns KeyboardInterrupt (Ctrl-C, SIGTERM) into a silent Exit(130)
            error_line("interrupted")
            return int(exit_code(CommandStatus.INTERRUPTED))
        return int(exit_code(CommandStatus.DONE if result in (None, 0) else result))
    except VerifierError as exc:
        error_line(exc.message)
        return int(exit_code(exc))
    except (typer.Abort, KeyboardInterrupt):
        error_line("interrupted")
        return int(exit_code(CommandStatus.INTERRUPTED))
    except typer.TyperException as exc:  # usage errors: typer's vendored click
        show = getattr(exc, "show", None)
        show() if show else error_line(str(exc))
        return int(exit_code(CommandStatus.USAGE_ERROR))
    except Exception as exc:  # noqa: BLE001 - the one place that catches bugs
        if os.environ.get("VERIFIER_DEBUG") == "1":
            traceback.print_exc()
        error_line(f"internal error ({type(exc).__name__}: {exc}); please report this bug")
        return int(exit_code(exc))


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up like Ctrl-C: containers removed, temp files gone


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    sys.exit(run())
