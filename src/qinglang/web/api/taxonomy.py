"""GET /taxonomy: categories, departments and compliance violations."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from qinglang.taxonomy import get_taxonomy
from qinglang.web.schemas.taxonomy import TaxonomyPublic

router = APIRouter(tags=["taxonomy"])


@router.get("/taxonomy", response_model=TaxonomyPublic, summary="The harm taxonomy")
def read_taxonomy() -> dict[str, Any]:
    return get_taxonomy().to_dict()
