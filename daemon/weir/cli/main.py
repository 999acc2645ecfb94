"""The ``weir`` command: parse arguments, run one command, map errors to exit codes.

Exit codes: 0 success, 1 a build failed, 2 a user error (bad project, bad arguments), 4 a build
lost because the daemon running it went away, 130 interrupted, 3 a bug in weir (its traceback
goes to ``.weir/logs/crash.log``, or the screen with ``--debug``). With ``--json`` an error is
also a JSON object on stdout, so a script reading stdout gets an answer rather than nothing;
stderr says the same for the person watching.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from pathlib import Path

from weir._version import __version__
from weir.errors import ProjectInvalid, WeirError

COMMANDS = [
    ("init", "create a new project from the example (a git repo with data and recipes)"),
    ("flow", "print the Flow: datasets and the recipes that link them"),
    ("status", "list every dataset as up to date, stale, never built or failed, and why"),
    ("plan", "show what `weir build` would run, and why, without running it"),
    ("build", "build datasets: run exactly the out-of-date recipes they need, in parallel"),
    ("diff", "show what changed in the Flow since a commit, and what goes stale with it"),
    ("promote", "promote an environment's built and checked commit to another's branch"),
    ("show", "show one dataset: definition, status, schema and recent builds"),
    ("log", "list a dataset's versions: commit, time, duration, rows, environment, who built it"),
    ("logs", "print the log of a dataset's last build"),
    ("check", "run datasets' checks on their current data, without building"),
    ("metrics", "show a dataset's metrics over its builds: rows; nulls, min, max per column"),
    ("schema", "print a dataset's observed schema, or write it into its YAML as a contract"),
    ("scenario", "list the project's scenarios: their triggers, steps and next run"),
    ("clean", "drop built data: intermediate datasets, or the ones you name"),
    ("connections", "list the project's connections, or test that they can be reached"),
    ("environments", "list weir.yaml's environments: their branches and what they change"),
    ("state", "check the state store (.weir/state.db), or repair a damaged one"),
    ("daemon", "run the project's daemon: a live Flow and the HTTP API (start/stop/status/logs)"),
    ("lsp", "run the language server over stdio (dataset completion, hover, diagnostics)"),
]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise WeirError(message, hint=f"see `{self.prog} --help`")


def make_parser(argv: list[str] | None = None, chosen: str | None = None
                ) -> argparse.ArgumentParser:
    """The parser. Only the module of the command being run is imported (start-up time)."""
    names = {name for name, _ in COMMANDS}
    chosen = chosen or next((a for a in (argv or []) if a in names), None)
    parser = _Parser(prog="weir", description="weir builds data: a Flow of datasets and "
                     "recipes, kept as plain files in git.",
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"weir {__version__}")
    parser.add_argument("--project", "-C", metavar="DIR", type=Path,
                        help="the project directory (default: found from the current directory)")
    parser.add_argument("--env", metavar="NAME", dest="environment",
                        help="run in this environment of weir.yaml's (its connections, "
                        "variables and state); default: $WEIR_ENV, else none")
    parser.add_argument("--debug", action="store_true",
                        help="show weir's own tracebacks when something unexpected happens")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, summary in COMMANDS:
        sub = subs.add_parser(name, help=summary, description=summary[0].upper() + summary[1:]
                              + ".")
        if name == chosen:
            module = importlib.import_module(f"weir.cli.commands.{name}")
            module.add_parser(sub)
            sub.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    from weir.cli import output

    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    args: argparse.Namespace | None = None
    try:
        parser = make_parser(argv)
        args = parser.parse_args(argv)
        if getattr(args, "command", None) and not hasattr(args, "run"):
            # the first word that looked like a command was an option's value (-C build)
            args = make_parser(argv, chosen=args.command).parse_args(argv)
        if not getattr(args, "command", None):
            parser.print_help()
            return 0
        if args.environment:
            # WEIR_ENV for this command and all it starts (workers, a daemon): one place says
            # which environment runs (weir.workspace.active_environment)
            from weir.wire import ENV_VARIABLE

            os.environ[ENV_VARIABLE] = args.environment
        return int(args.run(args))
    except ProjectInvalid as exc:
        _json_error(args, argv, exc.to_json())
        for d in exc.diagnostics:
            output.diagnostic(d)
        n = len(exc.diagnostics)
        building = getattr(args, "command", None) == "build"
        output.err(f"{n} error{'s' if n != 1 else ''} in the project"
                   + ("; nothing was built." if building else "."))
        return exc.exit_code
    except WeirError as exc:
        _json_error(args, argv, exc.to_json())
        output.error_line(exc.message, exc.hint)
        return exc.exit_code
    except KeyboardInterrupt:
        output.err("interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except Exception:  # noqa: BLE001 - the last line of defence: a bug in weir
        if debug:
            raise
        log = _crash_log(traceback.format_exc())
        message = f"weir hit an internal error: {sys.exc_info()[1]!r}"
        hint = f"this is a bug in weir; the traceback is in {log} (or rerun with --debug)"
        _json_error(args, argv, {"message": message, "hint": hint})
        output.error_line(message, hint)
        return 3


def _json_error(args: argparse.Namespace | None, argv: list[str],
                error: dict[str, object]) -> None:
    """``{"ok": false, "error": …}`` on stdout when the command was asked for JSON (``--json``,
    ``flow --format json``; read from the command line itself when it could not be parsed)."""
    from weir.cli import output

    wanted = (getattr(args, "json", False) or getattr(args, "format", None) == "json"
              if args is not None else "--json" in argv)
    if wanted:
        output.print_json({"ok": False, "error": error})


def _crash_log(text: str) -> str:
    """In the project's .weir/logs when there is a project (the bug may be its files'), else in
    the user's cache."""
    from weir.workspace import project_root

    try:
        target = project_root() / ".weir" / "logs" / "crash.log"
    except WeirError:
        target = Path(os.path.expanduser("~/.cache/weir/crash.log"))
    try:
        if not target.parent.parent.is_dir():
            target = Path(os.path.expanduser("~/.cache/weir/crash.log"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    except OSError:
        return "(could not be written)"
    return str(target)


def entry() -> None:
    sys.exit(main())
