"""Weight, bias and activation parameters, and the calibration range methods."""

from __future__ import annotations

import numpy as np
import pytest

from microforge.quantize.calibration import TensorStats, choose_range
from microforge.quantize.weights import activation_params, quantize_layer


def test_per_channel_symmetric_weights_and_bias_scale():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(1, 3, 3, 6)).astype(np.float32) * np.arange(1, 7, dtype=np.float32)
    b = rng.normal(size=6).astype(np.float32)
    layer = quantize_layer(w, b, axis=3, per_channel=True, input_scale=0.02, bias_dtype=np.int32)
    amax = np.abs(w).reshape(-1, 6).max(axis=0)
    np.testing.assert_allclose(layer.weight_quant.scale, amax / 127, rtol=1e-6)
    assert layer.weight_quant.axis == 3 and not layer.weight_quant.zero_point.any()
    assert np.abs(layer.weights).reshape(-1, 6).max(axis=0).tolist() == [127] * 6
    np.testing.assert_allclose(layer.bias_quant.scale, np.float32(0.02) * layer.weight_quant.scale)
    error = np.abs(layer.bias * layer.bias_quant.scale.astype(np.float64) - b)
    assert (error <= layer.bias_quant.scale * 0.5 + 1e-7).all()


def test_per_tensor_weights_one_scale():
    w = np.array([[1.0, -2.0], [0.5, 0.25]], np.float32)
    layer = quantize_layer(w, None, axis=0, per_channel=False, input_scale=0.1,
                           bias_dtype=np.int32)
    assert layer.weight_quant.scale.tolist() == [np.float32(2.0 / 127)]
    assert layer.bias is None


def test_bias_that_would_overflow_raises_the_weight_scale_and_zero_channels_are_valid():
    w = np.array([[1e-6, 0.0], [0.0, 0.0]], np.float32)
    b = np.array([1000.0, 0.0], np.float32)
    layer = quantize_layer(w, b, axis=0, per_channel=True, input_scale=1e-3, bias_dtype=np.int32)
    assert (layer.weight_quant.scale > 0).all()
    assert np.abs(layer.bias.astype(np.int64)).max() < 2**31 - 1
    np.testing.assert_allclose(layer.bias[0] * layer.bias_quant.scale[0], 1000.0, rtol=1e-3)


@pytest.mark.parametrize("lo,hi", [(-1.0, 3.0), (0.0, 6.0), (0.5, 2.0), (-4.0, -1.0), (0, 0)])
def test_activation_params_represent_zero_exactly(lo, hi):
    scale, zp = activation_params(lo, hi, int16=False)
    assert -128 <= zp <= 127 and scale > 0
    assert scale * (-128 - zp) <= min(lo, 0) + scale and scale * (127 - zp) >= max(hi, 0) - scale
    scale16, zp16 = activation_params(lo, hi, int16=True)
    assert zp16 == 0 and scale16 * 32767 >= max(abs(lo), abs(hi)) * (1 - 1e-6)


def _quantization_mse(values, lo, hi):
    scale, zp = activation_params(lo, hi, int16=False)
    q = np.clip(np.round(values / scale) + zp, -128, 127)
    return float((((q - zp) * scale - values) ** 2).mean())


def test_range_methods():
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(size=100_000), [40.0]]).astype(np.float32)
    stats = TensorStats(float(values.min()), float(values.max()), values)
    assert choose_range(stats, "minmax") == (stats.min, 40.0)
    p_lo, p_hi = choose_range(stats, "percentile")
    assert 3 < p_hi < 6 and -6 < p_lo < -3  # the outlier is clipped
    heavy = rng.laplace(size=100_000).astype(np.float32)
    stats = TensorStats(float(heavy.min()), float(heavy.max()), heavy)
    errors = {m: _quantization_mse(heavy, *choose_range(stats, m))
              for m in ("minmax", "percentile", "mse")}
    assert choose_range(stats, "mse")[1] < stats.max
    assert errors["mse"] <= min(errors.values()) * 1.02, errors
    relu = TensorStats(0.0, float(np.abs(heavy).max()), np.abs(heavy))
    assert choose_range(relu, "mse")[0] == 0.0 and choose_range(relu, "percentile")[0] == 0.0
