"""Schemas of the public reporting channel (no login): a report in, a ticket and status out.

Lengths, URLs, categories and attachments are checked by the service (Chinese messages with
a stable `code` and a JSON Pointer); the schema fixes the shape and the types only.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from qinglang.govern import intake as rules
from qinglang.govern.tickets import FORMAT_EXAMPLE


class AttachmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    data: str = Field(
        description=(
            "The file, Base64-encoded (a `data:<type>;base64,` prefix is accepted). Types: "
            + ", ".join(rules.ALLOWED_MEDIA_TYPES)
            + "; the type is read from the content. At most QINGLANG_MAX_ATTACHMENT_BYTES "
            "decoded bytes."
        ),
        examples=["iVBORw0KGgo="],
    )
    name: str | None = Field(
        default=None,
        max_length=1000,
        description="File name, for display only (directories and control characters removed).",
        examples=["截图.png"],
    )
    media_type: str | None = Field(
        default=None,
        max_length=100,
        description="Declared media type; when given it must agree with the content.",
        examples=["image/png"],
    )


class ReportCreate(BaseModel):
    """A public tip. Give a description (`text`) or at least one URL."""

    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(
        default=None,
        description=f"What was seen, where (at most {rules.PublicTip.max_text} characters).",
        examples=["某学习App在课程页面推送网络游戏广告，诱导学生充值。"],
    )
    urls: list[str] = Field(
        default_factory=list,
        description=f"Links to the content (http/https, at most {rules.PublicTip.max_urls}).",
        examples=[["https://example.cn/post/1"]],
    )
    category: str | None = Field(
        default=None,
        max_length=64,
        description="Problem category code from GET /api/v1/taxonomy, if the reporter knows it.",
        examples=["game_ad"],
    )
    region: str | None = Field(
        default=None,
        max_length=12,
        description="Administrative division code where the problem was met (default: national).",
        examples=["310000"],
    )
    title: str | None = Field(default=None, max_length=1000, description="A short title.")
    platform: str | None = Field(
        default=None,
        max_length=1000,
        description="Name of the website, app, game or platform (links the ledger).",
        examples=["某某学习"],
    )
    icp: str | None = Field(
        default=None,
        max_length=200,
        description="ICP filing number of the site, if known (links the ledger).",
        examples=["京ICP备12345678号-1"],
    )
    attachments: list[AttachmentCreate] = Field(
        default_factory=list,
        description=f"Screenshots and other evidence (at most {rules.PublicTip.max_attachments}).",
    )


class ReportReceipt(BaseModel):
    ticket: str = Field(
        description=f"受理编号, the key to the report's status ({FORMAT_EXAMPLE}); shown once.",
        examples=["QL-7Q2M-H9XR-4KTE-B3WN-YC6P-8DJQ"],
    )
    status: str = Field(
        description="Public status code: " + ", ".join(s.code for s in rules.PUBLIC_STATUSES),
        examples=["accepted"],
    )
    status_zh: str = Field(examples=["已受理"])
    received_at: datetime
    message: str = Field(description="What to tell the reporter, in Chinese.")


class ReportStatusPublic(BaseModel):
    """Only this report's public status and result: nothing internal."""

    ticket: str
    status: str = Field(
        description="Public status code: " + ", ".join(s.code for s in rules.PUBLIC_STATUSES)
    )
    status_zh: str = Field(examples=["处理中"])
    description: str = Field(description="The status in a sentence, in Chinese.")
    received_at: datetime
    updated_at: datetime
    result: str | None = Field(
        default=None, description="The public result, once the case has ended (办理结果)."
    )
