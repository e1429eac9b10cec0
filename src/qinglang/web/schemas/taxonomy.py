"""The harm taxonomy as served by GET /api/v1/taxonomy (`Taxonomy.to_dict()`)."""

from __future__ import annotations

from pydantic import BaseModel


class DepartmentPublic(BaseModel):
    code: str
    name: str
    full_name: str


class ThresholdsPublic(BaseModel):
    review: float
    block: float


class CategoryPublic(BaseModel):
    code: str
    name: str
    description: str
    source: str
    lead: str
    co: list[str]
    thresholds: ThresholdsPublic
    scenes: list[str]
    text_detectable: bool


class ViolationPublic(BaseModel):
    code: str
    name: str
    lead: str
    co: list[str]


class TaxonomyPublic(BaseModel):
    departments: list[DepartmentPublic]
    categories: list[CategoryPublic]
    violations: list[ViolationPublic]
