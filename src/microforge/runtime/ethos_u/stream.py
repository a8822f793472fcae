"""Vela's command-stream payload, parsed: the driver actions around it and the cmd0/cmd1 words.

The ``ethos-u`` operator's first input is what TFLM's Ethos-U kernel hands the driver: the fourcc
``COP1``, then driver actions (Vela's ``driver_actions.py``): a ``Config`` action (tag, the
CONFIG register word Vela compiled for, the ID register word), ``NOP`` padding and one
``CmdStream`` action whose tag carries the length in 32-bit words (low 16 bits in the parameter,
high 8 bits in the reserved byte), followed by the register command stream itself.

Each command is one 32-bit word: bits 0-9 the command code, bit 14 set for a cmd1 command (a
second word follows: 32-bit data, e.g. an address; the top 16 bits of the first word then hold
its parameter, for addresses bits 32-39), bits 16-31 the 16-bit parameter of a cmd0 command.
Register and command names come from Vela's own definitions (``ethos_u55_regs``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from microforge.errors import ModelError, ToolError

MISSING_VELA = "emulating the Ethos-U command stream needs Vela: pip install 'microforge[npu]'"
_COP1 = int.from_bytes(b"COP1", "little")
_DA_CONFIG, _DA_STREAM, _DA_READ_APB, _DA_DUMP_SHRAM, _DA_NOP = 1, 2, 3, 4, 5
CMD1_FLAG = 0x4000


@lru_cache(maxsize=1)
def regs():
    """Vela's register definitions module (``ethos_u55_regs``; U65 shares it)."""
    try:
        from ethosu.vela.ethos_u55_regs import ethos_u55_regs
    except ImportError:
        raise ToolError(MISSING_VELA) from None
    return ethos_u55_regs


@dataclass(frozen=True)
class Command:
    """One command of the stream: ``index`` counts commands from 0, ``word`` its word offset."""

    index: int
    word: int
    name: str
    code: int
    param: int  # cmd0: 16-bit parameter; cmd1: the first word's top 16 bits
    data: int | None  # cmd1 only: the 32-bit payload word

    @property
    def address(self) -> int:
        """A cmd1 payload as a 40-bit address (bits 32-39 from the parameter)."""
        return int(self.data or 0) | ((self.param & 0xFF) << 32)


@dataclass(frozen=True)
class Payload:
    config: int | None  # the CONFIG register word Vela compiled for (None: no Config action)
    commands: list[Command]

    @property
    def macs_per_cc_log2(self) -> int | None:
        return None if self.config is None else self.config & 0xF

    @property
    def product(self) -> str | None:
        """``Ethos-U55`` or ``Ethos-U65`` from the CONFIG word's product field (bits 28-31)."""
        if self.config is None:
            return None
        return "Ethos-U65" if (self.config >> 28) & 0xF == 1 else "Ethos-U55"


def _names() -> tuple[dict[int, str], dict[int, str]]:
    r = regs()
    return {e.value: e.name for e in r.cmd0}, {e.value: e.name for e in r.cmd1}


def parse_commands(words: np.ndarray, where: str = "command stream") -> list[Command]:
    """The cmd0/cmd1 commands of a register command stream (32-bit words). An unknown command
    code is a ``ModelError`` naming the command index and word offset."""
    c0, c1 = _names()
    out: list[Command] = []
    k, n = 0, len(words)
    while k < n:
        w = int(words[k])
        code, param = w & 0x3FF, (w >> 16) & 0xFFFF
        if w & CMD1_FLAG:
            if code not in c1:
                raise ModelError(f"{where}: command {len(out)} (word {k}) is an unknown cmd1 code "
                                 f"0x{code:03x}")
            if k + 1 >= n:
                raise ModelError(f"{where}: command {len(out)} (word {k}) {c1[code]} lacks its "
                                 "payload word")
            out.append(Command(len(out), k, c1[code], code, param, int(words[k + 1])))
            k += 2
        else:
            if code not in c0 or (w >> 10) & 0x3F:
                raise ModelError(f"{where}: command {len(out)} (word {k}) is an unknown cmd0 word "
                                 f"0x{w:08x}")
            out.append(Command(len(out), k, c0[code], code, param, None))
            k += 1
    return out


def parse_payload(data: bytes, where: str = "command stream") -> Payload:
    """Parse the driver payload of an ``ethos-u`` operator (``COP1`` + driver actions)."""
    if len(data) % 4 or len(data) < 8:
        raise ModelError(f"{where}: {len(data)} bytes is not a driver payload (whole 32-bit words)")
    words = np.frombuffer(data, dtype="<u4")
    if int(words[0]) != _COP1:
        raise ModelError(f"{where}: does not start with the driver's COP1 magic")
    config, commands, k = None, None, 1
    while k < len(words):
        tag = int(words[k])
        action, reserved, param = tag & 0xFF, (tag >> 8) & 0xFF, tag >> 16
        if action == _DA_CONFIG:
            config = int(words[k + 1]) if k + 1 < len(words) else None
            k += 3
        elif action == _DA_STREAM:
            length = param | (reserved << 16)
            if k + 1 + length > len(words):
                raise ModelError(f"{where}: the command stream action claims {length} words, "
                                 f"{len(words) - k - 1} follow")
            if commands is not None:
                raise ModelError(f"{where}: more than one command stream action")
            commands = parse_commands(words[k + 1:k + 1 + length], where)
            k += 1 + length
        elif action in (_DA_NOP, _DA_READ_APB, _DA_DUMP_SHRAM):
            k += 1
        else:
            raise ModelError(f"{where}: unknown driver action {action} at word {k}")
    if commands is None:
        raise ModelError(f"{where}: no command stream action in the payload")
    return Payload(config, commands)
