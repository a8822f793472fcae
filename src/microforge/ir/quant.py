"""Quantization parameters of a tensor (TFLite affine quantization)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class QuantParams:
    """Affine quantization: ``real = scale * (q - zero_point)``.

    ``scale`` and ``zero_point`` are 1-D arrays: length 1 for per-tensor quantization, one entry per
    channel along ``axis`` for per-channel quantization. ``min``/``max`` are kept for round trips.
    """

    scale: np.ndarray
    zero_point: np.ndarray
    axis: int = 0
    min: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    max: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))

    def __post_init__(self) -> None:
        self.scale = np.atleast_1d(np.asarray(self.scale, dtype=np.float32))
        self.zero_point = np.atleast_1d(np.asarray(self.zero_point, dtype=np.int64))
        self.min = np.atleast_1d(np.asarray(self.min, dtype=np.float32))
        self.max = np.atleast_1d(np.asarray(self.max, dtype=np.float32))

    @property
    def per_channel(self) -> bool:
        return self.scale.size > 1

    @property
    def is_quantized(self) -> bool:
        """True when the tensor carries a scale (TFLite tensors may carry only min/max)."""
        return self.scale.size > 0

    @property
    def scalar_scale(self) -> float:
        return float(self.scale[0])

    @property
    def scalar_zero_point(self) -> int:
        return int(self.zero_point[0]) if self.zero_point.size else 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QuantParams):
            return NotImplemented
        return (
            self.axis == other.axis
            and np.array_equal(self.scale, other.scale)
            and np.array_equal(self.zero_point, other.zero_point)
            and np.array_equal(self.min, other.min)
            and np.array_equal(self.max, other.max)
        )
