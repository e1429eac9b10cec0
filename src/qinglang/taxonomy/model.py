"""Typed records for the taxonomy and the loader that validates the data files."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from qinglang.package_data import read_data


class TaxonomyError(ValueError):
    """The taxonomy data files are inconsistent (unknown department, duplicate code...)."""


@dataclass(frozen=True, slots=True)
class Department:
    code: str
    name: str
    full_name: str

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "full_name": self.full_name}


@dataclass(frozen=True, slots=True)
class Category:
    """A harm category content can fall in, with the departments that own it."""

    code: str
    name: str
    description: str
    source: str
    lead: str
    co: tuple[str, ...]
    review: float
    block: float
    # Scenes in which the category is checked; empty means every scene.
    scenes: tuple[str, ...] = ()
    # False for page-level findings (pop-ups) that text alone never produces.
    text_detectable: bool = True

    def applies_to(self, scene: str) -> bool:
        return not self.scenes or scene in self.scenes

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "lead": self.lead,
            "co": list(self.co),
            "thresholds": {"review": self.review, "block": self.block},
            "scenes": list(self.scenes),
            "text_detectable": self.text_detectable,
        }


@dataclass(frozen=True, slots=True)
class Violation:
    """A compliance violation: a case ground without a harmful text."""

    code: str
    name: str
    lead: str
    co: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "lead": self.lead, "co": list(self.co)}


@dataclass(frozen=True)
class Taxonomy:
    departments: dict[str, Department]
    categories: dict[str, Category]
    violations: dict[str, Violation] = field(default_factory=dict)

    def category(self, code: str) -> Category:
        try:
            return self.categories[code]
        except KeyError:
            raise KeyError(f"unknown category {code!r}") from None

    def ground(self, code: str) -> Category | Violation | None:
        """A case ground: a harm category or a compliance violation (None when neither)."""
        return self.categories.get(code) or self.violations.get(code)

    def ground_name(self, code: str) -> str:
        """The Chinese name of a case ground; the code itself when it is unknown."""
        row = self.ground(code)
        return row.name if row is not None else code

    def to_dict(self) -> dict[str, Any]:
        return {
            "departments": [d.to_dict() for d in self.departments.values()],
            "categories": [c.to_dict() for c in self.categories.values()],
            "violations": [v.to_dict() for v in self.violations.values()],
        }


def _read(name: str) -> dict[str, Any]:
    return tomllib.loads(read_data("qinglang.taxonomy", name))


def _check_departments(owner: str, lead: str, co: tuple[str, ...], known: dict[str, Any]) -> None:
    for dep in (lead, *co):
        if dep not in known:
            raise TaxonomyError(f"{owner}: unknown department {dep!r}")
    if lead in co:
        raise TaxonomyError(f"{owner}: lead department {lead!r} also listed as cooperating")


def load_taxonomy() -> Taxonomy:
    """Read and validate the data files (no caching; see `get_taxonomy`)."""
    departments: dict[str, Department] = {}
    for row in _read("departments.toml")["department"]:
        dep = Department(code=row["code"], name=row["name"], full_name=row["full_name"])
        if dep.code in departments:
            raise TaxonomyError(f"duplicate department {dep.code!r}")
        departments[dep.code] = dep

    categories: dict[str, Category] = {}
    for row in _read("categories.toml")["category"]:
        cat = Category(
            code=row["code"],
            name=row["name"],
            description=row["description"],
            source=row["source"],
            lead=row["lead"],
            co=tuple(row.get("co", ())),
            review=float(row["review"]),
            block=float(row["block"]),
            scenes=tuple(row.get("scenes", ())),
            text_detectable=bool(row.get("text_detectable", True)),
        )
        if cat.code in categories:
            raise TaxonomyError(f"duplicate category {cat.code!r}")
        _check_departments(f"category {cat.code}", cat.lead, cat.co, departments)
        if not 0.0 < cat.review <= cat.block <= 1.0:
            raise TaxonomyError(f"category {cat.code}: need 0 < review <= block <= 1")
        categories[cat.code] = cat

    violations: dict[str, Violation] = {}
    for row in _read("violations.toml")["violation"]:
        vio = Violation(
            code=row["code"], name=row["name"], lead=row["lead"], co=tuple(row.get("co", ()))
        )
        if vio.code in violations or vio.code in categories:
            raise TaxonomyError(f"duplicate code {vio.code!r}")
        _check_departments(f"violation {vio.code}", vio.lead, vio.co, departments)
        violations[vio.code] = vio
    return Taxonomy(departments=departments, categories=categories, violations=violations)


@cache
def get_taxonomy() -> Taxonomy:
    """The validated taxonomy, loaded once per process."""
    return load_taxonomy()
