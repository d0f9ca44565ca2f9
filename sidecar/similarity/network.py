"""The aisfx embedding network, inference only: ONNX Runtime, or numpy where it is missing.

As its source defines it (`EmbeddingNet('max', 3, 1, 64)`): four blocks of two
3x3 convolutions (padding 1, no bias), each followed by batch norm and ReLU, with
64, 128, 256 and 512 channels; 2x2 max pooling after the first three blocks.
The block's embedding is the mean over frequency, then the maximum over time.

Batch norm is folded into each convolution (a scale per output channel and a
bias). The graph is built here from the checkpoint's tensors; ONNX Runtime's
convolution kernels run it about twice as fast as numpy's matrix products.
"""

from __future__ import annotations

import numpy as np

BLOCKS = 4
CHANNELS = (64, 128, 256, 512)
EMBEDDING_SIZE = CHANNELS[-1]
BN_EPS = 1e-5          # torch's BatchNorm2d default, which the model was trained with
PREFIX = "embedding_net.conv_block"
TIME, MEL = 100, 96


class Conv:
    """One 3x3 convolution with its batch norm folded in: weight (out, in, 3, 3) and bias (out,)."""

    def __init__(self, weight: np.ndarray, bias: np.ndarray):
        self.weight = weight
        self.bias = bias


def fold(state: dict[str, np.ndarray]) -> list[list[Conv]]:
    """The checkpoint's tensors as four blocks of two folded convolutions; ValueError if they do not fit."""
    blocks = []
    in_ch = 1
    for block, out_ch in enumerate(CHANNELS, start=1):
        convs = []
        for conv in (1, 2):
            weight = _tensor(state, f"{PREFIX}{block}.conv{conv}.weight", (out_ch, in_ch, 3, 3))
            bn = {k: _tensor(state, f"{PREFIX}{block}.bn{conv}.{k}", (out_ch,))
                  for k in ("weight", "bias", "running_mean", "running_var")}
            scale = bn["weight"] / np.sqrt(bn["running_var"] + BN_EPS)
            convs.append(Conv((weight * scale[:, None, None, None]).astype(np.float32),
                              (bn["bias"] - bn["running_mean"] * scale).astype(np.float32)))
            in_ch = out_ch
        blocks.append(convs)
    return blocks


def _tensor(state: dict, name: str, shape: tuple) -> np.ndarray:
    try:
        value = state[name]
    except KeyError:
        raise ValueError(f"the checkpoint has no {name}") from None
    if tuple(value.shape) != shape:
        raise ValueError(f"{name} has shape {tuple(value.shape)}, not {shape}")
    return value.astype(np.float64)


GRAPH_VERSION = 1      # bump when the graph built below changes, so cached graphs are made again


def build(blocks: list[list[Conv]]):
    """The fastest network this installation can run."""
    try:
        return OnnxNet(graph_bytes(blocks))
    except ImportError:
        return NumpyNet(blocks)


def graph_bytes(blocks: list[list[Conv]]) -> bytes:
    """The network as a serialised ONNX graph (needs the onnx package; ImportError without it)."""
    from onnx import TensorProto, helper, numpy_helper

    nodes, weights = [], [numpy_helper.from_array(np.array([1], np.int64), "channel_axis"),
                          numpy_helper.from_array(np.array([3], np.int64), "mel_axis"),
                          numpy_helper.from_array(np.array([2], np.int64), "time_axis")]
    nodes.append(helper.make_node("Unsqueeze", ["blocks", "channel_axis"], ["x0"]))
    x = "x0"
    for b, convs in enumerate(blocks, start=1):
        for c, conv in enumerate(convs, start=1):
            w, bias, y = f"w{b}{c}", f"b{b}{c}", f"conv{b}{c}"
            weights += [numpy_helper.from_array(conv.weight, w), numpy_helper.from_array(conv.bias, bias)]
            nodes.append(helper.make_node("Conv", [x, w, bias], [y], kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
            nodes.append(helper.make_node("Relu", [y], [f"relu{b}{c}"]))
            x = f"relu{b}{c}"
        if b < BLOCKS:
            nodes.append(helper.make_node("MaxPool", [x], [f"pool{b}"], kernel_shape=[2, 2], strides=[2, 2]))
            x = f"pool{b}"
    nodes.append(helper.make_node("ReduceMean", [x, "mel_axis"], ["over_mel"], keepdims=0))
    nodes.append(helper.make_node("ReduceMax", ["over_mel", "time_axis"], ["embeddings"], keepdims=0))
    graph = helper.make_graph(
        nodes, "aisfx_embedding", [helper.make_tensor_value_info("blocks", TensorProto.FLOAT, ["n", TIME, MEL])],
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["n", EMBEDDING_SIZE])], weights)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=8).SerializeToString()


class OnnxNet:
    """The network as an ONNX graph on ONNX Runtime, one thread per call (scan workers run in parallel).
    Takes the graph's bytes or a path to a cached .onnx file (either way, no onnx import)."""

    backend = "onnxruntime"

    def __init__(self, graph: bytes | str):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])

    def __call__(self, blocks: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(blocks, dtype=np.float32)
        if x.ndim != 3 or x.shape[1:] != (TIME, MEL):
            raise ValueError(f"expected (batch, {TIME}, {MEL}) blocks, not shape {x.shape}")
        return self.session.run(None, {"blocks": x})[0]


class NumpyNet:
    """The same network on numpy: each convolution is one matrix product over the nine shifted
    copies of its input (channels last)."""

    backend = "numpy"

    def __init__(self, blocks: list[list[Conv]]):
        # rows ordered (dy, dx, in) to match the shifted copies built in _conv3x3_relu
        self.layers = [[(np.ascontiguousarray(c.weight.transpose(2, 3, 1, 0).reshape(-1, c.weight.shape[0])), c.bias)
                        for c in convs] for convs in blocks]

    def __call__(self, blocks: np.ndarray) -> np.ndarray:
        x = np.asarray(blocks, dtype=np.float32)
        if x.ndim != 3 or x.shape[1:] != (TIME, MEL):
            raise ValueError(f"expected (batch, {TIME}, {MEL}) blocks, not shape {x.shape}")
        x = x[..., None]                         # (batch, time, mel, channels)
        for index, convs in enumerate(self.layers):
            for matrix, bias in convs:
                x = _conv3x3_relu(x, matrix, bias)
            if index < BLOCKS - 1:
                x = _max_pool2x2(x)
        return x.mean(axis=2).max(axis=1)        # mean over frequency, max over time


def _conv3x3_relu(x: np.ndarray, matrix: np.ndarray, bias: np.ndarray) -> np.ndarray:
    n, h, w, c = x.shape
    padded = np.zeros((n, h + 2, w + 2, c), dtype=np.float32)
    padded[:, 1:-1, 1:-1] = x
    columns = np.empty((n, h, w, 9, c), dtype=np.float32)
    for dy in range(3):
        for dx in range(3):
            columns[:, :, :, dy * 3 + dx] = padded[:, dy:dy + h, dx:dx + w]
    out = columns.reshape(n * h * w, 9 * c) @ matrix
    out += bias
    np.maximum(out, 0, out=out)
    return out.reshape(n, h, w, -1)


def _max_pool2x2(x: np.ndarray) -> np.ndarray:
    n, h, w, c = x.shape
    h2, w2 = h // 2, w // 2                      # torch floors: a last odd row or column is dropped
    x = x[:, : h2 * 2, : w2 * 2]
    return x.reshape(n, h2, 2, w2, 2, c).max(axis=(2, 4))
