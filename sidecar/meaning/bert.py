"""The all-MiniLM-L6-v2 encoder, inference only: a 6-layer BERT (hidden 384, 12 heads, GELU
feed-forward of 1536), post-layer-norm, as Hugging Face's BertModel defines it.

The token embeddings and the pooling run in numpy for both backends; the encoder layers run
as an ONNX graph built here from the weights (several times faster than numpy for one short
query, see README), or in numpy where ONNX Runtime is missing. Either way the tensors named
below are checked for shape when loaded, so a damaged file is refused before it answers.
"""

from __future__ import annotations

import numpy as np

HIDDEN = 384
HEADS = 12
HEAD_SIZE = HIDDEN // HEADS
INTERMEDIATE = 1536
LAYERS = 6
VOCAB = 30522
POSITIONS = 512
LN_EPS = 1e-12          # config.json's layer_norm_eps
MASKED = -1e9           # added to the attention scores of padding: its softmax weight is exactly 0


class Layer:
    """One encoder layer, its linear maps stored (in, out) for x @ w."""

    def __init__(self, state: dict[str, np.ndarray], i: int):
        p = f"encoder.layer.{i}."
        q, k, v = (_linear(state, f"{p}attention.self.{n}", HIDDEN, HIDDEN) for n in ("query", "key", "value"))
        self.qkv = np.ascontiguousarray(np.concatenate([q[0], k[0], v[0]], axis=1))
        self.qkv_bias = np.concatenate([q[1], k[1], v[1]])
        self.attn_out, self.attn_out_bias = _linear(state, f"{p}attention.output.dense", HIDDEN, HIDDEN)
        self.attn_norm = _norm(state, f"{p}attention.output.LayerNorm")
        self.inter, self.inter_bias = _linear(state, f"{p}intermediate.dense", HIDDEN, INTERMEDIATE)
        self.out, self.out_bias = _linear(state, f"{p}output.dense", INTERMEDIATE, HIDDEN)
        self.out_norm = _norm(state, f"{p}output.LayerNorm")


class Weights:
    """Every tensor the encoder uses, checked; ValueError names the first that is missing or misshapen."""

    def __init__(self, state: dict[str, np.ndarray]):
        self.words = _tensor(state, "embeddings.word_embeddings.weight", (VOCAB, HIDDEN))
        self.positions = _tensor(state, "embeddings.position_embeddings.weight", (POSITIONS, HIDDEN))
        # one segment only: every token has type 0
        self.type0 = _tensor(state, "embeddings.token_type_embeddings.weight", (2, HIDDEN))[0]
        self.embed_norm = _norm(state, "embeddings.LayerNorm")
        self.layers = [Layer(state, i) for i in range(LAYERS)]
        if not all(np.isfinite(t).all() for t in (self.words, self.positions, *(l.qkv for l in self.layers))):
            raise ValueError("the weights hold NaN or infinite values")

    def embed(self, ids: np.ndarray) -> np.ndarray:
        """(n, L) token ids -> (n, L, 384) normalised input embeddings."""
        x = self.words[ids] + self.positions[: ids.shape[1]] + self.type0
        return layer_norm(x, *self.embed_norm)


def _tensor(state: dict, name: str, shape: tuple) -> np.ndarray:
    try:
        value = state[name]
    except KeyError:
        raise ValueError(f"no tensor {name}") from None
    if tuple(value.shape) != shape:
        raise ValueError(f"{name} has shape {tuple(value.shape)}, not {shape}")
    return np.ascontiguousarray(value, dtype=np.float32)


def _linear(state: dict, name: str, n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    weight = _tensor(state, f"{name}.weight", (n_out, n_in))
    return np.ascontiguousarray(weight.T), _tensor(state, f"{name}.bias", (n_out,))


def _norm(state: dict, name: str) -> tuple[np.ndarray, np.ndarray]:
    return _tensor(state, f"{name}.weight", (HIDDEN,)), _tensor(state, f"{name}.bias", (HIDDEN,))


def layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(var + LN_EPS) * gain + bias


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The mean of each text's token states over its real tokens (not padding), L2-normalised."""
    m = mask[..., None].astype(np.float32)
    pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


def build(weights: Weights, graph_file=None):
    """The fastest encoder this installation can run; graph_file, when given, keeps the ONNX graph
    between runs (building it imports `onnx`, which costs more than the rest of loading)."""
    try:
        return OnnxEncoder.cached(weights, graph_file) if graph_file else OnnxEncoder(graph(weights))
    except ImportError:
        return NumpyEncoder(weights)


class NumpyEncoder:
    """(n, L, 384) embeddings and an (n, L) mask of real tokens -> (n, L, 384) token states."""

    backend = "numpy"

    def __init__(self, weights: Weights):
        from scipy.special import erf          # GELU as BERT defines it, with the exact error function
        self.erf = erf
        self.layers = weights.layers

    def __call__(self, x: np.ndarray, mask: np.ndarray) -> np.ndarray:
        n, length, _ = x.shape
        bias = np.where(mask[:, None, None, :] > 0, 0.0, MASKED).astype(np.float32)
        scale = np.float32(1.0 / np.sqrt(HEAD_SIZE))
        for layer in self.layers:
            qkv = x @ layer.qkv + layer.qkv_bias
            heads = qkv.reshape(n, length, 3, HEADS, HEAD_SIZE).transpose(2, 0, 3, 1, 4)
            q, k, v = heads[0], heads[1], heads[2]             # each (n, heads, L, head size)
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores -= scores.max(axis=-1, keepdims=True)
            weights = np.exp(scores)
            weights /= weights.sum(axis=-1, keepdims=True)
            context = (weights @ v).transpose(0, 2, 1, 3).reshape(n, length, HIDDEN)
            x = layer_norm(context @ layer.attn_out + layer.attn_out_bias + x, *layer.attn_norm)
            inner = x @ layer.inter + layer.inter_bias
            inner = 0.5 * inner * (1.0 + self.erf(inner * np.float32(1 / np.sqrt(2.0))))
            x = layer_norm(inner @ layer.out + layer.out_bias + x, *layer.out_norm)
        return x.astype(np.float32)


class OnnxEncoder:
    """The same encoder layers as an ONNX graph (see graph()) on ONNX Runtime, one thread per call."""

    backend = "onnxruntime"

    def __init__(self, model: bytes | str):
        import onnxruntime
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])

    @classmethod
    def cached(cls, weights: Weights, graph_file) -> "OnnxEncoder":
        """The graph from graph_file, made there (atomically) when it is missing or unreadable."""
        import os
        import tempfile
        try:
            return cls(str(graph_file))
        except ImportError:
            raise
        except Exception:             # missing or damaged: ONNX Runtime raises its own types
            pass
        model = graph(weights)
        try:
            os.makedirs(os.path.dirname(graph_file), exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".graph-", dir=os.path.dirname(graph_file))
            with os.fdopen(fd, "wb") as f:
                f.write(model)
            os.replace(tmp, graph_file)   # atomic: another process may be building it too
        except OSError:
            pass                          # no cache this time; the graph in memory still runs
        return cls(model)

    def __call__(self, x: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"embeddings": np.ascontiguousarray(x, dtype=np.float32),
                                       "mask": np.ascontiguousarray(mask, dtype=np.float32)})[0]


def graph(weights: Weights) -> bytes:
    """The encoder layers as a serialised ONNX model: inputs embeddings (n, L, 384) and mask (n, L)
    of real tokens, output states (n, L, 384)."""
    from onnx import TensorProto, helper, numpy_helper
    inits = []
    nodes = []

    def const(name: str, value) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attrs) -> str:
        nodes.append(helper.make_node(op, inputs, [output], **attrs))
        return output

    const("heads_shape", np.array([0, 0, HEADS, HEAD_SIZE], np.int64))
    const("hidden_shape", np.array([0, 0, HIDDEN], np.int64))
    const("qkv_split", np.array([HIDDEN, HIDDEN, HIDDEN], np.int64))
    const("scale", np.array(1.0 / np.sqrt(HEAD_SIZE), np.float32))
    const("one", np.array(1.0, np.float32))
    const("half", np.array(0.5, np.float32))
    const("masked", np.array(MASKED, np.float32))
    const("inv_sqrt2", np.array(1.0 / np.sqrt(2.0), np.float32))
    const("mask_axes", np.array([1, 2], np.int64))
    # (n, L) mask of real tokens -> (n, 1, 1, L) score bias: 0 for tokens, MASKED for padding
    node("Sub", ["one", "mask"], "padding")
    node("Mul", ["padding", "masked"], "padding_bias")
    node("Unsqueeze", ["padding_bias", "mask_axes"], "score_bias")
    x = "embeddings"
    for i, layer in enumerate(weights.layers):
        p = f"l{i}_"
        qkv = node("Add", [node("MatMul", [x, const(p + "qkv_w", layer.qkv)], p + "qkv_mm"),
                           const(p + "qkv_b", layer.qkv_bias)], p + "qkv")
        nodes.append(helper.make_node("Split", [qkv, "qkv_split"], [p + "q", p + "k", p + "v"], axis=2))
        q = node("Transpose", [node("Reshape", [p + "q", "heads_shape"], p + "q4")], p + "qt", perm=[0, 2, 1, 3])
        k = node("Transpose", [node("Reshape", [p + "k", "heads_shape"], p + "k4")], p + "kt", perm=[0, 2, 3, 1])
        v = node("Transpose", [node("Reshape", [p + "v", "heads_shape"], p + "v4")], p + "vt", perm=[0, 2, 1, 3])
        scores = node("Add", [node("Mul", [node("MatMul", [q, k], p + "qk"), "scale"], p + "scaled"),
                              "score_bias"], p + "scores")
        probs = node("Softmax", [scores], p + "probs", axis=-1)
        context = node("Reshape", [node("Transpose", [node("MatMul", [probs, v], p + "ctx4")], p + "ctxt",
                                        perm=[0, 2, 1, 3]), "hidden_shape"], p + "ctx")
        attn = node("Add", [node("MatMul", [context, const(p + "ao_w", layer.attn_out)], p + "ao_mm"),
                            const(p + "ao_b", layer.attn_out_bias)], p + "ao")
        x = _norm_node(node, const, node("Add", [attn, x], p + "res1"), layer.attn_norm, p + "ln1")
        inner = node("Add", [node("MatMul", [x, const(p + "i_w", layer.inter)], p + "i_mm"),
                             const(p + "i_b", layer.inter_bias)], p + "inner")
        erf = node("Erf", [node("Mul", [inner, "inv_sqrt2"], p + "i_s")], p + "erf")
        gelu = node("Mul", [node("Mul", [inner, node("Add", [erf, "one"], p + "erf1")], p + "g1"), "half"],
                    p + "gelu")
        out = node("Add", [node("MatMul", [gelu, const(p + "o_w", layer.out)], p + "o_mm"),
                           const(p + "o_b", layer.out_bias)], p + "out")
        x = _norm_node(node, const, node("Add", [out, x], p + "res2"), layer.out_norm, p + "ln2")
    node("Identity", [x], "states")
    onnx_graph = helper.make_graph(
        nodes, "minilm_encoder",
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["n", "length", HIDDEN]),
         helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["n", "length"])],
        [helper.make_tensor_value_info("states", TensorProto.FLOAT, ["n", "length", HIDDEN])], inits)
    model = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=8)
    return model.SerializeToString()


def _norm_node(node, const, x: str, norm: tuple[np.ndarray, np.ndarray], name: str) -> str:
    return node("LayerNormalization", [x, const(name + "_g", norm[0]), const(name + "_b", norm[1])],
                name, axis=-1, epsilon=LN_EPS)
