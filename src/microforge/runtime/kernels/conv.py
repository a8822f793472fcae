"""CONV_2D and DEPTHWISE_CONV_2D, as TFLM's reference kernels (``conv.cc``, ``depthwise_conv.cc``,
``reference/integer_ops/{conv,depthwise_conv}.h``, ``reference/{conv,depthwiseconv_float}.h``).

Integer kernels compute TFLM's accumulator exactly and hand it to the shared :class:`Requantizer`.
The accumulator is a sum of integer products; it is formed in float32 BLAS / numpy (matmul,
einsum: any summation order) when every partial sum, in any order, is an integer below 2**24
(bounded per output channel in ``prepare`` by ``max|x - zp| * sum|w|``), in float64 below 2**53,
else the layer is refused. Taps outside the image contribute nothing in TFLM: the integer kernels
pad ``x - input_zero_point`` with zeros, the float kernels add a tap only over the output region
where it lies inside the image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from microforge import fixedpoint as fp
from microforge.errors import ModelError
from microforge.limits import check_workspace
from microforge.runtime import native
from microforge.runtime.kernels.common import (
    Requantizer,
    activation_range_float,
    activation_range_quantized,
    compute_padding,
    strided,
    workspace,
)
from microforge.runtime.kernels.conv_strips import Strips
from microforge.runtime.registry import Kernel, OpContext, register

_F32_EXACT = 1 << 24
_F64_EXACT = 1 << 53
_BLOCK = 1 << 18  # output elements per evaluation block: temporaries stay in L2
_SCHEMA_INT32 = 2  # TensorType.INT32 in quantized_bias_type


@dataclass(frozen=True)
class Geometry:
    """Where each filter tap reads: TFLM's ``in = out * stride - pad + tap * dilation``."""

    in_h: int
    in_w: int
    k_h: int
    k_w: int
    out_h: int
    out_w: int
    stride_h: int
    stride_w: int
    dil_h: int
    dil_w: int
    pad_top: int
    pad_left: int

    @classmethod
    def of(cls, options: dict, in_shape, k_h: int, k_w: int, out_shape) -> Geometry:
        sh, sw = int(options.get("stride_h", 1)), int(options.get("stride_w", 1))
        dh = int(options.get("dilation_h_factor", 1) or 1)
        dw = int(options.get("dilation_w_factor", 1) or 1)
        padding = int(options.get("padding", 0))
        _, top = compute_padding(padding, in_shape[1], k_h, sh, dh)
        _, left = compute_padding(padding, in_shape[2], k_w, sw, dw)
        for axis, out, stride, k, dil in (("height", out_shape[1], sh, k_h, dh),
                                          ("width", out_shape[2], sw, k_w, dw)):
            if (out - 1) * stride + (k - 1) * dil >= 2 ** 31:
                raise ModelError(
                    f"convolution stride {stride} / dilation {dil} along the {axis} reach past "
                    f"2^31 for an output of {out}: TFLM's int32 index arithmetic overflows "
                    "there; the model is corrupt")
        # Past the padded input, a larger stride changes nothing (every later window lies
        # wholly outside the image): the layouts and loops use the smallest such stride.
        sh = min(sh, in_shape[1] + max(top, 0) + 1)
        sw = min(sw, in_shape[2] + max(left, 0) + 1)
        return cls(in_shape[1], in_shape[2], k_h, k_w, out_shape[1], out_shape[2], sh, sw, dh, dw,
                   top, left)

    @property
    def taps(self) -> list[tuple[int, int]]:
        return [(fy, fx) for fy in range(self.k_h) for fx in range(self.k_w)]

    @property
    def pointwise(self) -> bool:
        return self.k_h == self.k_w == 1 and self.pad_top == self.pad_left == 0

    def padded_shape(self, shape) -> tuple[int, int, int, int]:
        """The shape ``pad`` gives an (N, H, W, C) input."""
        rows = (self.out_h - 1) * self.stride_h + (self.k_h - 1) * self.dil_h + 1
        cols = (self.out_w - 1) * self.stride_w + (self.k_w - 1) * self.dil_w + 1
        return (shape[0], rows, cols, shape[3])

    def pad(self, x: np.ndarray, fill=0, out: np.ndarray | None = None) -> np.ndarray:
        """``x`` (N, H, W, C) padded (or cropped) so that every tap view lies inside it; into
        ``out`` (of ``padded_shape``) when given."""
        if out is None:
            out = np.empty(self.padded_shape(x.shape), x.dtype)
        rows, cols = out.shape[1:3]
        y0, x0 = max(self.pad_top, 0), max(self.pad_left, 0)
        h = min(self.in_h, rows - y0)
        w = min(self.in_w, cols - x0)
        out[:, :y0] = fill
        out[:, y0 + h:] = fill
        out[:, y0:y0 + h, :x0] = fill
        out[:, y0:y0 + h, x0 + w:] = fill
        out[:, y0:y0 + h, x0:x0 + w] = x[:, :h, :w]
        return out

    def tap(self, padded: np.ndarray, fy: int, fx: int) -> np.ndarray:
        """The (N, out_h, out_w, C) view of a padded input that tap (fy, fx) reads."""
        y0, x0 = fy * self.dil_h, fx * self.dil_w
        return padded[:, y0:y0 + (self.out_h - 1) * self.stride_h + 1:self.stride_h,
                      x0:x0 + (self.out_w - 1) * self.stride_w + 1:self.stride_w]

    def inside(self, fy: int, fx: int) -> tuple[slice, slice]:
        """The output rows and columns where tap (fy, fx) reads inside the image."""

        def span(n_out, stride, pad, offset, size):
            first = max(0, -((offset - pad) // stride))
            last = min(n_out, (size - 1 + pad - offset) // stride + 1)
            return slice(first, max(first, last))

        return (span(self.out_h, self.stride_h, self.pad_top, fy * self.dil_h, self.in_h),
                span(self.out_w, self.stride_w, self.pad_left, fx * self.dil_w, self.in_w))


def _float_clamp(x: np.ndarray, activation: int) -> np.ndarray:
    """``ActivationFunctionWithMinMax``: ``min(max(x, lo), hi)`` with std::max/min semantics."""
    lo, hi = (np.float32(v) for v in activation_range_float(activation))
    x = np.where(x < lo, lo, x)
    return np.where(hi < x, hi, x)


def _per_channel(values: np.ndarray, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(values), (n,)) if np.size(values) == 1 else np.asarray(values)


@dataclass
class ConvIntParams:
    """Integer convolution parameters (TFLM ``OpDataConv``, as ``ConvPrepare`` /
    ``DepthwiseConvPrepare`` compute them).

    ``requant``: the output stage: per-channel (or one) Q31 multipliers and shifts of
    ``s_in * s_w[c] / s_out``, the bias (int64 values of the int32 / int64 bias, 0 without one),
    the output zero point and the fused-activation clamp in the output's integer domain.
    ``zero_point``: the input zero point (``-input_offset``; 0 for 16x8). ``out_dtype``: the
    output type. ``dtype``: the runtime's exact accumulation dtype (float32 / float64 BLAS)."""

    requant: Requantizer
    dtype: np.dtype
    zero_point: int
    out_dtype: np.dtype


def _int_params(ctx: OpContext, weights: np.ndarray, out_channels: int, quant_axis: int,
                int16_int32_bias: bool) -> ConvIntParams:
    """Shared integer set-up. ``weights`` is (out_channels, taps): the products each output channel
    sums. Raises for the type combinations TFLM refuses."""
    x, w, out = ctx.input(0), ctx.input(1), ctx.output()
    bias = ctx.input(2)
    if w.data is None or (bias is not None and bias.data is None):
        raise ctx.unsupported("non-constant filter or bias")
    if w.type_name != "INT8":
        raise ctx.unsupported(f"{w.type_name} filters are not supported")
    if w.quant is None or not w.quant.is_quantized or x.quant is None or out.quant is None:
        raise ctx.unsupported("quantized convolution needs quantized input, filter and output")
    scales = w.quant.scale
    if scales.size not in (1, out_channels) or (scales.size > 1 and w.quant.axis != quant_axis):
        raise ctx.unsupported("filter scales must be per tensor or per output channel")
    int16 = x.dtype == np.int16
    if int16:
        allowed = (np.int32, np.int64) if ctx.op.opcode == "CONV_2D" else (np.int64,)
    else:
        allowed = (np.int32,)
    if bias is not None and bias.dtype not in allowed:
        raise ctx.unsupported(f"{bias.dtype} bias with {x.dtype} input")
    effective = [float(np.float32(x.scale)) * float(s) / float(np.float32(out.scale))
                 for s in _per_channel(scales, out_channels)]
    multiplier, shift = fp.quantize_multiplier_array(np.array(effective))
    lo, hi = activation_range_quantized(int(ctx.options.get("fused_activation_function", 0)), out)
    if int16:
        zero_point, out_zero_point = 0, 0  # TFLM's 16x8 kernels use no offsets
        x_lo, x_hi = -32768, 32767
        int64_multiply = not int16_int32_bias
    else:
        zero_point, out_zero_point = x.zero_point, out.zero_point
        x_lo, x_hi = -128 - zero_point, 127 - zero_point
        int64_multiply = False
    wk = weights.astype(np.int64)
    acc_min = np.minimum(wk * x_lo, wk * x_hi).sum(axis=1)
    acc_max = np.maximum(wk * x_lo, wk * x_hi).sum(axis=1)
    bound = int(np.max(np.abs(wk).sum(axis=1) * max(-x_lo, x_hi), initial=0))
    if bound < _F32_EXACT:
        dtype = np.dtype(np.float32)
    elif bound < _F64_EXACT:
        dtype = np.dtype(np.float64)
    else:
        raise ctx.unsupported("accumulators too wide for exact float evaluation")
    bias_values = np.zeros(out_channels, np.int64) if bias is None else bias.data.astype(np.int64)
    requant = Requantizer(multiplier, shift, bias_values.reshape(-1), out_zero_point, lo, hi,
                          acc_min, acc_max, out.dtype, dtype, int64_multiply=int64_multiply)
    return ConvIntParams(requant, dtype, zero_point, out.dtype)


def _check_types(ctx: OpContext) -> str:
    """'float', 'int8' or 'int16' for the combinations TFLM runs; refuses the others."""
    x, w, out = ctx.input(0), ctx.input(1), ctx.output()
    if len(x.shape) != 4 or len(w.shape) != 4 or len(out.shape) != 4:
        raise ctx.unsupported("input, filter and output must be 4-D")
    if x.dtype != out.dtype:
        raise ctx.unsupported("input and output types differ")
    if x.dtype == np.float32 and w.dtype == np.float32:
        bias = ctx.input(2)
        if bias is not None and bias.dtype != np.float32:
            raise ctx.unsupported("float convolution needs a float32 bias")
        return "float"
    if x.dtype == np.int8 and w.dtype == np.int8:
        return "int8"
    if x.dtype == np.int16 and w.dtype == np.int8:
        return "int16"
    raise ctx.unsupported(f"{x.dtype} input with {w.dtype} filter (hybrid models are not supported)")


def _blocks(n: int, per_sample: int):
    """Sample ranges of about ``_BLOCK`` values each (at least one sample)."""
    step = max(1, _BLOCK // max(per_sample, 1))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


@dataclass
class ConvParams:
    """CONV_2D parameters (and DEPTHWISE_CONV_2D's with a single input channel, a plain
    convolution).

    ``geometry``: where each tap reads (strides, dilations, TFLM's padding). ``kind``: the variant,
    "float", "int8" or "int16" (16x8). ``ints``: the integer parameters (``None`` for float);
    ``bias``: float32 bias (float only, ``None`` without one); ``activation``: the fused
    activation (schema value). ``groups`` / ``out_channels``: filter groups and output channels.
    ``weights`` and ``strips`` are the runtime's matmul layouts (int: (groups, taps * in_per_group,
    out_per_group) in ``ints.dtype``; float: the OHWI filter); C emitters read the filter tensor."""

    geometry: Geometry
    kind: str
    groups: int
    weights: np.ndarray  # int: (groups, taps * in_per_group, out_per_group); float: OHWI filter
    bias: np.ndarray | None
    ints: ConvIntParams | None
    activation: int
    out_channels: int
    strips: Strips | None = None  # single input channel: banded matrix products
    native: Any = None  # runtime-only: the compiled kernel's plan, False when it does not apply
    filter: np.ndarray | None = None  # runtime-only: the int8 OHWI filter, for the compiled kernel


def _conv_plan(ctx: OpContext, filter_ohwi: np.ndarray) -> ConvParams:
    kind = _check_types(ctx)
    x, out = ctx.input(0), ctx.output()
    c_out, k_h, k_w, c_in_group = filter_ohwi.shape
    if c_in_group == 0 or x.shape[3] % c_in_group or c_out % (x.shape[3] // c_in_group):
        raise ctx.unsupported("input channels are not a multiple of the filter depth")
    if out.shape[3] != c_out or out.shape[0] != x.shape[0]:
        raise ctx.unsupported("output shape does not match the filter")
    groups = x.shape[3] // c_in_group
    geometry = Geometry.of(ctx.options, x.shape, k_h, k_w, out.shape)
    activation = int(ctx.options.get("fused_activation_function", 0))
    bias = ctx.input(2)
    if kind == "float":
        return ConvParams(geometry, kind, groups, filter_ohwi.astype(np.float32),
                         None if bias is None else bias.data.astype(np.float32), None,
                         activation, c_out)
    int32_bias = (bias is not None and bias.dtype == np.int32) or (
        bias is None and int(ctx.options.get("quantized_bias_type", 0)) == _SCHEMA_INT32)
    ints = _int_params(ctx, filter_ohwi.reshape(c_out, -1), c_out,
                       0 if ctx.op.opcode == "CONV_2D" else 3, int32_bias)
    per_group = c_out // groups
    mats = filter_ohwi.reshape(groups, per_group, k_h * k_w * c_in_group).transpose(0, 2, 1)
    strips = None
    if x.shape[3] == 1 and not geometry.pointwise:
        strips = Strips.of(geometry, filter_ohwi[..., 0], ints.dtype)
    return ConvParams(geometry, kind, groups, np.ascontiguousarray(mats, ints.dtype), None, ints,
                     activation, c_out, strips, filter=filter_ohwi if groups == 1 else None)


def _accumulate(plan: ConvParams, xf: np.ndarray) -> np.ndarray:
    """The (pixels, out_channels) accumulators of a block (in a per-thread workspace): im2col,
    one matmul per group."""
    g = plan.geometry
    m = xf.shape[0] * g.out_h * g.out_w
    if g.pointwise:
        cols = g.tap(xf, 0, 0)[:, :, :, None, :]
    else:
        padded = workspace("conv.padded", g.padded_shape(xf.shape), xf.dtype)
        g.pad(xf, out=padded)
        cols = workspace("conv.cols", (xf.shape[0], g.out_h, g.out_w, len(g.taps), xf.shape[3]),
                         xf.dtype)
        for t, (fy, fx) in enumerate(g.taps):
            cols[:, :, :, t] = g.tap(padded, fy, fx)
    acc = workspace("conv.acc", (m, plan.out_channels), plan.weights.dtype)
    if plan.groups == 1:
        return np.matmul(cols.reshape(m, -1), plan.weights[0], out=acc)
    depth = cols.shape[-1] // plan.groups
    per_group = plan.out_channels // plan.groups
    for k in range(plan.groups):
        part = cols[..., k * depth:(k + 1) * depth].reshape(m, -1)
        acc[:, k * per_group:(k + 1) * per_group] = part @ plan.weights[k]
    return acc


def _native_plan(plan, make):
    """The compiled kernel's plan (``native.py``; ``make(requant)`` builds it), made on the first
    evaluation; None when it does not apply (not int8, accumulators not bounded below 2**24, no
    compiler)."""
    if plan.native is None:
        ints = plan.ints
        ok = native.usable(ints.requant, ints.dtype, ints.out_dtype, ints.out_dtype)
        plan.native = make(ints.requant) if ok else False
    return plan.native or None


def _conv_int(plan: ConvParams, x: np.ndarray) -> np.ndarray:
    """x (N, H, W, C) integer -> (N, out_h, out_w, out_channels). Windows of several taps, and
    pointwise layers whose output stage is fixed point, run compiled when it applies (other
    pointwise layers stay BLAS matrix products and single input channels banded products: both
    faster than the compiled loop, measured per layer)."""
    g, ints = plan.geometry, plan.ints
    n = x.shape[0]
    if (x.dtype == np.int8 and plan.filter is not None and plan.strips is None
            and (not g.pointwise or ints.requant.dtype is None)):
        compiled = _native_plan(plan, lambda r: native.ConvPlan.of(plan.filter, g, r))
        if compiled is not None:
            return native.conv(x, compiled, ints.zero_point, ints.requant)
    out = np.empty((n, g.out_h, g.out_w, plan.out_channels), ints.out_dtype)
    if plan.strips is not None:
        step = plan.strips.block(n)
        for first in range(0, n, step):
            acc = plan.strips.accumulate(x[first:first + step, :, :, 0], ints.zero_point)
            acc = acc.reshape(-1, acc.shape[-1])[:, :g.out_w * plan.out_channels]
            ints.requant(acc, scratch=True, out=out[first:first + step].reshape(acc.shape))
        return out
    per_sample = max(g.out_h * g.out_w * plan.out_channels, g.in_h * g.in_w * x.shape[3],
                     0 if g.pointwise else g.out_h * g.out_w * len(g.taps) * x.shape[3])
    for rows in _blocks(n, per_sample):
        block = x[rows]
        xf = workspace("conv.x", block.shape, ints.dtype)
        np.subtract(block, ints.zero_point, out=xf, dtype=ints.dtype)
        acc = _accumulate(plan, xf).reshape(xf.shape[0] * g.out_h, -1)
        ints.requant(acc, scratch=True, out=out[rows].reshape(acc.shape))
    return out


def _conv_float(plan: ConvParams, x: np.ndarray) -> np.ndarray:
    """TFLM's float loop: per output, total += x * w over (filter_y, filter_x, in_channel) in that
    order, skipping taps outside the image; then ``total + bias`` and the clamp."""
    g = plan.geometry
    n = x.shape[0]
    w = plan.weights
    depth = w.shape[3]
    per_group = plan.out_channels // plan.groups
    padded = g.pad(x)
    total = np.zeros((n, g.out_h, g.out_w, plan.out_channels), np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        for fy, fx in g.taps:
            ys, xs = g.inside(fy, fx)
            view = g.tap(padded, fy, fx)[:, ys, xs]
            for k in range(plan.groups):
                channels = slice(k * per_group, (k + 1) * per_group)
                region = total[:, ys, xs, channels]
                for ic in range(depth):
                    region += view[..., k * depth + ic, None] * w[channels, fy, fx, ic]
    bias = np.zeros(plan.out_channels, np.float32) if plan.bias is None else plan.bias
    with np.errstate(over="ignore", invalid="ignore"):
        return _float_clamp(total + bias, plan.activation)


def _conv_float_blas(plan: ConvParams, x: np.ndarray) -> np.ndarray:
    """Float convolution as im2col and one matmul per group (BLAS summation order: not bit-exact
    with TFLM; for ``OpContext.exact_float`` False, i.e. calibration statistics)."""
    g = plan.geometry
    n, w = x.shape[0], plan.weights
    depth = w.shape[3]
    per_group = plan.out_channels // plan.groups
    out = np.empty((n, g.out_h, g.out_w, plan.out_channels), np.float32)
    for rows in _blocks(n, g.out_h * g.out_w * len(g.taps) * x.shape[3]):
        padded = g.pad(x[rows])
        cols = np.stack([g.tap(padded, fy, fx) for fy, fx in g.taps], axis=3)
        m = cols.shape[0] * g.out_h * g.out_w
        acc = out[rows].reshape(m, plan.out_channels)
        for k in range(plan.groups):
            part = cols[..., k * depth:(k + 1) * depth].reshape(m, -1)
            channels = slice(k * per_group, (k + 1) * per_group)
            acc[:, channels] = part @ w[channels].reshape(per_group, -1).T  # writes into out
    if plan.bias is not None:
        out += plan.bias
    with np.errstate(over="ignore", invalid="ignore"):
        return _float_clamp(out, plan.activation)


def _run_4d(fn, plan, x: np.ndarray) -> np.ndarray:
    """Fold the runtime batch into the model's batch dimension and back."""
    batch = x.shape[0]
    y = fn(plan, x.reshape((-1,) + x.shape[2:]))
    return y.reshape((batch, -1) + y.shape[1:])


@register("CONV_2D")
class Conv2D(Kernel):
    """CONV_2D: int8 x int8 (per-tensor or per-channel filter scales, int32 bias), 16x8 (int16
    input/output, int8 filter, int64 bias with 64-bit ``MultiplyByQuantizedMultiplier``, or int32
    bias / ``quantized_bias_type`` INT32 with int32 accumulators) and float32. Grouped filters (depth
    dividing the input channels) as TFLM. The filter zero point is ignored, as TFLM's per-channel
    kernel does; 16x8 uses no input/output offsets. Float32 is bit-exact: one sequential float32
    sum per output in TFLM's (filter_y, filter_x, in_channel) order.

    Integer path: im2col (pointwise layers use the input directly) and one matmul per group; a
    single input channel runs as banded matrix products over strips of output columns
    (``conv_strips.py``). Temporaries live in per-thread workspaces, in blocks of ``_BLOCK``
    outputs.
    Tests: SAME/VALID, strides 1/2, dilation 2, groups, with/without bias, every fused activation,
    per-tensor/per-channel, int8/16x8/float32, single input channel (strip views and copied
    windows, partial last strip), and every CONV_2D of person_detect.
    """

    def prepare(self, ctx: OpContext) -> ConvParams:
        return _conv_plan(ctx, ctx.input(1).data)

    def eval(self, params, inputs, ctx):
        fn = _conv_int
        if params.kind == "float":
            fn = _conv_float if ctx.exact_float else _conv_float_blas
        return [_run_4d(fn, params, inputs[0])]


class _FlatLayout:
    """The depthwise input of a block of samples, laid out so that every filter tap reads one
    contiguous run of memory: the input is split into ``stride_h * stride_w`` phase images (rows and
    columns modulo the strides); each phase stores every sample as ``period_h`` rows of
    ``period_w`` pixels whose tail rows and columns hold ``x - zero_point = 0`` and serve as the
    padding of both neighbours. Outputs are computed on the same grid, the separator positions
    being discarded, so a tap is one product over the whole block at a fixed offset into one phase.

    The taps reading one phase sit on a regular grid of offsets (``groups``), so one
    ``np.einsum`` sums all of them in a single pass over the block."""

    def __init__(self, g: Geometry, channels: int) -> None:
        rows = self._axis(g.stride_h, g.dil_h, g.pad_top, g.in_h, g.out_h, g.k_h)
        cols = self._axis(g.stride_w, g.dil_w, g.pad_left, g.in_w, g.out_w, g.k_w)
        (self.row_phase, self.row_shift, self.rows, self.period_h, self.lead) = rows
        (self.col_phase, self.col_shift, self.cols, self.period_w, _) = cols
        self.g, self.channels = g, channels
        self.sample = self.period_h * self.period_w * channels  # flat size of one sample
        self.length = (self.lead + max(self.row_shift) + 2) * self.period_w * channels
        self.groups = []  # (phase, first offset, (n_y, n_x), (step_y, step_x), tap indices)
        for py in range(g.stride_h):
            for px in range(g.stride_w):
                fys = [f for f in range(g.k_h) if self.row_phase[f] == py]
                fxs = [f for f in range(g.k_w) if self.col_phase[f] == px]
                if fys and fxs:
                    self.groups.append(self._group(py * g.stride_w + px, fys, fxs))

    def _group(self, phase: int, fys: list[int], fxs: list[int]):
        row = self.period_w * self.channels
        first = (self.lead + self.row_shift[fys[0]]) * row + self.col_shift[fxs[0]] * self.channels
        step_y = (self.row_shift[fys[1]] - self.row_shift[fys[0]]) * row if len(fys) > 1 else 0
        step_x = ((self.col_shift[fxs[1]] - self.col_shift[fxs[0]]) * self.channels
                  if len(fxs) > 1 else 0)
        taps = [fy * self.g.k_w + fx for fy in fys for fx in fxs]
        return phase, first, (len(fys), len(fxs)), (step_y, step_x), taps

    @staticmethod
    def _axis(stride, dilation, pad, size, out, k):
        """Per tap: phase and shift (in phase pixels); data extent per phase; period; leading
        zero rows (one more than the shifts reach, for column shifts wrapping to the row above)."""
        positions = [f * dilation - pad for f in range(k)]
        phase = [p % stride for p in positions]
        shift = [p // stride for p in positions]
        extent = [len(range(q, size, stride)) for q in range(stride)]
        data = max(max(extent), out)
        gap = max(-min(shift), out + max(shift) - data, 0)
        return phase, shift, extent, data + gap, max(-min(shift), 0) + 1

    def staging(self, n: int, zero_point: int, dtype: np.dtype) -> np.ndarray:
        """(phases, cells) input-dtype buffers for up to ``n`` samples (a per-thread workspace),
        every cell holding the zero point. Only data cells are ever written, so one buffer
        serves every block of an evaluation."""
        cells = self.length + n * self.sample
        staged = workspace("depthwise.staged", (self.g.stride_h * self.g.stride_w, cells), dtype)
        staged.fill(zero_point)
        return staged

    def fill(self, staged: np.ndarray, x: np.ndarray) -> None:
        """Copy x (n, H, W, C) into the data cells of each staged phase. Pixels move as single
        opaque elements (a void dtype of one pixel's bytes), so strided columns copy fast."""
        g, n = self.g, x.shape[0]
        pixel = np.dtype((np.void, self.channels * x.itemsize))
        src = np.ascontiguousarray(x).view(pixel)[..., 0]
        start = self.lead * self.period_w * self.channels
        for py in range(g.stride_h):
            for px in range(g.stride_w):
                grid = staged[py * g.stride_w + px, start:start + n * self.sample]
                cells = grid.view(pixel).reshape(n, self.period_h, self.period_w)
                cells[:, :self.rows[py], :self.cols[px]] = src[:, py::g.stride_h, px::g.stride_w]

    def outputs(self, flat: np.ndarray) -> np.ndarray:
        """The (n, out_h, out_w, C) outputs inside a flat (n, sample) result."""
        grid = flat.reshape(-1, self.period_h, self.period_w, self.channels)
        return grid[:, :self.g.out_h, :self.g.out_w]


@dataclass
class DepthwiseParams:
    """DEPTHWISE_CONV_2D parameters (more than one input channel).

    ``geometry``, ``kind``, ``ints``, ``bias``, ``activation`` as in :class:`ConvParams`;
    ``multiplier``: the depth multiplier. ``weights`` is (taps, channels) (float32 for float);
    ``layout`` and ``group_weights`` are the runtime's flat-layout evaluation plan."""

    geometry: Geometry
    kind: str
    multiplier: int
    weights: np.ndarray  # (taps, channels); integer plans: per tap group (n_y, n_x, sample)
    bias: np.ndarray | None
    ints: ConvIntParams | None
    activation: int
    layout: _FlatLayout | None
    group_weights: list[np.ndarray] | None = None
    native: Any = None  # runtime-only: the compiled kernel's plan, False when it does not apply




def _depthwise_int(plan: DepthwiseParams, x: np.ndarray) -> np.ndarray:
    """Compiled when it applies, else :func:`_depthwise_int_numpy`: the same values."""
    compiled = _native_plan(plan, lambda r: native.DepthwisePlan.of(plan.weights, plan.geometry, r)) \
        if x.dtype == np.int8 else None
    if compiled is None:
        return _depthwise_int_numpy(plan, x)
    if plan.multiplier > 1:
        x = np.repeat(x, plan.multiplier, axis=3)
    return native.depthwise(x, compiled, plan.ints.zero_point, plan.ints.requant)


def _depthwise_int_numpy(plan: DepthwiseParams, x: np.ndarray) -> np.ndarray:
    """Per block of samples: the input minus its zero point in the flat layout (one conversion
    pass), one ``einsum`` per tap group, the requantization, the output grid copied out."""
    g, ints, layout = plan.geometry, plan.ints, plan.layout
    n = x.shape[0]
    out = np.empty((n, g.out_h, g.out_w, layout.channels), ints.out_dtype)
    step = min(n, max(1, _BLOCK // layout.sample))
    staged = layout.staging(step, ints.zero_point, x.dtype)
    phases = workspace("depthwise.phases", staged.shape, ints.dtype)
    acc_block = workspace("depthwise.acc", (step, layout.sample), ints.dtype)
    tmp_block = workspace("depthwise.tmp", (step, layout.sample), ints.dtype)
    for first in range(0, n, step):
        block = x[first:first + step]
        if plan.multiplier > 1:
            block = np.repeat(block, plan.multiplier, axis=3)
        b = block.shape[0]
        layout.fill(staged, block)
        np.subtract(staged, ints.zero_point, out=phases, dtype=phases.dtype)
        acc, tmp = acc_block[:b], tmp_block[:b]
        for k, ((phase, offset, shape, steps, _), w) in enumerate(
                zip(layout.groups, plan.group_weights)):
            view = strided(phases, shape + (b, layout.sample), steps + (layout.sample, 1),
                           phase * phases.shape[1] + offset)
            weights = strided(w, shape + (b, layout.sample), (w.shape[1] * layout.sample,
                                                             layout.sample, 0, 1))
            np.einsum("ijbk,ijbk->bk", view, weights, out=acc if k == 0 else tmp)
            if k:
                acc += tmp
        levels = workspace("depthwise.levels", acc.shape, ints.out_dtype)
        out[first:first + b] = layout.outputs(ints.requant(acc, scratch=True, out=levels))
    return out


def _depthwise_float(plan: DepthwiseParams, x: np.ndarray) -> np.ndarray:
    """TFLM's float loop: total += x * w over (filter_y, filter_x), skipping taps outside the
    image; then ``total + bias`` and the clamp."""
    g = plan.geometry
    if plan.multiplier > 1:
        x = np.repeat(x, plan.multiplier, axis=3)
    padded = g.pad(x)
    channels = plan.weights.shape[1]
    total = np.zeros((x.shape[0], g.out_h, g.out_w, channels), np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        for t, (fy, fx) in enumerate(g.taps):
            ys, xs = g.inside(fy, fx)
            total[:, ys, xs] += g.tap(padded, fy, fx)[:, ys, xs] * plan.weights[t]
    bias = np.zeros(channels, np.float32) if plan.bias is None else plan.bias
    with np.errstate(over="ignore", invalid="ignore"):
        return _float_clamp(total + bias, plan.activation)


@register("DEPTHWISE_CONV_2D")
class DepthwiseConv2D(Kernel):
    """DEPTHWISE_CONV_2D: int8 x int8 (per-tensor or per-channel scales, int32 bias), 16x8 (int16
    input/output, int8 filter, int64 bias, 64-bit ``MultiplyByQuantizedMultiplier``, no offsets) and
    float32 (sequential float32 sum over (filter_y, filter_x), bit-exact). Output channel
    ``ic * depth_multiplier + m`` reads input channel ``ic``. A single input channel makes it a plain
    convolution, run as CONV_2D's banded matrix products; otherwise the integer kernel sums the
    taps of each phase of a :class:`_FlatLayout` with one ``einsum`` over blocks of samples.

    Tests: SAME/VALID, strides 1/2/3, dilation 2, depth multiplier 1/2/5/8, with/without bias,
    every fused activation, per-tensor/per-channel, int8/16x8/float32, every DEPTHWISE_CONV_2D of
    person_detect and micro_speech.
    """

    def prepare(self, ctx: OpContext) -> DepthwiseParams | ConvParams:
        kind = _check_types(ctx)
        x, w, out = ctx.input(0), ctx.input(1), ctx.output()
        multiplier = int(ctx.options.get("depth_multiplier", 0))
        channels = w.shape[3]
        if multiplier < 1:
            raise ctx.unsupported("depth_multiplier < 1 (TFLM would leave the output unwritten)")
        if w.shape[0] != 1 or x.shape[3] * multiplier != channels or out.shape[3] != channels:
            raise ctx.unsupported("filter depth must be input channels * depth_multiplier")
        if w.data is None:
            raise ctx.unsupported("non-constant filter")
        if x.shape[3] == 1 and kind != "float":
            return _conv_plan(ctx, np.ascontiguousarray(w.data.transpose(3, 1, 2, 0)))
        geometry = Geometry.of(ctx.options, x.shape, w.shape[1], w.shape[2], out.shape)
        activation = int(ctx.options.get("fused_activation_function", 0))
        taps = w.data.reshape(-1, channels)
        if kind == "float":
            bias = ctx.input(2)
            return DepthwiseParams(geometry, kind, multiplier, taps.astype(np.float32),
                                  None if bias is None else bias.data.astype(np.float32), None,
                                  activation, None)
        ints = _int_params(ctx, taps.T, channels, 3, False)
        layout = _FlatLayout(geometry, channels)
        check_workspace((taps.shape[0], layout.sample), np.dtype(ints.dtype).itemsize,
                        f"operator {ctx.index} (DEPTHWISE_CONV_2D): its tiled filter")
        tiled = np.tile(taps.astype(ints.dtype), (1, layout.sample // channels))
        group_weights = [tiled[taps_of].reshape(shape + (layout.sample,))
                         for _, _, shape, _, taps_of in layout.groups]
        return DepthwiseParams(geometry, kind, multiplier, taps, None, ints, activation, layout,
                              group_weights)

    def eval(self, params, inputs, ctx):
        if isinstance(params, ConvParams):
            return [_run_4d(_conv_int, params, inputs[0])]
        fn = _depthwise_float if params.kind == "float" else _depthwise_int
        return [_run_4d(fn, params, inputs[0])]

