"""Writes a hostile-input corpus for burnish into a folder (default: a fresh temp dir).

Three families, all deterministic (fixed seeds):

* ``mutants/``: byte mutants of the committed fixture models and NPZ files (truncations, bit
  flips in the structural prefix, byte runs overwritten, chunks duplicated or deleted);
* ``graphs/``: hand-built hostile ONNX graphs (bad attributes, arity, element types, opsets,
  huge shapes from attributes or data, integer division by zero, ...), never checked;
* ``data/``: hostile NPY/NPZ files (headers numpy rejects, lying sizes, zip bombs, data that
  does not fit the model, NaN/Inf calibration data).

``cases.json`` lists every case for ``run_hostile.py``:
``{"name", "kind": "model"|"data", "model", "data"?, "calibration"?, "expect", "note"}``;
``expect`` is ``"error"`` where ONNX/numpy reject the input (every command must give exit 2),
``"run-error"`` where only running it must fail (``inspect`` may succeed), and ``"either"``
where a correct result is also fine.

Usage: python tests/hostile/gen_hostile.py [OUT_DIR]
"""

from __future__ import annotations

import json
import random
import struct
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper, numpy_helper

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
BIG = 1 << 40

MUTATED_MODELS = [
    "models/mlp",
    "models/digits_cnn",
    "models/gru",
    "models/lstm",
    "models/mobilenet",
    "models/resnet",
    "models/bert",
    "models/nhwc_tf",
    "passes/conv_bn_fire",
    "passes/layer_norm_fire",
    "passes/matmul_add_fire",
    "quant/conv_integer_u8u8",
]


class Corpus:
    def __init__(self, out: Path):
        self.out = out
        self.cases: list[dict] = []
        for sub in ("mutants", "graphs", "data"):
            (out / sub).mkdir(parents=True, exist_ok=True)

    def model_case(self, name, model_path, expect, note="", inputs=None, calibration=None):
        self.cases.append(
            {
                "name": name,
                "kind": "model",
                "model": str(model_path),
                "inputs": str(inputs) if inputs else None,
                "calibration": str(calibration) if calibration else None,
                "expect": expect,
                "note": note,
            }
        )

    def data_case(self, name, model_path, data_path, expect, note=""):
        self.cases.append(
            {
                "name": name,
                "kind": "data",
                "model": str(model_path),
                "data": str(data_path),
                "expect": expect,
                "note": note,
            }
        )


# ---------------------------------------------------------------------------------------------
# Byte mutants


def mutants_of(data: bytes, rng: random.Random) -> list[tuple[str, bytes]]:
    out = []
    n = len(data)
    for frac in (0, 1, 3, 10, 25, 50, 75, 90, 99):
        out.append((f"cut{frac}", data[: n * frac // 100]))
    prefix = min(n, 4096)
    for k in range(10):
        m = bytearray(data)
        for _ in range(1 + k % 4):
            i = rng.randrange(prefix)
            m[i] ^= 1 << rng.randrange(8)
        out.append((f"flip{k}", bytes(m)))
    for k in range(6):
        m = bytearray(data)
        i = rng.randrange(prefix)
        run = rng.choice([1, 2, 4, 8])
        fill = rng.choice([0x00, 0xFF, 0x7F, 0x80])
        m[i : i + run] = bytes([fill]) * len(m[i : i + run])
        out.append((f"fill{k}", bytes(m)))
    for k in range(4):
        i, j = sorted(rng.randrange(n) for _ in range(2))
        if k % 2 == 0:
            out.append((f"dup{k}", data[:j] + data[i:j] + data[j:]))
        else:
            out.append((f"del{k}", data[:i] + data[j:]))
    # Varint fields set to huge values: a 0xFF run then a terminator.
    for k in range(4):
        m = bytearray(data)
        i = rng.randrange(prefix)
        m[i : i + 5] = b"\xff\xff\xff\xff\x0f"[: len(m[i : i + 5])]
        out.append((f"varint{k}", bytes(m)))
    return out


def gen_mutants(c: Corpus):
    rng = random.Random(21)
    for stem in MUTATED_MODELS:
        src = FIXTURES / f"{stem}.onnx"
        inputs = FIXTURES / f"{stem}.inputs.npz"
        inputs = inputs if inputs.exists() else None
        base = stem.replace("/", "_")
        for tag, m in mutants_of(src.read_bytes(), rng):
            path = c.out / "mutants" / f"{base}.{tag}.onnx"
            path.write_bytes(m)
            c.model_case(f"mutant/{base}.{tag}", path, "either", inputs=inputs, calibration=inputs)
    for stem in ("models/mlp", "models/bert", "models/lstm"):
        src = FIXTURES / f"{stem}.inputs.npz"
        model = FIXTURES / f"{stem}.onnx"
        base = stem.replace("/", "_")
        for tag, m in mutants_of(src.read_bytes(), rng):
            path = c.out / "mutants" / f"{base}.inputs.{tag}.npz"
            path.write_bytes(m)
            c.data_case(f"mutant/{base}.inputs.{tag}", model, path, "either")


# ---------------------------------------------------------------------------------------------
# Hostile graphs


def vi(name, elem=T.FLOAT, shape=None):
    return helper.make_tensor_value_info(name, elem, shape)


def init(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def mk(nodes, inputs, outputs, inits=(), opset=17, ir=8, domains=()):
    g = helper.make_graph(list(nodes), "hostile", list(inputs), list(outputs), list(inits))
    ops = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, v) for d, v in domains]
    m = helper.make_model(g, opset_imports=ops, producer_name="gen_hostile")
    m.ir_version = ir
    return m


def tensor(name, elem, dims, raw=b""):
    """A TensorProto built field by field (no size check)."""
    t = onnx.TensorProto(name=name, data_type=elem, dims=list(dims))
    if raw:
        t.raw_data = raw
    return t


def f32(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def conv_model(attrs, w_shape=(4, 3, 3, 3), x_shape=(1, 3, 8, 8), op="Conv", bias=None):
    inits = [init("W", f32(*w_shape))]
    ins = ["X", "W"]
    if bias is not None:
        inits.append(init("B", f32(bias)))
        ins.append("B")
    n = helper.make_node(op, ins, ["Y"], name="conv", **attrs)
    return mk([n], [vi("X", T.FLOAT, list(x_shape))], [vi("Y", T.FLOAT, None)], inits)


def pool_model(op, attrs, x_shape=(1, 3, 8, 8)):
    n = helper.make_node(op, ["X"], ["Y"], name="pool", **attrs)
    return mk([n], [vi("X", T.FLOAT, list(x_shape))], [vi("Y", T.FLOAT, None)])


def rnn_model(op, attrs, x_shape=(5, 2, 8), hidden=16, gates=None, h0_batch=None, w_rows=None):
    gates = gates or {"LSTM": 4, "GRU": 3, "RNN": 1}[op]
    dirs = 2 if attrs.get("direction") == "bidirectional" else 1
    rows = w_rows if w_rows is not None else gates * hidden
    inits = [
        init("W", f32(dirs, rows, x_shape[2], seed=1)),
        init("R", f32(dirs, rows, hidden, seed=2)),
    ]
    ins = ["X", "W", "R"]
    graph_inputs = [vi("X", T.FLOAT, list(x_shape))]
    if h0_batch is not None:
        ins += ["", "", "H0"]
        inits.append(init("H0", f32(dirs, h0_batch, hidden, seed=3)))
    attrs = {"hidden_size": hidden, **attrs}
    n = helper.make_node(op, ins, ["Y", "Yh"], name="rnn", **attrs)
    return mk([n], graph_inputs, [vi("Y", T.FLOAT, None), vi("Yh", T.FLOAT, None)], inits)


def unary_model(op, attrs=None, x_shape=(2, 3, 4), elem=T.FLOAT, extra_inits=(), extra_ins=()):
    n = helper.make_node(op, ["X", *extra_ins], ["Y"], name="node", **(attrs or {}))
    return mk([n], [vi("X", elem, list(x_shape))], [vi("Y", elem, None)], list(extra_inits))


def const_input_model(op, inits, ins, attrs=None, x=None, out_elem=T.FLOAT, opset=17):
    graph_inputs = [vi("X", T.FLOAT, list(x))] if x is not None else []
    n = helper.make_node(op, ins, ["Y"], name="node", **(attrs or {}))
    return mk([n], graph_inputs, [vi("Y", out_elem, None)], inits, opset=opset)


def binary_int_model(op, a, b, attrs=None, elem=T.INT64, dtype=np.int64):
    inits = [init("A", np.array(a, dtype)), init("B", np.array(b, dtype))]
    x = vi("X", elem, [len(a)])
    n0 = helper.make_node("Add", ["X", "A"], ["XA"], name="feed")
    n = helper.make_node(op, ["XA", "B"], ["Y"], name="node", **(attrs or {}))
    return mk([n0, n], [x], [vi("Y", elem, None)], inits)


def hostile_graphs() -> list[tuple[str, onnx.ModelProto | bytes, str, str]]:
    cases: list[tuple[str, onnx.ModelProto | bytes, str, str]] = []

    def add(name, model, expect, note=""):
        cases.append((name, model, expect, note))

    # Conv
    add("conv_group0", conv_model({"group": 0}), "error", "Conv group=0")
    add("conv_group_neg", conv_model({"group": -1}), "error")
    add("conv_group_mismatch", conv_model({"group": 2}), "error", "C=3 not divisible by group")
    add("conv_kernel0", conv_model({"kernel_shape": [0, 0]}), "error")
    add("conv_kernel_vs_weight", conv_model({"kernel_shape": [5, 5]}), "error")
    add("conv_strides0", conv_model({"strides": [0, 0]}), "error")
    add("conv_strides_neg", conv_model({"strides": [-1, -1]}), "error")
    add("conv_strides_2p40", conv_model({"strides": [BIG, BIG]}), "either")
    add("conv_pads_2p40", conv_model({"pads": [BIG, BIG, BIG, BIG]}), "error")
    add("conv_pads_neg", conv_model({"pads": [-1, -1, -1, -1]}), "error")
    add("conv_pads_len3", conv_model({"pads": [1, 1, 1]}), "error")
    add("conv_dilation0", conv_model({"dilations": [0, 0]}), "error")
    add("conv_dilation_2p40", conv_model({"dilations": [BIG, BIG]}), "error")
    add("conv_auto_pad_bogus", conv_model({"auto_pad": "SIDEWAYS"}), "error")
    add("conv_weight_rank3", conv_model({}, w_shape=(4, 3, 3)), "error")
    add("conv_weight_channels", conv_model({}, w_shape=(4, 5, 3, 3)), "error")
    add("conv_bias_len", conv_model({}, bias=7), "error")
    add("conv_batch0", conv_model({}, x_shape=(0, 3, 8, 8)), "either", "empty batch")
    add("conv_kernel_larger_than_input", conv_model({}, w_shape=(4, 3, 9, 9)), "error")
    # ConvTranspose: X [1,2,4,4], W [2,3,3,3]
    ct = dict(w_shape=(2, 3, 3, 3), x_shape=(1, 2, 4, 4), op="ConvTranspose")
    add("convT_stride_2p40", conv_model({"strides": [BIG, BIG]}, **ct), "error")
    add("convT_output_padding_2p30", conv_model({"output_padding": [1 << 30, 1 << 30]}, **ct), "error")
    add("convT_dilation_2p40", conv_model({"dilations": [BIG, BIG]}, **ct), "error")
    add("convT_output_shape_2p20", conv_model({"output_shape": [1 << 20, 1 << 20]}, **ct), "error")
    add("convT_output_shape_neg", conv_model({"output_shape": [-5, -5]}, **ct), "error")
    add("convT_group0", conv_model({"group": 0}, **ct), "error")
    add("convT_strides0", conv_model({"strides": [0, 0]}, **ct), "error")
    add("convT_pads_2p40", conv_model({"pads": [BIG, BIG, BIG, BIG]}, **ct), "error")
    # Pools
    for op in ("MaxPool", "AveragePool", "LpPool"):
        add(f"{op}_kernel_2p40", pool_model(op, {"kernel_shape": [BIG, BIG]}), "error")
        add(f"{op}_kernel0", pool_model(op, {"kernel_shape": [0, 0]}), "error")
        add(f"{op}_strides0", pool_model(op, {"kernel_shape": [2, 2], "strides": [0, 0]}), "error")
        add(f"{op}_no_kernel", pool_model(op, {}), "error")
        add(f"{op}_pads_2p40", pool_model(op, {"kernel_shape": [2, 2], "pads": [BIG] * 4}), "error")
        add(f"{op}_dilation_2p40", pool_model(op, {"kernel_shape": [2, 2], "dilations": [BIG] * 2}), "error")
    add("maxpool_batch0", pool_model("MaxPool", {"kernel_shape": [2, 2]}, x_shape=(0, 3, 8, 8)), "either")
    # RNNs
    for op in ("LSTM", "GRU", "RNN"):
        add(f"{op}_direction_sideways", rnn_model(op, {"direction": "sideways"}), "error")
        add(f"{op}_hidden0", rnn_model(op, {}, hidden=0), "error")
        add(f"{op}_hidden_vs_weights", rnn_model(op, {}, w_rows=5), "error")
        add(f"{op}_h0_batch_mismatch", rnn_model(op, {}, h0_batch=3), "error")
        add(f"{op}_batch0", rnn_model(op, {}, x_shape=(5, 0, 8)), "either")
        add(f"{op}_seq0", rnn_model(op, {}, x_shape=(0, 2, 8)), "either")
        add(f"{op}_activation_bogus", rnn_model(op, {"activations": ["Foo", "Bar", "Baz"][: {"LSTM": 3, "GRU": 2, "RNN": 1}[op]]}), "error")
        g = {"LSTM": 4, "GRU": 3, "RNN": 1}[op] * 16
        bidir = helper.make_node(op, ["X", "W", "R"], ["Y"], name="rnn", hidden_size=16, direction="bidirectional")
        add(f"{op}_bidirectional_weights1", mk([bidir], [vi("X", T.FLOAT, [5, 2, 8])], [vi("Y", T.FLOAT, None)],
            [init("W", f32(1, g, 8)), init("R", f32(1, g, 16))]), "error")
    # Resize: X [1,3,4,4]
    def resize(attrs, scales=None, sizes=None):
        inits, ins = [], ["X", ""]
        if scales is not None:
            inits.append(init("scales", np.array(scales, np.float32)))
            ins.append("scales")
        else:
            ins.append("")
        if sizes is not None:
            inits.append(init("sizes", np.array(sizes, np.int64)))
            ins.append("sizes")
        return const_input_model("Resize", inits, ins, attrs, x=(1, 3, 4, 4))

    add("resize_mode_bogus", resize({"mode": "cubicle"}, scales=[1, 1, 2, 2]), "error")
    add("resize_coord_bogus", resize({"coordinate_transformation_mode": "what"}, scales=[1, 1, 2, 2]), "error")
    add("resize_nearest_mode_bogus", resize({"nearest_mode": "sideways"}, scales=[1, 1, 2, 2]), "error")
    add("resize_sizes_2p20", resize({}, sizes=[1, 3, 1 << 20, 1 << 20]), "error")
    add("resize_sizes_neg", resize({}, sizes=[1, 3, -4, -4]), "error")
    add("resize_scales_1e9", resize({}, scales=[1, 1, 1e9, 1e9]), "error")
    add("resize_scales_zero", resize({}, scales=[1, 1, 0, 0]), "error")
    add("resize_scales_neg", resize({}, scales=[1, 1, -2, -2]), "error")
    add("resize_scales_nan", resize({}, scales=[1, 1, float("nan"), 2]), "error")
    add("resize_scales_inf", resize({}, scales=[1, 1, float("inf"), 2]), "error")
    add("resize_scales_len", resize({}, scales=[2, 2]), "error")
    add("resize_scales_and_sizes", resize({}, scales=[1, 1, 2, 2], sizes=[1, 3, 8, 8]), "error")
    # Pad: X [2,3,4]
    def pad(pads, mode=None, value_dims=None):
        attrs = {"mode": mode} if mode else {}
        return const_input_model("Pad", [init("pads", np.array(pads, np.int64))], ["X", "pads"], attrs, x=(2, 3, 4))

    add("pad_2p40", pad([0, 0, BIG, 0, 0, 0]), "error")
    add("pad_2p62", pad([0, 0, 1 << 62, 0, 0, 1 << 62]), "error")
    add("pad_mode_bogus", pad([0, 0, 1, 0, 0, 1], mode="mirror"), "error")
    add("pad_neg_beyond", pad([0, 0, -100, 0, 0, 0]), "error")
    add("pad_len_wrong", pad([1, 1, 1]), "error")
    add("pad_reflect_too_big", pad([0, 0, 9, 0, 0, 9], mode="reflect"), "error")
    add("pad_edge_empty", const_input_model("Pad", [init("pads", np.array([0, 1, 0, 1], np.int64))], ["X", "pads"], {"mode": "edge"}, x=(0, 3)), "either")
    # ConstantOfShape / Expand / Tile / Range / Reshape / OneHot / TopK
    def cos(shape):
        return const_input_model("ConstantOfShape", [init("shape", np.array(shape, np.int64))], ["shape"])

    add("constantofshape_2p40", cos([BIG]), "error")
    add("constantofshape_overflow", cos([1 << 32, 1 << 32, 1 << 32]), "error")
    add("constantofshape_neg", cos([-1]), "error")
    add("constantofshape_value_len2", const_input_model("ConstantOfShape", [init("shape", np.array([2], np.int64))], ["shape"],
        {"value": numpy_helper.from_array(np.array([1.0, 2.0], np.float32), "v")}), "error")
    add("expand_2p20", const_input_model("Expand", [init("s", np.array([1 << 20, 1 << 20], np.int64))], ["X", "s"], x=(1, 1)), "error")
    add("expand_neg", const_input_model("Expand", [init("s", np.array([-3, 1], np.int64))], ["X", "s"], x=(1, 1)), "error")
    add("tile_2p40", const_input_model("Tile", [init("r", np.array([BIG, 1], np.int64))], ["X", "r"], x=(2, 2)), "error")
    add("tile_neg", const_input_model("Tile", [init("r", np.array([-1, 1], np.int64))], ["X", "r"], x=(2, 2)), "error")
    def rng_model(start, limit, delta, dtype=np.int64, elem=T.INT64):
        inits = [init("s", np.array(start, dtype)), init("l", np.array(limit, dtype)), init("d", np.array(delta, dtype))]
        return const_input_model("Range", inits, ["s", "l", "d"], out_elem=elem)

    add("range_1e18", rng_model(0, 10**18, 1), "error")
    add("range_delta0", rng_model(0, 10, 0), "error")
    add("range_float_inf", rng_model(0.0, float("inf"), 1.0, np.float32, T.FLOAT), "error")
    add("range_float_nan", rng_model(0.0, float("nan"), 1.0, np.float32, T.FLOAT), "error")
    add("range_float_tiny_delta", rng_model(0.0, 1.0, 1e-30, np.float32, T.FLOAT), "error")
    add("reshape_huge", const_input_model("Reshape", [init("s", np.array([BIG, BIG], np.int64))], ["X", "s"], x=(2, 2)), "error")
    add("reshape_two_minus1", const_input_model("Reshape", [init("s", np.array([-1, -1], np.int64))], ["X", "s"], x=(2, 2)), "error")
    add("onehot_depth_2p40", const_input_model("OneHot", [init("i", np.array([1, 2], np.int64)), init("d", np.array(BIG, np.int64)), init("v", np.array([0, 1], np.float32))], ["i", "d", "v"]), "error")
    add("topk_k_2p40", mk([helper.make_node("TopK", ["X", "k"], ["V", "I"], name="node")], [vi("X", T.FLOAT, [2, 5])], [vi("V", T.FLOAT, None), vi("I", T.INT64, None)], [init("k", np.array([BIG], np.int64))]), "error")
    add("topk_k_neg", mk([helper.make_node("TopK", ["X", "k"], ["V", "I"], name="node")], [vi("X", T.FLOAT, [2, 5])], [vi("V", T.FLOAT, None), vi("I", T.INT64, None)], [init("k", np.array([-1], np.int64))]), "error")
    add("gather_oob", const_input_model("Gather", [init("i", np.array([100], np.int64))], ["X", "i"], x=(3, 2)), "error")
    add("gather_axis99", const_input_model("Gather", [init("i", np.array([0], np.int64))], ["X", "i"], {"axis": 99}, x=(3, 2)), "error")
    add("split_bad_sum", mk([helper.make_node("Split", ["X", "s"], ["A", "B"], name="node")], [vi("X", T.FLOAT, [4])], [vi("A", T.FLOAT, None), vi("B", T.FLOAT, None)], [init("s", np.array([3, 3], np.int64))]), "error")
    add("concat_axis99", mk([helper.make_node("Concat", ["X", "X"], ["Y"], name="node", axis=99)], [vi("X", T.FLOAT, [2, 2])], [vi("Y", T.FLOAT, None)]), "error")
    add("transpose_perm_dup", unary_model("Transpose", {"perm": [0, 0, 1]}), "error")
    add("transpose_perm_oob", unary_model("Transpose", {"perm": [5, 6, 7]}), "error")
    add("softmax_axis99", unary_model("Softmax", {"axis": 99}), "error")
    add("flatten_axis99", unary_model("Flatten", {"axis": 99}), "error")
    add("squeeze_axis_oob", const_input_model("Squeeze", [init("a", np.array([5], np.int64))], ["X", "a"], x=(1, 2)), "error")
    add("unsqueeze_axis99", const_input_model("Unsqueeze", [init("a", np.array([99], np.int64))], ["X", "a"], x=(1, 2)), "error")
    add("reducesum_axis99", const_input_model("ReduceSum", [init("a", np.array([99], np.int64))], ["X", "a"], x=(2, 2)), "error")
    add("argmax_axis99", unary_model("ArgMax", {"axis": 99}), "error")
    add("argmax_empty_axis", unary_model("ArgMax", {"axis": 0}, x_shape=(0, 3)), "error")
    for op in ("ReduceMax", "ReduceMin", "ReduceMean", "ReduceSum", "ReduceProd", "ReduceL2", "ReduceLogSumExp"):
        add(f"{op}_empty_axis", const_input_model(op, [init("a", np.array([0], np.int64))], ["X", "a"], {"keepdims": 0}, x=(0, 3), opset=18), "either")
    add("slice_step0", const_input_model("Slice", [init("s", np.array([0], np.int64)), init("e", np.array([2], np.int64)), init("a", np.array([0], np.int64)), init("st", np.array([0], np.int64))], ["X", "s", "e", "a", "st"], x=(3, 2)), "error")
    add("einsum_bogus", mk([helper.make_node("Einsum", ["X", "X"], ["Y"], name="node", equation="((->")], [vi("X", T.FLOAT, [2, 2])], [vi("Y", T.FLOAT, None)]), "error")
    add("einsum_rank_mismatch", mk([helper.make_node("Einsum", ["X", "X"], ["Y"], name="node", equation="abc,cd->ad")], [vi("X", T.FLOAT, [2, 2])], [vi("Y", T.FLOAT, None)]), "error")
    add("cumsum_axis5", const_input_model("CumSum", [init("a", np.array(5, np.int64))], ["X", "a"], x=(2, 2)), "error")
    add("cast_to99", unary_model("Cast", {"to": 99}), "error")
    add("cast_to0", unary_model("Cast", {"to": 0}), "error")
    add("matmul_mismatch", mk([helper.make_node("MatMul", ["X", "W"], ["Y"], name="node")], [vi("X", T.FLOAT, [2, 3])], [vi("Y", T.FLOAT, None)], [init("W", f32(4, 5))]), "error")
    add("matmul_huge_output", mk([helper.make_node("MatMul", ["X", "W"], ["Y"], name="node")], [vi("X", T.FLOAT, [1 << 20, 0])], [vi("Y", T.FLOAT, None)], [init("W", np.zeros((0, 1 << 20), np.float32))]), "error")
    add("batchnorm_stats_len", mk([helper.make_node("BatchNormalization", ["X", "s", "b", "m", "v"], ["Y"], name="node")], [vi("X", T.FLOAT, [1, 3, 2, 2])], [vi("Y", T.FLOAT, None)], [init(n, f32(5)) for n in "sbmv"]), "error")
    add("gemm_mismatch", mk([helper.make_node("Gemm", ["X", "W"], ["Y"], name="node", transB=1)], [vi("X", T.FLOAT, [2, 3])], [vi("Y", T.FLOAT, None)], [init("W", f32(4, 5))]), "error")
    # Integer division
    add("div_i64_by_zero", binary_int_model("Div", [5, 7], [0, 2]), "error")
    add("div_i32_by_zero", binary_int_model("Div", [5, 7], [0, 2], elem=T.INT32, dtype=np.int32), "error")
    add("div_i64_min_by_minus1", binary_int_model("Div", [-(1 << 63), 7], [-1, 2]), "either")
    add("div_i32_min_by_minus1", binary_int_model("Div", [-(1 << 31), 7], [-1, 2], elem=T.INT32, dtype=np.int32), "either")
    add("mod_i64_by_zero", binary_int_model("Mod", [5, 7], [0, 2]), "error")
    add("fmod_i64_by_zero", binary_int_model("Mod", [5, 7], [0, 2], attrs={"fmod": 1}), "error")
    add("mod_i64_min_by_minus1", binary_int_model("Mod", [-(1 << 63), 7], [-1, 2]), "either")
    add("fmod_i32_min_by_minus1", binary_int_model("Mod", [-(1 << 31), 7], [-1, 2], attrs={"fmod": 1}, elem=T.INT32, dtype=np.int32), "either")
    # Arity and structure
    relu = lambda ins, outs: mk([helper.make_node("Relu", ins, outs, name="relu")], [vi("X", T.FLOAT, [2])], [vi(o, T.FLOAT, None) for o in outs if o])
    add("relu_4_inputs", relu(["X", "X", "X", "X"], ["Y"]), "error")
    add("relu_0_inputs", relu([], ["Y"]), "error")
    add("relu_2_outputs", relu(["X"], ["Y", "Z"]), "error")
    add("add_1_input", mk([helper.make_node("Add", ["X"], ["Y"], name="add")], [vi("X", T.FLOAT, [2])], [vi("Y", T.FLOAT, None)]), "error")
    add("conv_1_input", mk([helper.make_node("Conv", ["X"], ["Y"], name="conv")], [vi("X", T.FLOAT, [1, 1, 4, 4])], [vi("Y", T.FLOAT, None)]), "error")
    add("output_twice", mk([helper.make_node("Relu", ["X"], ["Y"], name="relu")], [vi("X", T.FLOAT, [2])], [vi("Y", T.FLOAT, None), vi("Y", T.FLOAT, None)]), "error")
    add("input_twice", mk([helper.make_node("Relu", ["X"], ["Y"], name="relu")], [vi("X", T.FLOAT, [2]), vi("X", T.FLOAT, [2])], [vi("Y", T.FLOAT, None)]), "error")
    add("unknown_op", unary_model("FooBar"), "error")
    add("unknown_domain", mk([helper.make_node("Relu", ["X"], ["Y"], name="n", domain="com.evil")], [vi("X", T.FLOAT, [2])], [vi("Y", T.FLOAT, None)]), "error")
    add("dup_attribute", (lambda m: (m.graph.node[0].attribute.extend([helper.make_attribute("axis", 0)]), m)[1])(unary_model("Softmax", {"axis": 1})), "error")
    add("node_name_newline", mk([helper.make_node("Conv", ["X"], ["Y"], name="bad\nname\r\x1b[31m")], [vi("X", T.FLOAT, [1, 1, 4, 4])], [vi("Y", T.FLOAT, None)]), "error")
    for e in (0, 99, 15, -3):
        add(f"elem_input_{e}", mk([helper.make_node("Relu", ["X"], ["Y"], name="relu")], [vi("X", e, [2])], [vi("Y", T.FLOAT, None)]), "error")
        add(f"elem_output_{e}", mk([helper.make_node("Relu", ["X"], ["Y"], name="relu")], [vi("X", T.FLOAT, [2])], [vi("Y", e, None)]), "error")
        t = helper.make_tensor("W", T.FLOAT, [2], [1.0, 2.0])
        t.data_type = e
        add(f"elem_init_{e}", mk([helper.make_node("Add", ["X", "W"], ["Y"], name="add")], [vi("X", T.FLOAT, [2])], [vi("Y", T.FLOAT, None)], [t]), "error")
    seq_in = helper.make_tensor_sequence_value_info("S", T.FLOAT, None)
    add("sequence_input", mk([helper.make_node("SequenceLength", ["S"], ["Y"], name="len")], [seq_in], [vi("Y", T.INT64, None)]), "either")
    seq_relu = mk([helper.make_node("Relu", ["S"], ["Y"], name="relu")], [seq_in], [vi("Y", T.FLOAT, None)])
    add("sequence_input_to_relu", seq_relu, "error")
    map_in = helper.make_value_info("M", helper.make_map_type_proto(T.INT64, helper.make_tensor_type_proto(T.FLOAT, None)))
    add("map_input", mk([helper.make_node("Identity", ["M"], ["Y"], name="id")], [map_in], [vi("Y", T.FLOAT, None)]), "error")
    untyped = onnx.ValueInfoProto(name="X")
    add("untyped_input", mk([helper.make_node("Relu", ["X"], ["Y"], name="relu")], [untyped], [vi("Y", T.FLOAT, None)]), "error")
    for v in (0, -1, 99, BIG):
        add(f"opset_{v}", mk([helper.make_node("Relu", ["X"], ["Y"], name="relu")], [vi("X", T.FLOAT, [2])], [vi("Y", T.FLOAT, None)], opset=v), "error")
        add(f"ir_version_{v}", mk([helper.make_node("Relu", ["X"], ["Y"], name="relu")], [vi("X", T.FLOAT, [2])], [vi("Y", T.FLOAT, None)], ir=v), "error")
    add("ml_opset_99", mk([helper.make_node("Relu", ["X"], ["Y"], name="relu")], [vi("X", T.FLOAT, [2])], [vi("Y", T.FLOAT, None)], domains=[("ai.onnx.ml", 99)]), "error")
    add("relu_at_opset1", mk([helper.make_node("Gelu", ["X"], ["Y"], name="gelu")], [vi("X", T.FLOAT, [2])], [vi("Y", T.FLOAT, None)], opset=1), "error")
    # Huge or bad declared input shapes (random inputs are synthesized from them)
    add("input_dim_2p40", unary_model("Relu", x_shape=(BIG,)), "error")
    add("input_dims_overflow", unary_model("Relu", x_shape=(1 << 32, 1 << 32)), "error")
    add("input_dim0", unary_model("Relu", x_shape=(0, 3)), "either")
    # Initializers
    t = tensor("W", T.FLOAT, [BIG])
    add("init_dims_2p40_no_data", mk([helper.make_node("Add", ["X", "W"], ["Y"], name="add")], [vi("X", T.FLOAT, [1])], [vi("Y", T.FLOAT, None)], [t]), "error")
    t = tensor("W", T.FLOAT, [-2])
    add("init_dims_neg", mk([helper.make_node("Add", ["X", "W"], ["Y"], name="add")], [vi("X", T.FLOAT, [1])], [vi("Y", T.FLOAT, None)], [t]), "error")
    t = tensor("W", T.FLOAT, [4], b"\x00" * 7)
    add("init_raw_short", mk([helper.make_node("Add", ["X", "W"], ["Y"], name="add")], [vi("X", T.FLOAT, [4])], [vi("Y", T.FLOAT, None)], [t]), "error")
    for tag, loc in (("passwd", "/etc/passwd"), ("dotdot", "../../../../etc/hostname"), ("missing", "nope.bin"), ("dir", ".")):
        t = tensor("W", T.FLOAT, [4])
        t.data_location = T.EXTERNAL
        t.external_data.add(key="location", value=loc)
        add(f"init_external_{tag}", mk([helper.make_node("Add", ["X", "W"], ["Y"], name="add")], [vi("X", T.FLOAT, [4])], [vi("Y", T.FLOAT, None)], [t]), "error")
    t = tensor("W", T.FLOAT, [4])
    for k, v in (("location", "weights.bin"), ("offset", str(1 << 60)), ("length", str(1 << 40))):
        t.external_data.add(key=k, value=v)
    t.data_location = T.EXTERNAL
    add("init_external_offset_huge", mk([helper.make_node("Add", ["X", "W"], ["Y"], name="add")], [vi("X", T.FLOAT, [4])], [vi("Y", T.FLOAT, None)], [t]), "error")
    cst = tensor("v", T.FLOAT, [1 << 62])
    add("constant_2p62", const_input_model("Constant", [], [], {"value": cst}), "error")
    add("constant_no_value", const_input_model("Constant", [], []), "error")
    add("constantofshape_value_elem99", const_input_model("ConstantOfShape", [init("shape", np.array([2], np.int64))], ["shape"], {"value": (lambda t: (setattr(t, "data_type", 99), t)[1])(helper.make_tensor("v", T.FLOAT, [1], [1.0]))}), "error")
    # Deep nesting of If branches (protobuf recursion)
    def nested_if(depth):
        leaf = helper.make_graph([helper.make_node("Identity", ["X"], ["Z0"], name="id")], "g0", [], [vi("Z0", T.FLOAT, None)])
        inner = leaf
        for d in range(1, depth):
            node = helper.make_node("If", ["c"], [f"Z{d}"], name=f"if{d}", then_branch=inner, else_branch=leaf)
            inner = helper.make_graph([node], f"g{d}", [], [vi(f"Z{d}", T.FLOAT, None)])
        top = helper.make_node("If", ["c"], ["Y"], name="top", then_branch=inner, else_branch=leaf)
        return mk([top], [vi("X", T.FLOAT, [2])], [vi("Y", T.FLOAT, None)], [init("c", np.array(True))])

    add("nested_if_8", nested_if(8), "either")
    add("if_branch_arity", mk([helper.make_node("If", ["c"], ["Y"], name="if",
        then_branch=helper.make_graph([helper.make_node("Identity", ["X"], ["A"], name="a"), helper.make_node("Identity", ["X"], ["B"], name="b")], "t", [], [vi("A", T.FLOAT, None), vi("B", T.FLOAT, None)]),
        else_branch=helper.make_graph([helper.make_node("Identity", ["X"], ["C"], name="c")], "e", [], [vi("C", T.FLOAT, None)]))],
        [vi("X", T.FLOAT, [2])], [vi("Y", T.FLOAT, None)], [init("c", np.array(True))]), "error")
    # Deep nesting past the protobuf limit: encoded by hand (onnx refuses to build it).
    add("nested_if_300", nested_if_bytes(300), "error")
    return cases


def _field(num: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    key, n, out = (num << 3) | 2, len(payload), bytearray()
    out += _varint(key)
    out += _varint(n)
    return bytes(out) + payload


def _varint(v: int) -> bytes:
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def nested_if_bytes(depth: int) -> bytes:
    """A model whose `If` then-branches nest `depth` deep, encoded field by field."""
    leaf = helper.make_graph([helper.make_node("Identity", ["X"], ["Z0"], name="id")], "g0", [], [vi("Z0", T.FLOAT, None)])
    leaf_bytes = leaf.SerializeToString()
    inner = leaf_bytes
    for d in range(1, depth + 1):
        out = "Y" if d == depth else f"Z{d}"
        node = helper.make_node("If", ["c"], [out], name=f"if{d}", else_branch=leaf).SerializeToString()
        then_attr = _field(1, b"then_branch") + _field(6, inner) + bytes([0xA0, 0x01, 5])  # type=GRAPH
        node += _field(5, then_attr)
        inner = _field(1, node) + _field(2, f"g{d}".encode()) + _field(12, vi(out, T.FLOAT, None).SerializeToString())
    model = mk([], [vi("X", T.FLOAT, [2])], [vi("Y", T.FLOAT, None)], [init("c", np.array(True))])
    model.graph.ClearField("node")
    top = model.SerializeToString()
    # The graph field (7) of ModelProto: the hand-built graph with the inputs, initializer and
    # outputs of `model` appended (repeated fields concatenate).
    graph = inner + b"".join(
        _field(n, x.SerializeToString())
        for n, xs in ((11, model.graph.input), (5, model.graph.initializer))
        for x in xs
    )
    rest = onnx.ModelProto()
    rest.CopyFrom(model)
    rest.ClearField("graph")
    return rest.SerializeToString() + _field(7, graph)


# Invalid only at run time (data-dependent sizes, values): `inspect` may succeed on these.
RUN_ERRORS = {
    "LSTM_h0_batch_mismatch", "GRU_h0_batch_mismatch", "RNN_h0_batch_mismatch",
    "resize_sizes_2p20", "resize_sizes_neg", "resize_scales_1e9", "resize_scales_zero",
    "resize_scales_neg", "resize_scales_nan", "resize_scales_inf", "resize_scales_len",
    "resize_scales_and_sizes", "pad_2p40", "pad_2p62", "pad_neg_beyond", "pad_len_wrong",
    "pad_reflect_too_big", "constantofshape_2p40", "constantofshape_overflow",
    "constantofshape_neg", "expand_2p20", "expand_neg", "tile_2p40", "tile_neg", "range_1e18",
    "range_delta0", "range_float_inf", "range_float_nan", "range_float_tiny_delta",
    "reshape_huge", "reshape_two_minus1", "onehot_depth_2p40", "topk_k_2p40", "topk_k_neg",
    "gather_oob", "split_bad_sum", "squeeze_axis_oob", "unsqueeze_axis99", "reducesum_axis99",
    "argmax_empty_axis", "slice_step0", "cumsum_axis5", "matmul_mismatch", "matmul_huge_output",
    "batchnorm_stats_len", "gemm_mismatch", "div_i64_by_zero", "div_i32_by_zero",
    "mod_i64_by_zero", "fmod_i64_by_zero", "input_dim_2p40", "input_dims_overflow",
}


def gen_graphs(c: Corpus):
    for name, model, expect, note in hostile_graphs():
        if expect == "error" and name in RUN_ERRORS:
            expect = "run-error"
        path = c.out / "graphs" / f"{name}.onnx"
        data = model if isinstance(model, bytes) else model.SerializeToString()
        path.write_bytes(data)
        c.model_case(f"graph/{name}", path, expect, note)


# ---------------------------------------------------------------------------------------------
# Hostile NPY / NPZ


def npy_bytes(header: str, payload: bytes, version=(1, 0), header_len=None) -> bytes:
    h = header.encode("latin1")
    pad = (64 - (10 + len(h) + 1) % 64) % 64
    h = h + b" " * pad + b"\n"
    n = len(h) if header_len is None else header_len
    if version[0] == 1:
        return b"\x93NUMPY" + bytes(version) + struct.pack("<H", n & 0xFFFF) + h + payload
    return b"\x93NUMPY" + bytes(version) + struct.pack("<I", n & 0xFFFFFFFF) + h + payload


def npz_of(members: dict[str, bytes], compress=False) -> bytes:
    import io

    buf = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(buf, "w", method) as z:
        for k, v in members.items():
            z.writestr(k, v)
    return buf.getvalue()


def lying_zip(name: str, payload: bytes, claimed: int) -> bytes:
    """A stored zip whose headers claim `claimed` uncompressed (and compressed) bytes, with a
    zip64 extra field when the claim exceeds 32 bits."""
    crc = zlib.crc32(payload)
    fname = name.encode()
    zip64 = claimed >= 0xFFFFFFFF
    extra = struct.pack("<HHQQ", 1, 16, claimed, claimed) if zip64 else b""
    size32 = 0xFFFFFFFF if zip64 else claimed
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0, crc, size32, size32, len(fname), len(extra)) + fname + extra
    body = local + payload
    cextra = struct.pack("<HHQQ", 1, 16, claimed, claimed) if zip64 else b""
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0, crc, size32, size32, len(fname), len(cextra), 0, 0, 0, 0, 0) + fname + cextra
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(body), 0)
    return body + central + end


def zip_bomb(name: str, size: int) -> bytes:
    """A deflated member of `size` zero bytes behind a valid NPY header claiming that size."""
    n = (size - 128) // 4
    header = npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (%d,), }" % n, b"")
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunks = [comp.compress(header)]
    zero = bytes(1 << 20)
    remaining = n * 4
    crc = zlib.crc32(header)
    while remaining > 0:
        piece = zero[: min(len(zero), remaining)]
        chunks.append(comp.compress(piece))
        crc = zlib.crc32(piece, crc)
        remaining -= len(piece)
    chunks.append(comp.flush())
    data = b"".join(chunks)
    total = len(header) + n * 4
    fname = name.encode()
    zip64 = total >= 0xFFFFFFFF
    extra = struct.pack("<HHQQ", 1, 16, total, len(data)) if zip64 else b""
    u32 = 0xFFFFFFFF if zip64 else total
    c32 = 0xFFFFFFFF if zip64 else len(data)
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 8, 0, 0, crc, c32, u32, len(fname), len(extra)) + fname + extra
    body = local + data
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 8, 0, 0, crc, c32, u32, len(fname), len(extra), 0, 0, 0, 0, 0) + fname + extra
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(body), 0)
    return body + central + end


def gen_data(c: Corpus):
    mlp = FIXTURES / "models" / "mlp.onnx"
    x = np.load(FIXTURES / "models" / "mlp.inputs.npz")["x"]
    good_payload = x.astype("<f4").tobytes()
    good_hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1, 8, 8), }"
    d = c.out / "data"

    def npz_case(name, members, expect="error", note="", compress=False):
        path = d / f"{name}.npz"
        path.write_bytes(npz_of(members, compress))
        c.data_case(f"data/{name}", mlp, path, expect, note)

    def npy_case(name, blob, expect="error", note=""):
        path = d / f"{name}.npz"
        path.write_bytes(npz_of({"x.npy": blob}))
        c.data_case(f"data/{name}", mlp, path, expect, note)
        # A bare .npy is read as the array named by its file stem; the model input is `x`.
        sub = d / name
        sub.mkdir(exist_ok=True)
        (sub / "x.npy").write_bytes(blob)
        c.data_case(f"data/{name}.npy", mlp, sub / "x.npy", expect, note)

    npy_case("good", npy_bytes(good_hdr, good_payload), "either")
    npy_case("descr_empty", npy_bytes("{'descr': '', 'fortran_order': False, 'shape': (2, 1, 8, 8), }", good_payload))
    npy_case("descr_unknown_code", npy_bytes("{'descr': '<q9', 'fortran_order': False, 'shape': (2, 1, 8, 8), }", good_payload))
    npy_case("descr_object", npy_bytes("{'descr': '|O', 'fortran_order': False, 'shape': (2, 1, 8, 8), }", good_payload))
    npy_case("descr_unicode", npy_bytes("{'descr': '<U4', 'fortran_order': False, 'shape': (2, 1, 8, 8), }", good_payload))
    npy_case("descr_struct", npy_bytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2, 1, 8, 8), }", good_payload))
    npy_case("unknown_key", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1, 8, 8), 'foo': 1, }", good_payload))
    npy_case("missing_shape", npy_bytes("{'descr': '<f4', 'fortran_order': False, }", good_payload))
    npy_case("fortran_maybe", npy_bytes("{'descr': '<f4', 'fortran_order': 'maybe', 'shape': (2, 1, 8, 8), }", good_payload))
    npy_case("fortran_true", npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 1, 8, 8), }", good_payload), "either")
    npy_case("shape_nested", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': ((2, 1), 8, 8), }", good_payload))
    npy_case("shape_list", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': [2, 1, 8, 8], }", good_payload))
    npy_case("shape_negative", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 1, 8, 8), }", good_payload))
    npy_case("shape_float", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2.0, 1, 8, 8), }", good_payload))
    npy_case("shape_2p40_tiny_data", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (%d,), }" % BIG, good_payload[:64]))
    npy_case("shape_overflow", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d, %d), }" % (1 << 32, 1 << 32, 1 << 32), good_payload[:64]))
    npy_case("truncated_data", npy_bytes(good_hdr, good_payload[:100]))
    npy_case("trailing_garbage_header", npy_bytes(good_hdr + " junk", good_payload))
    npy_case("header_not_dict", npy_bytes("[1, 2, 3]", good_payload))
    npy_case("header_len_past_end", npy_bytes(good_hdr, b"", header_len=0xFFFF))
    npy_case("header_v2_len_huge", npy_bytes(good_hdr, good_payload, version=(2, 0), header_len=0xFFFFFFF0))
    npy_case("version_9", npy_bytes(good_hdr, good_payload, version=(9, 0)))
    npy_case("header_latin1", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1, 8, 8), '\xe9': 1}", good_payload))
    npy_case("magic_only", b"\x93NUMPY")
    npy_case("empty", b"")
    npy_case("big_endian", npy_bytes("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 1, 8, 8), }", x.astype(">f4").tobytes()), "either")
    npy_case("double_quotes", npy_bytes('{"descr": "<f4", "fortran_order": False, "shape": (2, 1, 8, 8), }', good_payload), "either")
    npy_case("wrong_dtype_f8", npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1, 8, 8), }", x.astype("<f8").tobytes()))
    npy_case("wrong_shape", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 64), }", good_payload))
    npy_case("batch0", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 1, 8, 8), }", b""), "either")
    # Calibration takes a one-array file for a one-input model whatever its key, and ignores
    # arrays no input reads; `run` and `optimize --inputs` refuse both.
    npz_case("wrong_key", {"y.npy": npy_bytes(good_hdr, good_payload)}, "either")
    npz_case("extra_key", {"x.npy": npy_bytes(good_hdr, good_payload), "z.npy": npy_bytes(good_hdr, good_payload)}, "either")
    npz_case("no_members", {})
    npz_case("not_npy_member", {"x.npy": b"hello world, not an array"})
    npz_case("dup_members", {"x.npy": npy_bytes(good_hdr, good_payload), "x": npy_bytes(good_hdr, good_payload)})
    npz_case("slash_member", {"../x.npy": npy_bytes(good_hdr, good_payload)}, "either")
    npz_case("deflated_good", {"x.npy": npy_bytes(good_hdr, good_payload)}, "either", compress=True)
    lie = d / "claims_8gib.npz"
    lie.write_bytes(lying_zip("x.npy", npy_bytes(good_hdr, good_payload)[:64], 8 << 30))
    c.data_case("data/claims_8gib", mlp, lie, "error", "zip header claims 8 GiB, member holds 64 bytes")
    lie = d / "claims_3gib.npz"
    lie.write_bytes(lying_zip("x.npy", npy_bytes(good_hdr, good_payload)[:64], 3 << 30))
    c.data_case("data/claims_3gib", mlp, lie, "error")
    for gib in (1, 5):
        bomb = d / f"bomb_{gib}gib.npz"
        bomb.write_bytes(zip_bomb("x.npy", gib << 30))
        c.data_case(f"data/bomb_{gib}gib", mlp, bomb, "error", f"{gib} GiB of zeros deflated")
    truncated = npz_of({"x.npy": npy_bytes(good_hdr, good_payload)})
    for cut in (10, 100, len(truncated) - 10):
        p = d / f"npz_cut{cut}.npz"
        p.write_bytes(truncated[:cut])
        c.data_case(f"data/npz_cut{cut}", mlp, p, "error")
    badcrc = bytearray(truncated)
    badcrc[200] ^= 0xFF
    p = d / "npz_bad_crc.npz"
    p.write_bytes(bytes(badcrc))
    c.data_case("data/npz_bad_crc", mlp, p, "error")
    c.data_case("data/directory", mlp, d, "error", "a directory")
    c.data_case("data/missing", mlp, d / "does_not_exist.npz", "error")
    # Calibration/inputs with NaN and Inf
    for tag, fill in (("nan", np.nan), ("inf", np.inf), ("ninf", -np.inf)):
        arr = x.copy()
        arr[...] = fill
        npz_case(f"all_{tag}", {"x.npy": npy_bytes(good_hdr, arr.astype("<f4").tobytes())}, "either", "run/optimize may accept; calibration must refuse")
        arr = x.copy()
        arr[0, 0, 0, :3] = fill
        npz_case(f"some_{tag}", {"x.npy": npy_bytes(good_hdr, arr.astype("<f4").tobytes())}, "either")


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="burnish-hostile-"))
    out.mkdir(parents=True, exist_ok=True)
    c = Corpus(out)
    gen_mutants(c)
    gen_graphs(c)
    gen_data(c)
    (out / "cases.json").write_text(json.dumps(c.cases, indent=1))
    print(f"{len(c.cases)} cases in {out}")


if __name__ == "__main__":
    main()
