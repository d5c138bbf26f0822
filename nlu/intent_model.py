"""A multinomial logistic regression over character n-grams, optionally joined by a dense
sentence embedding. Fitted with scikit-learn; scored with numpy for one text at a time."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.linear_model import LogisticRegression

from nlu.features import CharNgrams


class IntentModel:
    def __init__(
        self,
        *,
        c: float = 30.0,
        ngram_range: tuple[int, int] = (1, 3),
        dense_weight: float = 0.0,
    ) -> None:
        self._c = c
        self._ngrams = CharNgrams(ngram_range)
        self._dense_weight = dense_weight
        self.labels: tuple[str, ...] = ()
        self._coef_sparse = np.zeros((0, 0))
        self._coef_dense = np.zeros((0, 0))
        self._intercept = np.zeros(0)

    @property
    def uses_dense(self) -> bool:
        return self._dense_weight > 0

    def fit(
        self, texts: Sequence[str], labels: Sequence[str], dense: np.ndarray | None = None
    ) -> IntentModel:
        """Fit on intent texts; `dense` (n, d) is required iff the model uses embeddings."""
        matrix = self._ngrams.fit_transform(texts)
        if self.uses_dense:
            if dense is None:
                raise ValueError("this model needs dense sentence embeddings")
            matrix = hstack([matrix, csr_matrix(dense * self._dense_weight)]).tocsr()
        model = LogisticRegression(C=self._c, max_iter=5000)
        model.fit(matrix, list(labels))
        self.labels = tuple(str(label) for label in model.classes_)
        coef, intercept = model.coef_, model.intercept_
        if len(self.labels) == 2:  # one logit z: softmax over (0, z) is sigmoid(z)
            coef = np.vstack([np.zeros_like(coef), coef])
            intercept = np.array([0.0, intercept[0]])
        self._coef_sparse = np.ascontiguousarray(coef[:, : self._ngrams.size])
        self._coef_dense = np.ascontiguousarray(coef[:, self._ngrams.size :])
        self._intercept = intercept
        return self

    def probabilities(self, text: str, dense: np.ndarray | None = None) -> np.ndarray:
        """Class probabilities (in `labels` order) for one intent text."""
        idx, weights = self._ngrams.transform_one(text)
        scores = self._intercept + self._coef_sparse[:, idx] @ weights
        if self.uses_dense:
            if dense is None:
                raise ValueError("this model needs a dense sentence embedding")
            scores = scores + self._coef_dense @ (dense * self._dense_weight)
        scores = scores - scores.max()
        exp = np.exp(scores)
        return exp / exp.sum()
