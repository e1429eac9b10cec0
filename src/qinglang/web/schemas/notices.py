"""Schemas of rectification notices: the operator's report back, and pages of notices."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from qinglang.services.notices import MAX_ATTACHMENTS, MAX_SUMMARY, MEDIA_TYPES
from qinglang.web.schemas.cases import NoticePublic

# Base64 of the largest attachment the body limit could carry; the service checks the
# decoded size against QINGLANG_MAX_ATTACHMENT_BYTES.
_MAX_BASE64 = 8 * 1024 * 1024


class AttachmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=255, examples=["整改截图.png"])
    media_type: str = Field(
        min_length=1, max_length=100, description=f"One of: {', '.join(MEDIA_TYPES)}"
    )
    content_base64: str = Field(
        min_length=1, max_length=_MAX_BASE64, description="The file, base64 (RFC 4648)."
    )


class RectificationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    summary: str = Field(min_length=1, max_length=MAX_SUMMARY, examples=["已清理违规信息120条"])
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)


class NoticePagePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    items: list[NoticePublic]
    has_more: bool
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")
