"""The shipped word lists and test corpora are well formed and consistent with the taxonomy.

Data checks only (no engine): lexicons under qinglang/detect/data/lexicon, the allow-list, the
context cues, and the harmful/benign corpora under tests/data that drive the recall and
false-positive measurements.
"""

from __future__ import annotations

import json
import tomllib
from collections import Counter
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from qinglang.taxonomy import get_taxonomy

DATA = files("qinglang.detect").joinpath("data")
LEXICON_DIR = DATA.joinpath("lexicon")
TEST_DATA = Path(__file__).parents[1] / "data"

KNOWN_FLAGS = {"pinyin", "initials", "homophone", "topic", "always"}
TERM_KEYS = {"text", "weight", "flags", "variants", "note"}
CUE_GROUPS = {"report", "regulation", "education", "news"}
BENIGN_KINDS = {"chat", "regulation", "news", "education", "report", "quote_doc"}
MIN_HARMFUL_PER_CATEGORY = 12
MIN_BENIGN = 600
MIN_CUES_PER_GROUP = 20


def _text_categories() -> list[str]:
    return sorted(c.code for c in get_taxonomy().categories.values() if c.text_detectable)


@cache
def _lexicons() -> dict[str, dict[str, Any]]:
    """File stem → parsed TOML, for every lexicon file shipped."""
    out = {}
    for entry in LEXICON_DIR.iterdir():
        if entry.name.endswith(".toml"):
            out[entry.name.removesuffix(".toml")] = tomllib.loads(entry.read_text("utf-8"))
    return out


@cache
def _terms_by_category() -> dict[str, set[str]]:
    return {
        data["category"]: {t["text"] for t in data.get("term", [])} for data in _lexicons().values()
    }


def _all_surface_forms() -> set[str]:
    forms: set[str] = set()
    for data in _lexicons().values():
        for term in data.get("term", []):
            forms.add(term["text"])
            forms.update(term.get("variants", []))
    return forms


def _read_jsonl(name: str) -> list[dict[str, Any]]:
    with open(TEST_DATA / name, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def test_every_text_category_has_a_lexicon() -> None:
    missing = set(_text_categories()) - set(_lexicons())
    assert not missing, f"no lexicon file for {sorted(missing)}"


@pytest.mark.parametrize("stem", sorted(_lexicons()))
def test_lexicon_file_names_its_category(stem: str) -> None:
    data = _lexicons()[stem]
    categories = get_taxonomy().categories
    assert data.get("category") == stem, f"{stem}.toml declares {data.get('category')!r}"
    assert stem in categories, f"{stem} is not a category"
    assert categories[stem].text_detectable, f"{stem} is not detectable in text"


@pytest.mark.parametrize("stem", sorted(_lexicons()))
def test_lexicon_terms_are_well_formed(stem: str) -> None:
    terms = _lexicons()[stem].get("term", [])
    assert len(terms) >= 15, f"{stem}: only {len(terms)} terms"
    seen: Counter[str] = Counter()
    for term in terms:
        text = term.get("text")
        assert isinstance(text, str) and text == text.strip(), f"{stem}: bad text {text!r}"
        assert set(term) <= TERM_KEYS, f"{stem}/{text}: unknown keys {set(term) - TERM_KEYS}"
        assert len(text) >= 2, f"{stem}: single-character term {text!r}"
        weight = term.get("weight")
        assert isinstance(weight, int | float), f"{stem}/{text}: weight {weight!r}"
        assert 0 < weight <= 1, f"{stem}/{text}: weight {weight} not in (0, 1]"
        flags = term.get("flags", [])
        assert set(flags) <= KNOWN_FLAGS, f"{stem}/{text}: unknown flags {set(flags) - KNOWN_FLAGS}"
        for variant in term.get("variants", []):
            assert len(variant.strip()) >= 2, f"{stem}/{text}: single-character variant"
        seen[text] += 1
    duplicates = [t for t, n in seen.items() if n > 1]
    assert not duplicates, f"{stem}: duplicate terms {duplicates}"


def test_allow_phrases_each_contain_a_term() -> None:
    data = tomllib.loads(DATA.joinpath("allow.toml").read_text("utf-8"))
    phrases = data["allow"]
    assert len(phrases) >= 30
    forms = _all_surface_forms()
    useless = [p for p in phrases if not any(f in p for f in forms)]
    assert not useless, f"allow phrases that contain no lexicon term: {useless}"


def test_context_cues_have_the_four_groups() -> None:
    cues = tomllib.loads(DATA.joinpath("context.toml").read_text("utf-8"))["cues"]
    assert set(cues) == CUE_GROUPS
    for group, phrases in cues.items():
        assert len(phrases) >= MIN_CUES_PER_GROUP, f"{group}: {len(phrases)} cues"
        assert all(isinstance(p, str) and p.strip() for p in phrases), group


def test_harmful_corpus_covers_every_category_with_real_terms() -> None:
    rows = _read_jsonl("harmful.jsonl")
    terms = _terms_by_category()
    counts = Counter(r["category"] for r in rows)
    for code in _text_categories():
        assert counts[code] >= MIN_HARMFUL_PER_CATEGORY, f"{code}: {counts[code]} rows"
    for row in rows:
        assert set(row) == {"category", "text", "term"}, row
        assert row["term"] in row["text"], row
        assert row["term"] in terms.get(row["category"], set()), (
            f"{row['term']!r} is not a term of {row['category']}"
        )


def test_benign_corpus_size_and_kinds() -> None:
    rows = _read_jsonl("benign.jsonl")
    assert len(rows) >= MIN_BENIGN
    kinds = Counter(r["kind"] for r in rows)
    assert set(kinds) <= BENIGN_KINDS, set(kinds) - BENIGN_KINDS
    assert kinds["quote_doc"] >= 100
    assert all(isinstance(r["text"], str) and r["text"].strip() for r in rows)
    assert len({r["text"] for r in rows}) == len(rows), "duplicate benign texts"
