"""Single-operator graphs (and their inputs) shared by the numpy-runtime oracle tests and the C
backend tests: CAST, CONCATENATION, PAD/PADV2, reductions, STRIDED_SLICE, TRANSPOSE, CONV_2D /
DEPTHWISE_CONV_2D, elementwise quantization parameters, FULLY_CONNECTED, LSTM and SVDF."""

from __future__ import annotations

import numpy as np

from microforge.frontends.tflite.reader import read_tflite
from microforge.frontends.tflite.writer import write_tflite
from microforge.ir import Tensor
from microforge.ir.builder import GraphBuilder, extract_operator
from microforge.ir.quant import QuantParams
from microforge.runtime.kernels.common import compute_padding
from microforge.runtime.kernels.strided_slice import Masks, prepare_dim
from tests.builders.arrays import sample
from tests.oracle import MODELS

CAST_SHAPE = (3, 16)


CAST_FLOAT_SPECIALS = [
    0.0, -0.0, 0.5, -0.5, 0.999, -0.999, 1.5, -1.5, 127.9, 128.0, -128.9, -129.0, 255.5, 256.0,
    32767.5, 32768.0, -32769.0, 65536.0, 2.0**31 - 128, 2.0**31, -(2.0**31), -(2.0**31) - 256,
    2.0**32, 2.0**32 + 512, 4.5e9, -4.5e9, 2.0**63, -(2.0**63), 1e30, -1e30, np.inf, -np.inf,
    np.nan, -np.nan, 1e-45, -3.3e9, 3.3e9, 1e19, -1e19, 123456.7,
]


def cast_model(src, dst):
    b = GraphBuilder()
    x = b.input("x", CAST_SHAPE, src)
    y = b.tensor("y", CAST_SHAPE, dst)
    b.op("CAST", [x], [y], in_data_type=0, out_data_type=0)
    b.output(y)
    return b


def cast_inputs(src, seed):
    if src == np.bool_:
        return np.random.default_rng(seed).integers(0, 2, (200,) + CAST_SHAPE).astype(np.bool_)
    if src != np.float32:
        return sample(CAST_SHAPE, src, seed)
    x = sample(CAST_SHAPE, np.float32, seed, scale=3e5)
    x[1:4].reshape(-1)[: len(CAST_FLOAT_SPECIALS)] = np.array(CAST_FLOAT_SPECIALS, np.float32)
    x[4:100] *= np.float32(1e5)  # beyond int32 for some
    return x


def concat_quant(dtype):
    return {np.int8: (0.05, -3), np.int16: (0.001, 0)}.get(dtype, (None, None))


def concat_model(shapes, axis, dtype, consts=(), quants=None):
    """CONCATENATION of inputs with ``shapes``; the indices in ``consts`` are constant tensors."""
    b = GraphBuilder()
    rank = len(shapes[0])
    pos = axis + rank if axis < 0 else axis
    out_shape = list(shapes[0])
    out_shape[pos] = sum(s[pos] for s in shapes)
    quants = quants or [concat_quant(dtype)] * (len(shapes) + 1)
    rng = np.random.default_rng(len(shapes))
    ids, feeds = [], []
    for k, s in enumerate(shapes):
        if k in consts:
            data = sample(s, dtype, 50 + k, n=1)[0]
            ids.append(b.const(f"c{k}", data, dtype, *quants[k]))
        else:
            ids.append(b.input(f"x{k}", s, dtype, *quants[k]))
            feeds.append(sample(s, dtype, int(rng.integers(1000))))
    y = b.tensor("y", tuple(out_shape), dtype, *quants[-1])
    b.op("CONCATENATION", ids, [y], axis=axis, fused_activation_function=0)
    b.output(y)
    return b, feeds


PAD_CASES = [
    # (input shape, paddings)
    ((5,), [[2, 3]]),
    ((3, 4), [[1, 0], [0, 2]]),
    ((1, 4, 5, 3), [[0, 0], [1, 2], [2, 1], [0, 0]]),  # image style
    ((2, 3, 4, 2), [[1, 1], [0, 0], [1, 0], [2, 1]]),
    ((1, 2, 3, 2, 2), [[0, 1], [1, 0], [0, 0], [2, 2], [1, 0]]),
    ((2, 3), [[0, 0], [0, 0]]),
]


def pad_quant(dtype):
    return {np.int8: (0.1, -5), np.int16: (0.01, 0)}.get(dtype, (None, None))


def pad_model(op, dtype, shape, pads, value=None):
    pads = np.array(pads, np.int32)
    out_shape = tuple(int(s + a + b) for s, (a, b) in zip(shape, pads))
    b = GraphBuilder()
    x = b.input("x", shape, dtype, *pad_quant(dtype))
    p = b.const("p", pads)
    inputs = [x, p]
    if value is not None:
        scale, zero_point = pad_quant(dtype)
        inputs.append(b.const("v", np.array([value], dtype), scale=scale, zero_point=zero_point))
    y = b.tensor("y", out_shape, dtype, *pad_quant(dtype))
    b.op(op, inputs, [y])
    b.output(y)
    return b


REDUCE_SHAPE = (2, 5, 4, 3)


REDUCE_AXES = [(1, 2), (2, 1), (0,), (3,), (-1,), (-3, -2), (0, 1, 2, 3), (1, 3), (2, -2)]


def reduce_out_shape(shape, axes, keep_dims):
    rank = len(shape)
    red = {a + rank if a < 0 else a for a in axes}
    if keep_dims:
        return tuple(1 if k in red else d for k, d in enumerate(shape))
    return tuple(d for k, d in enumerate(shape) if k not in red)


def reduce_model(op, shape, axes, keep_dims, dtype, qin=(None, None), qout=(None, None), const=True):
    b = GraphBuilder()
    x = b.input("x", shape, dtype, *qin)
    a = np.array(axes, np.int32)
    aid = b.const("axis", a) if const else b.input("axis", a.shape, np.int32)
    y = b.tensor("y", reduce_out_shape(shape, axes, keep_dims), dtype, *qout)
    b.op(op, [x, aid], [y], keep_dims=keep_dims)
    b.output(y)
    return b


def reduce_quant(dtype, same, seed):
    if dtype == np.float32:
        return (None, None), (None, None)
    rng = np.random.default_rng(seed)
    scale = (0.05 if dtype == np.int8 else 0.0005) * 10 ** rng.uniform(-1, 1)
    zp = int(rng.integers(-30, 30)) if dtype == np.int8 else 0
    qin = (float(np.float32(scale)), zp)
    if same:
        return qin, qin
    zp_out = int(rng.integers(-30, 30)) if dtype == np.int8 else 0
    return qin, (float(np.float32(scale * 10 ** rng.uniform(-1, 1))), zp_out)


def slice_model(shape, begin, end, strides, dtype=np.int8, out_shape=None, const=True, **masks):
    m = Masks(masks.get("begin_mask", 0), masks.get("end_mask", 0),
              masks.get("shrink_axis_mask", 0))
    if out_shape is None:
        out_shape = tuple(
            prepare_dim(shape[k], begin[k], end[k], strides[k], m, k)
            for k in range(len(shape)) if not m.shrink >> k & 1
        )
    q = (0.1, 2) if dtype in (np.int8, np.int16) else (None, None)
    b = GraphBuilder()
    x = b.input("x", shape, dtype, *q)
    vecs = [np.array(v, np.int32) for v in (begin, end, strides)]
    if const:
        ids = [b.const(n, v) for n, v in zip(("begin", "end", "strides"), vecs)]
    else:
        ids = [b.input(n, v.shape, np.int32) for n, v in zip(("begin", "end", "strides"), vecs)]
    y = b.tensor("y", out_shape, dtype, *q)
    options = {"begin_mask": 0, "end_mask": 0, "ellipsis_mask": 0, "new_axis_mask": 0,
               "shrink_axis_mask": 0, "offset": False}
    options.update(masks)
    b.op("STRIDED_SLICE", [x] + ids, [y], **options)
    b.output(y)
    return b


def transpose_model(shape, perm, dtype, const=True, out_shape=None):
    q = (0.1, -4) if dtype in (np.int8, np.int16) else (None, None)
    b = GraphBuilder()
    x = b.input("x", shape, dtype, *q)
    p = np.array(perm, np.int32)
    pid = b.const("perm", p) if const else b.input("perm", p.shape, np.int32)
    out_shape = out_shape or tuple(shape[i] for i in perm)
    y = b.tensor("y", out_shape, dtype, *q)
    b.op("TRANSPOSE", [x, pid], [y])
    b.output(y)
    return b


SAME, VALID = 0, 1


def spread_scale(x_scale, w_scales, weights, depth, dtype) -> float:
    """An output scale that spreads typical accumulators over the whole output range."""
    x_std = 74.0 if dtype == np.int8 else 19000.0
    acc_std = x_std * float(np.abs(weights).mean()) * np.sqrt(depth)
    levels = 40.0 if dtype == np.int8 else 9000.0
    return float(np.float32(x_scale * float(np.mean(w_scales)) * acc_std / levels))


def conv_model(op, dtype, in_shape, weights, options, *, per_channel=True, bias="int",
           x_zp=None, out_zp=None, seed=0, quantized_bias_type=None):
    """A one-operator model. ``weights`` is OHWI (CONV_2D) or 1HWO (DEPTHWISE_CONV_2D)."""
    rng = np.random.default_rng(seed)
    depthwise = op == "DEPTHWISE_CONV_2D"
    c_out = weights.shape[3] if depthwise else weights.shape[0]
    k_h, k_w = weights.shape[1], weights.shape[2]
    dil_h, dil_w = options.get("dilation_h_factor", 1), options.get("dilation_w_factor", 1)
    out_h, _ = compute_padding(options["padding"], in_shape[1], k_h, options["stride_h"], dil_h)
    out_w, _ = compute_padding(options["padding"], in_shape[2], k_w, options["stride_w"], dil_w)
    out_shape = (in_shape[0], out_h, out_w, c_out)
    b = GraphBuilder()
    axis = 3 if depthwise else 0
    if dtype == np.float32:
        x = b.input("x", in_shape, np.float32)
        w = b.const("w", weights.astype(np.float32))
        inputs = [x, w]
        if bias is not None:
            inputs.append(b.const("b", rng.uniform(-0.5, 0.5, c_out).astype(np.float32)))
        y = b.tensor("y", out_shape, np.float32)
    else:
        x_scale = 0.05 if dtype == np.int8 else 0.0004
        if x_zp is None:
            x_zp = int(rng.integers(-20, 20)) if dtype == np.int8 else 0
        w_scales = rng.uniform(0.002, 0.02, c_out if per_channel else 1).astype(np.float32)
        x = b.input("x", in_shape, dtype, x_scale, x_zp)
        w = b.const("w", weights.astype(np.int8), scale=w_scales, zero_point=0, axis=axis)
        inputs = [x, w]
        if bias is not None:
            acc_scale = x_scale * np.broadcast_to(w_scales, (c_out,))
            bias_dtype = {"int": np.int32 if dtype == np.int8 else np.int64}.get(bias, bias)
            values = rng.integers(-3000, 3000, c_out) * (1 if dtype == np.int8 else 40)
            inputs.append(b.const("b", values.astype(bias_dtype), scale=acc_scale, zero_point=0))
        if out_zp is None:
            out_zp = int(rng.integers(-30, 30)) if dtype == np.int8 else 0
        y = b.tensor("y", out_shape, dtype, spread_scale(x_scale, w_scales, weights,
                                                   k_h * k_w * (1 if depthwise else in_shape[3]),
                                                   dtype),
                     out_zp)
    opts = dict(options)
    opts.setdefault("fused_activation_function", 0)
    opts.setdefault("dilation_h_factor", 1)
    opts.setdefault("dilation_w_factor", 1)
    if quantized_bias_type is not None:
        opts["quantized_bias_type"] = quantized_bias_type
    if depthwise:
        opts["depth_multiplier"] = c_out // in_shape[3]
    b.op(op, inputs, [y], **opts)
    b.output(y)
    return b


def conv_weights(op, k, c_in, c_out, seed, depth_multiplier=1):
    rng = np.random.default_rng(seed)
    if op == "DEPTHWISE_CONV_2D":
        return rng.integers(-127, 128, (1, k[0], k[1], c_in * depth_multiplier))
    return rng.integers(-127, 128, (c_out, k[0], k[1], c_in))


# mismatch in both directions, 5-D.
ELEMENTWISE_SHAPES = [
    ((2, 3, 4), (2, 3, 4)),
    ((2, 3, 4), (3, 1)),
    ((1, 3, 1), (2, 1, 4)),
    ((4,), (2, 3, 4)),
    ((2, 5), ()),
    ((1, 2, 1, 3, 2), (2, 1, 3, 1)),
]


ELEMENTWISE_QUANT_OPS = ["ADD", "SUB", "MUL", "SQUARED_DIFFERENCE", "MAXIMUM", "MINIMUM"]


ELEMENTWISE_FUSED = {"ADD", "SUB", "MUL", "DIV"}


def elementwise_params(dtype, rng, op):
    """Random (scale, zero point) for the two inputs and the output. int16 zero points are 0
    except for ADD/SUB, whose general rescaling path TFLM also runs with other zero points."""
    if dtype not in (np.int8, np.int16):
        return [(None, None)] * 3
    out = []
    for _ in range(3):
        scale = float(np.float32(10 ** rng.uniform(-3, -1) * (1 if dtype == np.int8 else 0.01)))
        if dtype == np.int8:
            zp = int(rng.integers(-20, 20))
        else:
            zp = int(rng.integers(-300, 300)) if op in ("ADD", "SUB") else 0
        out.append((scale, zp))
    if op in ("MAXIMUM", "MINIMUM"):
        out = [out[0]] * 3
    return out


def fc_model(in_shape, out_shape, k, n, dtype, *, w_dtype=np.int8, per_channel=False, bias="int32",
             act=0, keep_num_dims=False, seed=0, w_zero_point=0, int4=False, bias_type=0,
             bias_scale_ratio=1.0, big_bias=False) -> bytes:
    rng = np.random.default_rng(seed)
    b = GraphBuilder()
    if dtype == np.float32:
        x = b.input("x", in_shape, np.float32)
        w = b.const("w", rng.normal(0, 0.5, (n, k)).astype(np.float32))
        bias_t = b.const("b", rng.normal(0, 1, n).astype(np.float32)) if bias else -1
        y = b.tensor("y", out_shape, np.float32)
    else:
        in_scale = float(rng.uniform(0.005, 0.05))
        in_zp = int(rng.integers(-20, 20)) if dtype == np.int8 else 0
        x = b.input("x", in_shape, dtype, in_scale, in_zp)
        lim = 7 if int4 else 127
        wq = rng.integers(-lim, lim, (n, k), endpoint=True).astype(np.int8)
        w_scale = rng.uniform(0.002, 0.02, n if per_channel else 1).astype(np.float32)
        if int4:
            flat = wq.reshape(-1).astype(np.int16) & 0x0F
            flat = np.concatenate([flat, np.zeros(flat.size % 2, np.int16)])
            packed = (flat[0::2] | (flat[1::2] << 4)).astype(np.uint8)
            quant = QuantParams(scale=w_scale, zero_point=np.zeros(1, np.int64))
            b.tensors.append(Tensor("w", (n, k), np.uint8, quant, packed, type_name="INT4"))
            w = len(b.tensors) - 1
        else:
            w = b.const("w", wq, scale=w_scale, zero_point=w_zero_point, axis=0)
        acc_scale = in_scale * float(w_scale.mean())
        spread = 74.0 * (74.0 if dtype == np.int8 else 18900.0) * np.sqrt(k)
        if bias:
            bdt = np.int64 if bias == "int64" else np.int32
            lim_b = 2**31 - 1 if big_bias else int(spread)
            bv = rng.integers(-lim_b, lim_b, n).astype(bdt)
            if big_bias:
                bv[: n // 2] = 2**31 - 1 - rng.integers(0, 1000, n // 2)
            bias_scale = (in_scale * w_scale * bias_scale_ratio).astype(np.float32)
            bias_t = b.const("b", bv, scale=bias_scale, zero_point=0)
        else:
            bias_t = -1
        out_scale = acc_scale * spread / (60.0 if dtype == np.int8 else 12000.0)
        out_zp = int(rng.integers(-10, 10)) if dtype == np.int8 else 0
        y = b.tensor("y", out_shape, dtype, out_scale, out_zp)
    b.op("FULLY_CONNECTED", [x, w, bias_t], [y], fused_activation_function=act,
         keep_num_dims=keep_num_dims, quantized_bias_type=bias_type)
    b.output(y)
    return write_tflite(b.build())


LSTM_REAL_OPS = [
    ("trained_lstm_int8.tflite", 0),
    ("trained_lstm.tflite", 0),
    ("dtln_noise_suppression.tflite", 0),  # cell scale 2**-11
    ("dtln_noise_suppression.tflite", 1),  # hidden zero point -4
]


def lstm_model(name: str, index: int, *, batch: int | None = None, steps: int | None = None,
               time_major: bool = False, **options) -> bytes:
    """The LSTM op ``index`` of a shared model as a one-op model, optionally with another model
    batch / sequence length / layout and other options (cell_clip, ...)."""
    graph = extract_operator(read_tflite(MODELS / name), index)
    sg = graph.main
    op = sg.operators[0]
    x, out = sg.tensors[op.inputs[0]], sg.tensors[op.outputs[0]]
    nb, t, n_in = x.shape
    nb, t = batch or nb, steps or t
    units = out.shape[2]
    x.shape, out.shape = ((t, nb, n_in), (t, nb, units)) if time_major else ((nb, t, n_in),
                                                                             (nb, t, units))
    for i in (18, 19):
        sg.tensors[op.inputs[i]].shape = (nb, units)
    for tensor in (x, out, sg.tensors[op.inputs[18]], sg.tensors[op.inputs[19]]):
        tensor.shape_signature = None
    op.options = {**op.options, "time_major": time_major, **options}
    return write_tflite(graph)


def svdf_ops(name: str) -> list[tuple[str, int]]:
    graph = read_tflite(MODELS / name)
    return [(name, i) for i, op in enumerate(graph.main.operators) if op.opcode == "SVDF"]


SVDF_REAL_OPS = svdf_ops("keyword_scrambled.tflite") + svdf_ops("keyword_scrambled_8bit.tflite")


def int_svdf_model(state_dtype, seed, *, batch=2, inputs=12, filters=8, memory=4, rank=2,
              scale_in=0.5, scale_wf=0.05, scale_state=0.1, state_zp=100, scale_wt=0.02):
    rng = np.random.default_rng(seed)
    info = np.iinfo(state_dtype)
    b = GraphBuilder()
    x = b.input("x", (batch, inputs), np.int8, scale_in, 3)
    wf = b.const("wf", rng.integers(-127, 128, (filters, inputs)), np.int8, scale_wf, 0)
    wt = b.const("wt", rng.integers(info.min + 1, info.max + 1, (filters, memory)), state_dtype,
                 scale_wt, 0)
    units = filters // rank
    bias = b.const("bias", rng.integers(-5000, 5000, units), np.int32,
                   float(np.float32(scale_state) * np.float32(scale_wt)), 0)
    state = b.tensor("state", (batch, filters * memory), state_dtype, scale_state, state_zp,
                     variable=True)
    y = b.tensor("y", (batch, units), np.int8, 0.05, -5)
    b.op("SVDF", [x, wf, wt, bias, state], [y], rank=rank, fused_activation_function=1,
         asymmetric_quantize_inputs=False)
    b.output(y)
    return write_tflite(b.build())


def float_svdf_model(activation, seed, rank=2):
    rng = np.random.default_rng(seed)
    batch, inputs, filters, memory = 2, 10, 6, 5
    b = GraphBuilder()
    x = b.input("x", (batch, inputs), np.float32)
    wf = b.const("wf", rng.normal(0, 0.5, (filters, inputs)), np.float32)
    wt = b.const("wt", rng.normal(0, 0.5, (filters, memory)), np.float32)
    bias = b.const("bias", rng.normal(0, 0.5, filters // rank), np.float32)
    state = b.tensor("state", (batch, filters * memory), np.float32, variable=True)
    y = b.tensor("y", (batch, filters // rank), np.float32)
    b.op("SVDF", [x, wf, wt, bias, state], [y], rank=rank,
         fused_activation_function=activation, asymmetric_quantize_inputs=False)
    b.output(y)
    return write_tflite(b.build())
