"""Plain-text rendering of reports for the terminal."""

from __future__ import annotations

from microforge.report.summary import ModelSummary, TensorSummary
from microforge.report.tflm_resolver import resolver_snippet


def human(n: float) -> str:
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= div:
            return f"{n / div:.2f}{unit}"
    return f"{n:g}"


def _tensor(t: TensorSummary) -> str:
    return f"{t.dtype}[{','.join(map(str, t.shape))}]"


def _io(t: TensorSummary) -> str:
    q = f"  scale {t.scale:.6g} zero_point {t.zero_point}" if t.scale is not None else ""
    return f"  {t.name or '#' + str(t.index)}: {_tensor(t)}{q}"


def table(rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    out = []
    for r in rows:
        cells = [
            r[c].rjust(widths[c]) if c in right else r[c].ljust(widths[c]) for c in range(len(r))
        ]
        out.append("  ".join(cells).rstrip())
    return out


def render_summary(s: ModelSummary, title: str) -> str:
    lines = [title, "inputs:"] + [_io(t) for t in s.inputs] + ["outputs:"]
    lines += [_io(t) for t in s.outputs]
    if s.layout:
        lines.append(f"layout: {s.source_format} arrays (run, calibration) -> channels-last IR "
                     "(converted .tflite, C):")
        for m in s.layout:
            lines.append(f"  {m['kind']} {m['name']}: [{','.join(map(str, m['source_shape']))}] -> "
                         f"[{','.join(map(str, m['ir_shape']))}]  (transpose {tuple(m['perm'])})")
    rows = [["#", "op", "inputs", "outputs", "weights", "MACs", ""]]
    for op in s.operators:
        rows.append(
            [
                str(op.index),
                op.op,
                " ".join(_tensor(t) for t in op.inputs),
                " ".join(_tensor(t) for t in op.outputs),
                f"{op.weight_bytes:,}",
                human(op.macs) if op.macs else "-",
                "" if op.supported else "UNSUPPORTED",
            ]
        )
    lines += [""] + table(rows, right={0, 4, 5}) + [""]
    lines.append(
        f"totals: {len(s.operators)} operators, weights {s.weight_bytes:,} bytes, "
        f"{human(s.macs)} MACs"
    )
    if s.unsupported:
        lines.append("not supported by microforge: " + ", ".join(s.unsupported))
    else:
        lines.append("all operators supported by microforge")
    lines.append("")
    lines.append("TFLM op resolver for this model:")
    lines += ["  " + line for line in resolver_snippet(s.tflm_resolver).splitlines()]
    if s.tflm_unregistered:
        lines.append("  (no TFLM registration known for: " + ", ".join(s.tflm_unregistered) + ")")
    return "\n".join(lines)
