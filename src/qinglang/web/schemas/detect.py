"""Detection requests and verdicts.

The verdict models mirror `Verdict.to_dict()` (qinglang/detect/verdict.py), which is the
stable contract; the API returns that dict as is and these models document it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator
from pydantic_core import PydanticCustomError


def _id_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "string"
    if isinstance(value, int):
        return "integer"
    return None


# Tagged unions give one clear error for a wrong type instead of one per member; the tags
# are dropped from error pointers (web/validation_messages.py).
ItemId = Annotated[
    Annotated[Annotated[str, Field(max_length=256)], Tag("string")]
    | Annotated[int, Tag("integer")],
    Discriminator(
        _id_kind,
        custom_error_type="id_type",
        custom_error_message="id must be a string or an integer",
    ),
]


class DetectItem(BaseModel):
    """One item of a batch, with an id the caller chooses."""

    model_config = ConfigDict(strict=True, extra="forbid")

    id: ItemId | None = Field(
        default=None,
        description="Caller's id, echoed in the result; defaults to the item's 0-based index.",
    )
    text: str = Field(description="Text to check; may be empty.")


def _item_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "plain"
    if isinstance(value, dict | DetectItem):
        return "object"
    return None


ItemInput = Annotated[
    Annotated[str, Tag("plain")] | Annotated[DetectItem, Tag("object")],
    Discriminator(
        _item_kind,
        custom_error_type="item_type",
        custom_error_message="item must be a string or an object with a text field",
    ),
]


class DetectRequest(BaseModel):
    """Either `text` (one verdict) or `items` (a list of results), not both."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"text": "你就是个傻逼", "scene": "general"},
                {
                    "items": ["今天天气很好", {"id": "c-2", "text": "你就是个傻逼"}],
                    "scene": "children",
                    "explain": True,
                },
            ]
        },
    )

    text: str | None = Field(default=None, description="One text to check; may be empty.")
    items: list[ItemInput] | None = Field(
        default=None,
        min_length=1,
        description="Texts to check in one request: strings or {id, text} objects.",
    )
    scene: str = Field(
        default="general",
        description="Strictness profile: general, children, learning or live_chat.",
    )
    explain: bool = Field(
        default=False, description="Add hit weights, notes and the scene to each verdict."
    )

    @model_validator(mode="after")
    def _text_xor_items(self) -> DetectRequest:
        if self.text is None and self.items is None:
            raise PydanticCustomError("text_or_items", "either text or items is required")
        if self.text is not None and self.items is not None:
            raise PydanticCustomError("text_and_items", "give text or items, not both")
        return self

    def item_pairs(self) -> list[tuple[str | int, str]]:
        """(id, text) for every item; plain strings get their 0-based index as id."""
        pairs: list[tuple[str | int, str]] = []
        for index, item in enumerate(self.items or ()):
            if isinstance(item, str):
                pairs.append((index, item))
            else:
                pairs.append((item.id if item.id is not None else index, item.text))
        return pairs


class HitPublic(BaseModel):
    category: str
    start: int = Field(description="Code-point offset into the original text.")
    end: int
    match: str = Field(description="original_text[start:end]")
    term: str = Field(description="The lexicon term or pattern that matched.")
    source: Literal["lexicon", "pattern", "model"]
    weight: float | None = Field(default=None, description="Only with explain.")
    notes: list[str] | None = Field(default=None, description="Only with explain.")


class CategoryScorePublic(BaseModel):
    code: str
    score: float


class VerdictPublic(BaseModel):
    verdict: Literal["pass", "review", "block"]
    categories: list[CategoryScorePublic] = Field(description="Sorted by score, descending.")
    hits: list[HitPublic]
    scene: str | None = Field(default=None, description="Only with explain.")
    truncated: bool | None = Field(default=None, description="Present when hits were capped.")
    warnings: list[str] | None = None


class ItemResultPublic(VerdictPublic):
    id: str | int


class BatchResultPublic(BaseModel):
    results: list[ItemResultPublic] = Field(description="In the order of the request's items.")
