"""One module per CLI subcommand; each exposes ``register(subparsers)``.

The order here is the order ``microforge --help`` lists them in.
"""

from microforge.commands import audio, compile, convert, demo, inspect, kws, quantize, report, run

COMMANDS = [inspect, run, convert, quantize, compile, report, kws, audio, demo]
