"""The abuse model at run time: artifact save/load and `AbuseModel.predict_proba`.

The artifact is an `.npz` (readable by `numpy.load`) holding only plain arrays — no pickle, so
loading a file cannot run code — written with fixed zip timestamps so that the same training
run gives the same bytes. Inference needs numpy alone (the calibrator's `np.interp` / `exp`
included); scikit-learn is used only for training.

Entries:
    keys       uint64  packed character n-grams, strictly increasing (see features.py)
    idf        float32 IDF weight of each n-gram
    coef       float32 linear weight of each n-gram (NB ratios already folded in)
    intercept  float64 (1,)
    alphabet   uint32  code points of the character alphabet, ascending
    calib_x, calib_y float64 calibration parameters (see calibration.py)
    metadata   uint8   UTF-8 JSON: feature config, hyper-parameters, seed, data sha1s, dev metrics
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qinglang.detect.model.calibration import Calibrator
from qinglang.detect.model.features import FeatureConfig, Vectorizer, normalize_all

FORMAT = "qinglang-abuse-model/1"
DEFAULT_PARTS = ("model", "abuse.npz")
# Texts scored per numpy pass: bounds the temporary arrays for huge inputs.
CHUNK = 2048
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


class AbuseModel:
    """Calibrated P(offensive) for Chinese texts. Immutable after construction, hence safe to
    share between threads; pickles as its arrays."""

    def __init__(
        self,
        vectorizer: Vectorizer,
        coef: np.ndarray,
        intercept: float,
        calibrator: Calibrator,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if len(coef) != len(vectorizer):
            raise ValueError(f"{len(coef)} weights for {len(vectorizer)} features")
        self.vectorizer = vectorizer
        self.coef = np.asarray(coef, dtype=np.float32)
        self.intercept = float(intercept)
        self.calibrator = calibrator
        self.metadata = dict(metadata or {})
        # Scoring multiplies in float64; cast once here rather than per batch.
        self._coef64 = self.coef.astype(np.float64)

    # ---- scoring -------------------------------------------------------------------------

    def decision_function(self, texts: Sequence[str]) -> np.ndarray:
        """Raw linear scores (uncalibrated; higher = more offensive)."""
        if isinstance(texts, str):
            raise TypeError("pass a sequence of texts, not one string")
        out = np.empty(len(texts), dtype=np.float64)
        for start in range(0, len(texts), CHUNK):
            views = normalize_all(texts[start : start + CHUNK])
            rows, cols, vals = self.vectorizer.weights_from_views(views)
            dots = np.bincount(rows, weights=vals * self._coef64[cols], minlength=len(views))
            out[start : start + len(views)] = dots + self.intercept
        return out

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated P(offensive) of each text, in [0, 1]."""
        return self.calibrator(self.decision_function(texts))

    def predict(self, texts: Sequence[str], threshold: float = 0.5) -> np.ndarray:
        return (self.predict_proba(texts) >= threshold).astype(np.int64)

    def top_terms(self, text: str, k: int = 5) -> list[tuple[str, float]]:
        """The n-grams that add most to the score of `text` (for explanations)."""
        return self.top_terms_many([text], k)[0]

    def top_terms_many(self, texts: Sequence[str], k: int = 5) -> list[list[tuple[str, float]]]:
        """`top_terms` of many texts, with one vectorised feature pass per chunk."""
        return self.predict_and_explain(texts, k, explain_from=0.0)[1]  # type: ignore[return-value]

    def predict_and_explain(
        self, texts: Sequence[str], k: int = 3, explain_from: float = 0.3
    ) -> tuple[np.ndarray, list[list[tuple[str, float]] | None]]:
        """Calibrated P(offensive) of each text and, where it is at least `explain_from`, the
        `k` n-grams that raised the score most — from one feature pass (the costly part)."""
        probs = np.empty(len(texts), dtype=np.float64)
        terms: list[list[tuple[str, float]] | None] = []
        coder, keys = self.vectorizer.coder, self.vectorizer.keys
        for start in range(0, len(texts), CHUNK):
            views = normalize_all(texts[start : start + CHUNK])
            rows, cols, vals = self.vectorizer.weights_from_views(views)
            contrib = vals * self._coef64[cols]
            raw = np.bincount(rows, weights=contrib, minlength=len(views)) + self.intercept
            chunk = self.calibrator(raw)
            probs[start : start + len(views)] = chunk
            order = np.lexsort((-contrib, rows))  # by text, then strongest contribution first
            firsts = np.searchsorted(rows[order], np.arange(len(views) + 1))
            for i in range(len(views)):
                if chunk[i] < explain_from:
                    terms.append(None)
                    continue
                picked = order[firsts[i] : min(firsts[i] + k, firsts[i + 1])]
                terms.append(
                    [
                        (coder.decode(int(keys[cols[j]])), float(contrib[j]))
                        for j in picked
                        if contrib[j] > 0
                    ]
                )
        return probs, terms

    # ---- persistence ---------------------------------------------------------------------

    def arrays(self) -> dict[str, np.ndarray]:
        vec = self.vectorizer
        meta = {
            "format": FORMAT,
            "features": vec.config.to_dict(),
            "calibration": self.calibrator.kind,
            **self.metadata,
        }
        return {
            "keys": vec.keys.astype(np.uint64),
            "idf": vec.idf.astype(np.float32),
            "coef": self.coef,
            "intercept": np.array([self.intercept], dtype=np.float64),
            "alphabet": np.array([ord(c) for c in vec.alphabet], dtype=np.uint32),
            "calib_x": np.asarray(self.calibrator.x, dtype=np.float64),
            "calib_y": np.asarray(self.calibrator.y, dtype=np.float64),
            "metadata": np.frombuffer(
                json.dumps(meta, sort_keys=True, ensure_ascii=False, indent=1).encode("utf-8"),
                dtype=np.uint8,
            ),
        }

    def to_bytes(self) -> bytes:
        """The artifact's bytes: a deterministic zip of .npy entries (np.load can read it)."""
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, arr in self.arrays().items():
                member = io.BytesIO()
                np.lib.format.write_array(member, np.ascontiguousarray(arr), allow_pickle=False)
                info = zipfile.ZipInfo(name + ".npy", date_time=_ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, member.getvalue(), compresslevel=9)
        return buf.getvalue()

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.to_bytes())
        return path

    @classmethod
    def from_bytes(cls, data: bytes) -> AbuseModel:
        arrays: dict[str, np.ndarray] = {}
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for name in zf.namelist():
                with zf.open(name) as fh:
                    arrays[name.removesuffix(".npy")] = np.lib.format.read_array(
                        io.BytesIO(fh.read()), allow_pickle=False
                    )
        return cls.from_arrays(arrays)

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> AbuseModel:
        meta = json.loads(bytes(arrays["metadata"]).decode("utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} artifact: {meta.get('format')!r}")
        config = FeatureConfig(**meta["features"])
        alphabet = "".join(map(chr, arrays["alphabet"].tolist()))
        vec = Vectorizer(config, alphabet, arrays["keys"], arrays["idf"])
        calibrator = Calibrator(meta["calibration"], arrays["calib_x"], arrays["calib_y"])
        extra = {k: v for k, v in meta.items() if k not in ("format", "features", "calibration")}
        return cls(vec, arrays["coef"], float(arrays["intercept"][0]), calibrator, extra)

    @classmethod
    def load(cls, path: str | Path) -> AbuseModel:
        return cls.from_bytes(Path(path).read_bytes())

    @classmethod
    def load_default(cls) -> AbuseModel:
        """The model shipped in the package (src/qinglang/detect/data/model/abuse.npz)."""
        from qinglang.package_data import data_path

        return cls.from_bytes(data_path("qinglang.detect", *DEFAULT_PARTS).read_bytes())

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickle the artifact's arrays, not the 2 MB code point table the coder rebuilds.
        return (AbuseModel.from_arrays, (self.arrays(),))

    def __repr__(self) -> str:
        return (
            f"AbuseModel({len(self.vectorizer)} n-grams, "
            f"{self.vectorizer.config.min_n}-{self.vectorizer.config.max_n} chars, "
            f"calibration={self.calibrator.kind})"
        )
