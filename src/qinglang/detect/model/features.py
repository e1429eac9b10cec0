"""Text → L2-normalised TF-IDF over character n-grams, computed with numpy only.

Every text is first put through `normalize_text`, the same view the rule path matches on, so
full-width letters, traditional characters, noise between characters and repeats do not change
the features: a disguised insult looks like the plain one to the model.

N-grams are never built as Python strings. Each character becomes a small integer id (its rank
in the model's alphabet), and an n-gram is the ids packed into one uint64, `bits` bits per
character. The vocabulary is the sorted array of packed keys, so a lookup is `np.searchsorted`
over a whole batch at once. This replaces ~180 string slices and dict lookups per message (the
dominant cost of a Python char-n-gram vectoriser, ~170 µs) with a few vectorised passes, and it
needs neither Python's per-process salted `hash` nor a hashing trick with collisions: packing is
exact. The values equal scikit-learn's `TfidfVectorizer(analyzer="char", sublinear_tf=True,
lowercase=False)` on the normalised text (checked in the tests).

Id 0 separates the texts of a batch (no n-gram may span it) and id 1 stands for any character
outside the alphabet; an n-gram holding id 1 is in no vocabulary, because the alphabet holds
every character of every kept n-gram (a kept n-gram's characters each occur in at least
`min_df` texts, which is the alphabet's own threshold).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from qinglang.detect.normalize import normalize_text

SEPARATOR = "\x00"  # normalisation deletes control characters, so no view contains it
_SEP_ID = 0
_UNKNOWN_ID = 1
_FIRST_ID = 2
_N_CODE_POINTS = 0x110000


@dataclass(frozen=True)
class FeatureConfig:
    """Which n-grams are extracted and how the vocabulary is pruned."""

    min_n: int = 1
    max_n: int = 4
    # An n-gram must occur in at least this many training texts: rarer ones mostly memorise
    # single comments and, measured on dev, cost accuracy as well as space.
    min_df: int = 2
    # Keep at most this many n-grams (highest document frequency first); None = no cap.
    max_features: int | None = None
    # 1 + log(tf) instead of raw counts: a slur repeated five times is not five times worse.
    sublinear_tf: bool = True

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def bits_for(alphabet_size: int) -> int:
    """Bits per character id: ids run from 0 to alphabet_size + 1."""
    return max(1, int(alphabet_size + _FIRST_ID - 1).bit_length())


class CharCoder:
    """Maps the characters of a batch of views to ids and packs their n-grams into keys."""

    def __init__(self, alphabet: str, min_n: int, max_n: int) -> None:
        if not 1 <= min_n <= max_n:
            raise ValueError(f"bad n-gram range {min_n}..{max_n}")
        self.alphabet = alphabet
        self.min_n = min_n
        self.max_n = max_n
        self.bits = bits_for(len(alphabet))
        if self.bits * max_n > 64:
            raise ValueError(
                f"{len(alphabet)} characters × {max_n}-grams do not fit in 64 bits; "
                "raise min_df or lower max_n"
            )
        # A dense code point → id table (2.2 MB) turns the batch into ids with one fancy index.
        dtype = np.uint16 if self.bits <= 16 else np.uint32
        table = np.full(_N_CODE_POINTS, _UNKNOWN_ID, dtype=dtype)
        table[ord(SEPARATOR)] = _SEP_ID
        if alphabet:
            cps = np.frombuffer(alphabet.encode("utf-32-le"), dtype=np.uint32)
            table[cps] = np.arange(_FIRST_ID, _FIRST_ID + len(alphabet), dtype=dtype)
        self._table = table

    def keys(self, views: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(key, row) of every n-gram occurrence in `views` (n-grams over id 1 included)."""
        joined = SEPARATOR.join(views) + SEPARATOR
        # surrogatepass: a lone surrogate (which normalisation already drops) must never raise.
        cps = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        ids = self._table[cps].astype(np.uint64)
        lengths = np.fromiter(map(len, views), dtype=np.int64, count=len(views)) + 1
        rows = np.repeat(np.arange(len(views), dtype=np.int64), lengths)
        nonsep = ids != _SEP_ID
        bits = np.uint64(self.bits)
        out_keys: list[np.ndarray] = []
        out_rows: list[np.ndarray] = []
        key = ids
        valid = nonsep
        for n in range(1, self.max_n + 1):
            if n > 1:
                # Extend each (n-1)-gram starting at i by the character at i + n - 1.
                key = (key[:-1] << bits) | ids[n - 1 :]
                valid = valid[:-1] & nonsep[n - 1 :]
            if n >= self.min_n:
                out_keys.append(key[valid])
                out_rows.append(rows[: len(valid)][valid])
        return np.concatenate(out_keys), np.concatenate(out_rows)

    def decode(self, key: int) -> str:
        """The n-gram a key stands for (for explanations and the artifact's term list)."""
        mask = (1 << self.bits) - 1
        chars = []
        while key:
            chars.append(self.alphabet[(key & mask) - _FIRST_ID])
            key >>= self.bits
        return "".join(reversed(chars))


def normalize_all(texts: Iterable[str]) -> list[str]:
    return [normalize_text(t) for t in texts]


class Vectorizer:
    """A fitted vocabulary (sorted packed keys) with IDF weights."""

    def __init__(self, config: FeatureConfig, alphabet: str, keys: np.ndarray, idf: np.ndarray):
        self.config = config
        self.coder = CharCoder(alphabet, config.min_n, config.max_n)
        self.keys = np.asarray(keys, dtype=np.uint64)
        if len(self.keys) > 1 and not bool(np.all(self.keys[1:] > self.keys[:-1])):
            raise ValueError("vocabulary keys must be strictly increasing")
        self.idf = np.asarray(idf, dtype=np.float64)

    @property
    def alphabet(self) -> str:
        return self.coder.alphabet

    def __len__(self) -> int:
        return len(self.keys)

    def terms(self) -> list[str]:
        """The n-grams in column order."""
        return [self.coder.decode(int(k)) for k in self.keys]

    @classmethod
    def fit(cls, texts: Sequence[str], config: FeatureConfig, batch: int = 4000) -> Vectorizer:
        views = normalize_all(texts)
        # Alphabet: characters in at least min_df texts, in code point order (deterministic).
        char_df: dict[str, int] = {}
        for view in views:
            for ch in set(view):
                char_df[ch] = char_df.get(ch, 0) + 1
        alphabet = "".join(sorted(ch for ch, c in char_df.items() if c >= config.min_df))
        coder = CharCoder(alphabet, config.min_n, config.max_n)
        # Document frequency of every key: distinct (key, row) pairs per batch, then merged.
        parts = []
        for start in range(0, len(views), batch):
            keys, rows = coder.keys(views[start : start + batch])
            pairs = np.unique(np.stack([keys, rows.astype(np.uint64)]), axis=1)
            parts.append(pairs[0])
        all_keys, df = np.unique(np.concatenate(parts), return_counts=True)
        # Drop n-grams over an unknown character (rare by construction) and rare n-grams.
        keep = (df >= config.min_df) & ~_holds_unknown(all_keys, coder)
        all_keys, df = all_keys[keep], df[keep]
        if config.max_features is not None and len(all_keys) > config.max_features:
            # Highest document frequency first, ties broken by key: the same cut every run.
            order = np.lexsort((all_keys, -df))[: config.max_features]
            order.sort()
            all_keys, df = all_keys[order], df[order]
        # Smoothed IDF, as scikit-learn's TfidfVectorizer computes it.
        idf = np.log((1.0 + len(views)) / (1.0 + df)) + 1.0
        return cls(config, alphabet, all_keys, idf)

    def counts_from_views(self, views: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, column, count) of each known n-gram in each view, one entry per pair."""
        keys, rows = self.coder.keys(views)
        if len(self.keys) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        pos = np.searchsorted(self.keys, keys)
        pos[pos == len(self.keys)] = 0
        found = self.keys[pos] == keys
        cols = pos[found]
        rows = rows[found]
        n_cols = len(self.keys)
        pair, tf = np.unique(rows * n_cols + cols, return_counts=True)
        return pair // n_cols, pair % n_cols, tf

    def weights_from_views(self, views: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, column, L2-normalised TF-IDF value) of each non-zero of the batch."""
        rows, cols, tf = self.counts_from_views(views)
        tfw = 1.0 + np.log(tf) if self.config.sublinear_tf else tf.astype(np.float64)
        vals = tfw * self.idf[cols]
        norms = np.sqrt(np.bincount(rows, weights=vals * vals, minlength=len(views)))
        norms[norms == 0.0] = 1.0
        return rows, cols, vals / norms[rows]

    def transform(self, texts: Sequence[str]) -> Any:
        """A scipy CSR matrix (for training; scoring at run time never builds one)."""
        from scipy import sparse  # imported here: the run-time path needs numpy only

        views = normalize_all(texts)
        rows, cols, vals = self.weights_from_views(views)
        return sparse.csr_matrix((vals, (rows, cols)), shape=(len(views), len(self.keys)))


def _holds_unknown(keys: np.ndarray, coder: CharCoder) -> np.ndarray:
    """True for keys with the unknown-character id in any position."""
    bits = np.uint64(coder.bits)
    mask = np.uint64((1 << coder.bits) - 1)
    out = np.zeros(len(keys), dtype=bool)
    rest = keys.copy()
    for _ in range(coder.max_n):
        out |= (rest & mask) == _UNKNOWN_ID
        rest >>= bits
    return out
