"""Lexicons: the project's own per-category term lists, allow-list, and user lexicons.

Built-in files live in `qinglang/detect/data/lexicon/*.toml`. Users add their own files in TOML
or TSV (see docs/lexicons.md); they are merged over the built-in ones at load time, in order:
a later entry for the same (category, term) replaces an earlier one, and weight 0 removes it.

TOML:
    category = "abuse"            # default for the file's terms
    allow = ["某个无害短语"]        # extra allow-list phrases
    [[term]]
    text = "傻逼"
    weight = 0.85
    flags = ["pinyin", "initials", "homophone"]
    variants = ["煞笔"]
TSV (tab-separated; '#' starts a comment; header line optional):
    term  category  weight  flags(comma-separated)  variants(|-separated)
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qinglang.package_data import data_path
from qinglang.taxonomy import get_taxonomy

FLAGS = frozenset({"pinyin", "initials", "homophone", "topic", "always"})
MAX_TERM_CHARS = 64


class LexiconError(ValueError):
    """A lexicon file is malformed; the message names the file and the line or term."""


@dataclass(frozen=True, slots=True)
class Term:
    category: str
    text: str
    weight: float
    flags: frozenset[str] = frozenset()
    variants: tuple[str, ...] = ()
    note: str = ""
    origin: str = "builtin"

    @property
    def topic(self) -> bool:
        return "topic" in self.flags

    @property
    def always(self) -> bool:
        """Context never discounts it: brand names and ad phrases of spam are harmful even
        inside a regulatory sentence (002 carries casino brands injected into one)."""
        return "always" in self.flags


@dataclass
class Lexicon:
    """Terms keyed by (category, text), plus allow-list phrases and the files they came from.

    `removed` records weight-0 entries, so that merging a user file can delete built-in terms.
    """

    terms: dict[tuple[str, str], Term] = field(default_factory=dict)
    allow: set[str] = field(default_factory=set)
    sources: list[str] = field(default_factory=list)
    removed: set[tuple[str, str]] = field(default_factory=set)

    def add(self, term: Term) -> None:
        key = (term.category, term.text)
        if term.weight == 0:
            self.terms.pop(key, None)
            self.removed.add(key)
        else:
            self.terms[key] = term
            self.removed.discard(key)

    def merge(self, other: Lexicon) -> None:
        for term in other.terms.values():
            self.add(term)
        for key in other.removed:
            self.terms.pop(key, None)
        self.allow |= other.allow
        self.sources += other.sources

    def by_category(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for cat, _ in self.terms:
            counts[cat] = counts.get(cat, 0) + 1
        return counts


def _make_term(
    where: str, category: Any, text: Any, weight: Any, flags: Any, variants: Any, note: Any
) -> Term:
    categories = get_taxonomy().categories
    if not isinstance(category, str) or category not in categories:
        raise LexiconError(f"{where}: unknown category {category!r}")
    if not categories[category].text_detectable:
        raise LexiconError(f"{where}: category {category!r} is not detectable in text")
    if not isinstance(text, str) or not text.strip():
        raise LexiconError(f"{where}: term text must be a non-empty string")
    text = text.strip()
    if len(text) > MAX_TERM_CHARS:
        raise LexiconError(f"{where}: term {text!r} is longer than {MAX_TERM_CHARS} characters")
    try:
        w = float(weight)
    except (TypeError, ValueError):
        raise LexiconError(f"{where}: term {text!r}: weight {weight!r} is not a number") from None
    if not 0.0 <= w <= 1.0:
        raise LexiconError(f"{where}: term {text!r}: weight must be between 0 and 1")
    if isinstance(flags, str):
        flags = [f for f in flags.replace(",", " ").split() if f]
    if not isinstance(flags, list | tuple) or not all(isinstance(f, str) for f in flags):
        raise LexiconError(f"{where}: term {text!r}: flags must be a list of strings")
    unknown = set(flags) - FLAGS
    if unknown:
        raise LexiconError(
            f"{where}: term {text!r}: unknown flags {sorted(unknown)}; known: {sorted(FLAGS)}"
        )
    if isinstance(variants, str):
        variants = [v for v in variants.split("|") if v.strip()]
    if not isinstance(variants, list | tuple) or not all(isinstance(v, str) for v in variants):
        raise LexiconError(f"{where}: term {text!r}: variants must be a list of strings")
    too_long = [v for v in variants if len(v) > MAX_TERM_CHARS]
    if too_long:
        raise LexiconError(f"{where}: term {text!r}: variant {too_long[0]!r} is too long")
    return Term(
        category=category,
        text=text,
        weight=w,
        flags=frozenset(flags),
        variants=tuple(v.strip() for v in variants if v.strip()),
        note=str(note or ""),
        origin=where.split(":")[0],
    )


def parse_toml(raw: str, name: str) -> Lexicon:
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise LexiconError(f"{name}: not valid TOML: {exc}") from None
    lex = Lexicon(sources=[name])
    default_cat = data.get("category")
    allow = data.get("allow", [])
    if not isinstance(allow, list) or not all(isinstance(p, str) for p in allow):
        raise LexiconError(f"{name}: 'allow' must be a list of strings")
    lex.allow.update(p.strip() for p in allow if p.strip())
    terms = data.get("term", [])
    if not isinstance(terms, list):
        raise LexiconError(f"{name}: 'term' must be an array of tables ([[term]])")
    for i, row in enumerate(terms, 1):
        if not isinstance(row, dict):
            raise LexiconError(f"{name}: term #{i} is not a table")
        unknown = set(row) - {"text", "category", "weight", "flags", "variants", "note"}
        if unknown:
            raise LexiconError(f"{name}: term #{i}: unknown keys {sorted(unknown)}")
        lex.add(
            _make_term(
                f"{name}: term #{i}",
                row.get("category", default_cat),
                row.get("text"),
                row.get("weight", 0.5),
                row.get("flags", []),
                row.get("variants", []),
                row.get("note", ""),
            )
        )
    return lex


def parse_tsv(raw: str, name: str) -> Lexicon:
    lex = Lexicon(sources=[name])
    for lineno, line in enumerate(raw.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cols = line.split("\t")
        if lineno == 1 and cols[0].strip().lower() in {"term", "text"}:
            continue  # header
        if len(cols) < 2:
            raise LexiconError(f"{name}: line {lineno}: need at least term and category")
        cols += [""] * (5 - len(cols))
        text, category, weight, flags, variants = (c.strip() for c in cols[:5])
        lex.add(
            _make_term(f"{name}: line {lineno}", category, text, weight or 0.5, flags, variants, "")
        )
    return lex


def load_lexicon_file(path: str | Path) -> Lexicon:
    """Load one user lexicon (.toml or .tsv/.txt); raises LexiconError naming file and line."""
    p = Path(path)
    try:
        raw = p.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise LexiconError(f"{p}: file not found") from None
    except UnicodeDecodeError as exc:
        raise LexiconError(f"{p}: not UTF-8 (byte {exc.start})") from None
    except OSError as exc:
        raise LexiconError(f"{p}: cannot read: {exc.strerror}") from None
    if p.suffix.lower() == ".toml":
        return parse_toml(raw, str(p))
    if p.suffix.lower() in {".tsv", ".txt"}:
        return parse_tsv(raw, str(p))
    raise LexiconError(f"{p}: unknown lexicon format (use .toml or .tsv)")


def builtin_lexicon() -> Lexicon:
    """The project's own lexicons and allow-list, shipped with the package."""
    lex = Lexicon()
    folder = data_path("qinglang.detect", "lexicon")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            lex.merge(parse_toml(entry.read_text("utf-8"), f"builtin/{entry.name}"))
    allow_file = data_path("qinglang.detect", "allow.toml")
    if allow_file.is_file():
        lex.merge(parse_toml(allow_file.read_text("utf-8"), "builtin/allow.toml"))
    return lex


def build_lexicon(paths: Sequence[str | Path] | Iterable[str | Path] = ()) -> Lexicon:
    """Built-in lexicon with user files merged over it, in order."""
    lex = builtin_lexicon()
    for path in paths:
        lex.merge(load_lexicon_file(path))
    return lex
