"""Model metadata entries the IR understands."""

from __future__ import annotations

import numpy as np


def offline_offsets(metadata: dict[str, bytes] | None) -> dict[int, int]:
    """Tensor index -> arena offset from TFLite's ``OfflineMemoryAllocation`` metadata (int32
    words: version, subgraph, count, then one offset per tensor of the main subgraph; -1, not
    planned, is left out). Vela writes it for the tensors its command streams address."""
    raw = (metadata or {}).get("OfflineMemoryAllocation")
    if raw is None:
        return {}
    values = np.frombuffer(raw[: len(raw) // 4 * 4], dtype="<i4")
    if len(values) < 3:
        return {}
    return {t: int(off) for t, off in enumerate(values[3:3 + int(values[2])]) if off >= 0}
