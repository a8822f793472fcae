"""Small float graphs for the pass tests, and a helper running a graph on seeded inputs."""

from __future__ import annotations

import copy

import numpy as np

from microforge.api import Model
from microforge.ir import Graph
from microforge.ir.builder import GraphBuilder

F32 = np.float32


def run(graph: Graph, n: int = 32, seed: int = 0) -> list[np.ndarray]:
    model = Model(graph)
    rng = np.random.default_rng(seed)
    xs = [rng.normal(size=(n,) + tuple(i.shape)).astype(F32) for i in model.inputs]
    return model.run(xs if len(xs) > 1 else xs[0])


def opcodes(graph: Graph) -> list[str]:
    return [op.opcode for op in graph.main.operators]


def conv_bn(opcode: str = "CONV_2D", activation: str | None = None, bias: bool = True,
            sub: bool = False) -> Graph:
    """x -> conv/depthwise/FC (no activation) -> MUL(scale) -> ADD or SUB(shift) [-> activation
    fused into the ADD]."""
    rng = np.random.default_rng(1)
    b = GraphBuilder()
    if opcode == "FULLY_CONNECTED":
        x = b.input("x", (1, 6), F32)
        w = b.const("w", rng.normal(size=(4, 6)).astype(F32))
        y_shape, options = (1, 4), {}
    else:
        x = b.input("x", (1, 5, 5, 4), F32)
        shape = (4, 3, 3, 4) if opcode == "CONV_2D" else (1, 3, 3, 4)
        w = b.const("w", rng.normal(size=shape).astype(F32))
        y_shape = (1, 5, 5, 4)
        options = {"padding": 0, "stride_w": 1, "stride_h": 1, "dilation_w_factor": 1,
                   "dilation_h_factor": 1}
        if opcode == "DEPTHWISE_CONV_2D":
            options["depth_multiplier"] = 1
    inputs = [x, w, b.const("b", rng.normal(size=4).astype(F32)) if bias else -1]
    y = b.tensor("y", y_shape, F32)
    b.op(opcode, inputs, [y], fused_activation_function=0, **options)
    scale = b.const("gamma", rng.uniform(0.5, 2.0, size=4).astype(F32))
    z = b.tensor("z", y_shape, F32)
    b.op("MUL", [y, scale], [z], fused_activation_function=0)
    shift = b.const("beta", rng.normal(size=(1,) * (len(y_shape) - 1) + (4,)).astype(F32))
    out = b.tensor("out", y_shape, F32)
    act = {"RELU": 1, "RELU6": 3}.get(activation or "", 0)
    b.op("SUB" if sub else "ADD", [z, shift], [out], fused_activation_function=act)
    b.output(out)
    return b.build()


def copy_graph(graph: Graph) -> Graph:
    return copy.deepcopy(graph)


def branched_int8(width: int = 1024) -> Graph:
    """An int8 graph with two wide FULLY_CONNECTED branches written breadth-first (both wide
    tensors live at once in model order), joined by an ADD: the planner reorders it."""
    rng = np.random.default_rng(0)
    b = GraphBuilder()

    def fc(name, x, n_in, n_out):
        w = b.const(f"{name}/w", rng.integers(-127, 128, (n_out, n_in)), np.int8, scale=0.01, zero_point=0)
        bias = b.const(f"{name}/b", np.zeros(n_out), np.int32, scale=0.001, zero_point=0)
        y = b.tensor(name, (1, n_out), np.int8, scale=0.5, zero_point=0)
        b.op("FULLY_CONNECTED", [x, w, bias], [y], fused_activation_function=0)
        return y

    x = b.input("x", (1, 16), np.int8, 0.1, 0)
    wide_a, wide_b = fc("wide_a", x, 16, width), fc("wide_b", x, 16, width)
    y = b.tensor("y", (1, 8), np.int8, 1.0, 0)
    b.op("ADD", [fc("a", wide_a, width, 8), fc("c", wide_b, width, 8)], [y], fused_activation_function=0)
    b.output(y)
    return b.build()
