"""Character tables behind normalisation, built once per process.

Every table is a `str.translate` mapping so the hot path runs in C:

* `main`: NFKC (full-width, styled and circled digits and letters), lower case, traditional →
  simplified (OpenCC, character level), emoji stand-ins, look-alike letters, and deletion of
  noise characters (spaces, symbols, most punctuation, zero-width and format characters,
  combining marks). Sentence punctuation and line breaks are kept: they separate sentences, and
  a match across "他很傻。逼着他" would be a false positive.
* `pattern`: a strictly one-to-one mapping (digits, letters, case) for the pattern detectors,
  so that offsets in the pattern view are offsets in the original text.
* `pinyin`: Chinese characters → one private-use character per toneless pinyin syllable, applied
  to the main view; used to match homophones of terms that opt in.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import cache

from qinglang.package_data import read_data

# Characters kept in the main view although they are punctuation: they end clauses/sentences.
BOUNDARY_CHARS = frozenset("。，、；：？！,;:?!\n")
# Characters that end a sentence (used for context cues).
SENTENCE_END_CHARS = frozenset("。？！?!;；\n")
# First private-use code point used for pinyin syllables in the pinyin view.
PINYIN_BASE = 0xE000

# Code-point ranges whose characters are considered at table-build time. Everything outside
# them passes through unchanged (and so is neither noise nor normalised).
_RANGES = (
    (0x0000, 0x3400),  # Latin, Greek, Cyrillic, punctuation, symbols, CJK symbols, kana...
    (0x3400, 0xA000),  # CJK extension A and unified ideographs (traditional → simplified)
    (0xA000, 0xE000),  # Yi, Hangul, surrogates (lone surrogates are noise)
    (0xF900, 0x10000),  # compatibility ideographs, presentation forms, full-width forms
    (0x1D400, 0x1D800),  # mathematical alphanumeric symbols (𝐀, 𝟏)
    (0x1F000, 0x1FB00),  # enclosed alphanumerics, emoji, pictographs
    (0xE0000, 0xE0080),  # tag characters (invisible)
)


def is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2FFFF


def _is_kept(ch: str) -> bool:
    """True when a single normalised character stays in the main view."""
    if ch in BOUNDARY_CHARS:
        return True
    cat = unicodedata.category(ch)
    # Letters (any script) and digits stay; everything else — spaces, punctuation, symbols,
    # marks, control/format/unassigned/surrogates — is noise between characters.
    return cat[0] == "L" or cat == "Nd"


def read_standins() -> tuple[dict[str, str], dict[str, str]]:
    """(emoji stand-ins, look-alike letters) from data/standins.toml."""
    data = tomllib.loads(read_data("qinglang.detect", "standins.toml"))
    return dict(data["standins"]), dict(data["confusables"])


def _t2s_chars(chars: list[str]) -> dict[str, str]:
    """Character-level traditional → simplified with OpenCC, in one call."""
    import opencc

    conv = opencc.OpenCC("t2s")
    joined = "\n".join(chars)
    out = conv.convert(joined).split("\n")
    if len(out) != len(chars):  # defensive: fall back to one call per character
        out = [conv.convert(c) for c in chars]
    table = {c: o for c, o in zip(chars, out, strict=True) if o != c and len(o) == 1}
    # OpenCC maps a few characters to another traditional form (薴 → 苧, then 苧 → 苎): follow
    # each chain to its end so that normalising is idempotent.
    for c, o in table.items():
        seen = {c}
        while o in table and o not in seen:
            seen.add(o)
            o = table[o]
        table[c] = o
    return table


# Dense list tables cover code points below this; str.translate looks a list up without
# hashing and, unlike a sparse dict, without raising KeyError for every unmapped character.
DENSE_LIMIT = 0x20000


def _dense(table: dict[int, str]) -> list[str]:
    out = [chr(cp) for cp in range(DENSE_LIMIT)]
    for cp, value in table.items():
        if cp < DENSE_LIMIT:
            out[cp] = value
    return out


@dataclass(frozen=True)
class CharTables:
    main: dict[int, str]
    pattern: dict[int, str]
    pinyin: dict[int, str]
    # Syllable text for each private-use character of the pinyin view.
    syllables: dict[str, str]
    # Dense copies of the tables for str.translate (see DENSE_LIMIT); `main_high` holds the
    # main-table entries at or above the limit (tag characters), applied only when present.
    main_dense: list[str] = field(default_factory=list)
    main_high: dict[int, str] = field(default_factory=dict)
    pattern_dense: list[str] = field(default_factory=list)
    pinyin_dense: list[str] = field(default_factory=list)
    # "1" for a character the main table keeps, "0" for one it removes (dense, as above).
    kept_marks: list[str] = field(default_factory=list)


def _nfkc_lower(ch: str, confusables: dict[str, str]) -> str:
    ch = confusables.get(ch, ch)
    out = unicodedata.normalize("NFKC", ch).lower()
    return "".join(confusables.get(c, c) for c in out)


def _toneless(reading: str) -> str:
    base = unicodedata.normalize("NFD", reading)
    plain = "".join(c for c in base if not unicodedata.combining(c))
    return plain.replace("ü", "v").replace("u\u0308", "v").lower()


def _build_pinyin() -> tuple[dict[int, str], dict[str, str]]:
    from pypinyin.pinyin_dict import pinyin_dict

    syllable_ids: dict[str, int] = {}
    table: dict[int, str] = {}
    for cp, readings in pinyin_dict.items():
        first = readings.split(",")[0]
        syl = _toneless(first)
        if not syl.isascii() or not syl.isalpha():
            continue
        idx = syllable_ids.setdefault(syl, len(syllable_ids))
        table[cp] = chr(PINYIN_BASE + idx)
    syllables = {chr(PINYIN_BASE + i): s for s, i in syllable_ids.items()}
    return table, syllables


@cache
def char_tables() -> CharTables:
    """Build all tables (≈0.5 s, cached for the process)."""
    standins, confusables = read_standins()
    cjk = [chr(cp) for lo, hi in _RANGES for cp in range(lo, hi) if is_cjk(chr(cp))]
    t2s = _t2s_chars(cjk)

    main: dict[int, str] = {}
    pattern: dict[int, str] = {}
    for lo, hi in _RANGES:
        for cp in range(lo, hi):
            ch = chr(cp)
            if ch in standins:
                main[cp] = standins[ch]
                continue
            if ch == "\r" or ch == "\t":
                main[cp] = ""
                continue
            if is_cjk(ch):
                if ch in t2s:
                    main[cp] = t2s[ch]
                continue
            if 0xD800 <= cp <= 0xDFFF:  # lone surrogates: noise, never crash
                main[cp] = ""
                continue
            norm = _nfkc_lower(ch, confusables)
            # At most one character out: the offset map stays a simple filter of the original
            # ("⒈" → "1", "㈱" → "株"; the rare wider expansions such as "ﬁ" keep their first).
            kept = "".join(t2s.get(c, c) for c in norm if _is_kept(c))[:1]
            if kept != ch:
                main[cp] = kept
            # The pattern view maps digits and letters only (full-width, styled, upper case):
            # the detectors match punctuation in its own forms.
            if len(norm) == 1 and norm != ch and norm.isascii() and norm.isalnum():
                pattern[cp] = norm
    # Drop the variation selectors and joiners that emoji sequences carry (already noise via
    # category checks, kept explicit here for clarity of intent).
    for cp in (0x200D, 0xFE0E, 0xFE0F):
        main[cp] = ""
    pinyin, syllables = _build_pinyin()
    return CharTables(
        main,
        pattern,
        pinyin,
        syllables,
        main_dense=_dense(main),
        main_high={cp: v for cp, v in main.items() if cp >= DENSE_LIMIT},
        pattern_dense=_dense(pattern),
        pinyin_dense=_dense(pinyin),
        kept_marks=["1" if out else "0" for out in _dense(main)],
    )


# Characters beyond the dense tables (a regex search is cheaper than max() here).
HIGH_CHARS = re.compile("[\U00020000-\U0010ffff]")


def translate_main(text: str) -> str:
    """`text` through the main table (noise removed, characters normalised; no collapsing)."""
    t = char_tables()
    out = text.translate(t.main_dense)
    if not out.isascii() and HIGH_CHARS.search(out) is not None:
        out = out.translate(t.main_high)
    return out


def translate_pattern(text: str) -> str:
    return text.translate(char_tables().pattern_dense)


def translate_pinyin(view: str) -> str:
    return view.translate(char_tables().pinyin_dense)
