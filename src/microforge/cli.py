"""Command-line front end. Every user error ends as one line on stderr and exit code 2 (usage) or
1 (model or tool error); set MICROFORGE_DEBUG=1 to see tracebacks of unexpected failures."""

from __future__ import annotations

import argparse
import os
import sys

from microforge.errors import MicroforgeError, UsageError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    from microforge.commands import COMMANDS

    parser = _Parser(prog="microforge", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except MicroforgeError as exc:
        print(f"microforge: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # e.g. `microforge inspect m.tflite | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("microforge: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not a user error: one line unless debugging
        if os.environ.get("MICROFORGE_DEBUG"):
            raise
        print(
            f"microforge: internal error: {type(exc).__name__}: {exc} "
            "(set MICROFORGE_DEBUG=1 for a traceback and please report it)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
