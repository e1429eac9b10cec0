"""Schemas of the ledger (台账): subjects, pages, history, import reports, metadata.

Bodies are checked for shape here (types, lengths, known enumeration codes: an unknown one is
a 422 naming the field); what the values mean (USCC check character, ICP format, which fields
a kind allows) is the core's job, `qinglang.govern.ledger.validate_subject`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from qinglang.govern import ledger as core
from qinglang.govern.ledger import AntiAddiction, Category, RiskLevel, YouthMode

MAX_ID = 2**31 - 1

# The registered kinds, as an enumeration OpenAPI can list.
SubjectKindCode = StrEnum(  # type: ignore[misc]
    "SubjectKindCode", [(code, code) for code in core.registered()]
)


class StatusFilter(StrEnum):
    active = "active"
    inactive = "inactive"
    all = "all"


class ExportFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


class HeaderLanguage(StrEnum):
    zh = "zh"
    en = "en"


Domain = Annotated[str, Field(min_length=1, max_length=300)]
Text200 = Annotated[str, Field(max_length=200)]


class SubjectCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: SubjectKindCode = Field(examples=["website"])  # type: ignore[valid-type]
    name: Text200 = Field(examples=["示例学习网"])
    region: str = Field(max_length=12, description="行政区划代码 (GB/T 2260)", examples=["310000"])
    operator_name: Text200 | None = Field(default=None, description="运营主体")
    uscc: str | None = Field(default=None, max_length=40, description="统一社会信用代码")
    organisation_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    icp_filing: str | None = Field(
        default=None, max_length=64, description="ICP备案号", examples=["沪ICP备12345678号-1"]
    )
    domains: list[Domain] = Field(
        default_factory=list, max_length=core.MAX_DOMAINS, examples=[["example.cn"]]
    )
    category: Category | None = None
    education_app: bool = False
    school_cooperation: bool = False
    game_approval_no: str | None = Field(
        default=None, max_length=64, description="游戏版号 (game only), e.g. 国新出审〔2021〕1234号"
    )
    youth_mode: YouthMode = YouthMode.unknown
    anti_addiction: AntiAddiction = AntiAddiction.unknown
    risk_level: RiskLevel = RiskLevel.unknown
    platform_url: str | None = Field(default=None, max_length=core.MAX_URL)
    notes: str | None = Field(default=None, max_length=core.MAX_NOTES)


class SubjectUpdate(BaseModel):
    """Fields to change; absent fields keep their value, null clears one."""

    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, le=MAX_ID, description="The version the client last saw.")
    kind: SubjectKindCode | None = None  # type: ignore[valid-type]
    name: Text200 | None = None
    region: str | None = Field(default=None, max_length=12)
    operator_name: Text200 | None = None
    uscc: str | None = Field(default=None, max_length=40)
    organisation_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    icp_filing: str | None = Field(default=None, max_length=64)
    domains: list[Domain] | None = Field(default=None, max_length=core.MAX_DOMAINS)
    category: Category | None = None
    education_app: bool | None = None
    school_cooperation: bool | None = None
    game_approval_no: str | None = Field(default=None, max_length=64)
    youth_mode: YouthMode | None = None
    anti_addiction: AntiAddiction | None = None
    risk_level: RiskLevel | None = None
    platform_url: str | None = Field(default=None, max_length=core.MAX_URL)
    notes: str | None = Field(default=None, max_length=core.MAX_NOTES)


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, le=MAX_ID)
    reason: str | None = Field(default=None, max_length=500, examples=["网站已关停"])


class SubjectPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    kind_name: str = Field(description="Chinese name of the kind")
    name: str
    operator_name: str | None
    uscc: str | None
    organisation_id: int | None
    icp_filing: str | None
    domains: list[str] = Field(description="IDNA A-labels")
    domains_unicode: list[str] = Field(description="The same domains for display")
    region: str
    category: str | None
    education_app: bool
    school_cooperation: bool
    game_approval_no: str | None
    youth_mode: str
    anti_addiction: str
    risk_level: str
    platform_url: str | None
    notes: str | None
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class SubjectPage(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    items: list[SubjectPublic]
    total: int = Field(description="Subjects matching the filters, on all pages")
    limit: int
    offset: int
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end"
    )


class HistoryEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    seq: int = Field(description="Position in the audit log")
    at: datetime
    actor: str
    kind: str = Field(examples=["ledger.subject_updated"])
    payload: dict[str, Any] = Field(
        description="created: subject_type and fields; updated: changes {field: {old, new}}"
    )


class ImportRowError(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    row: int = Field(description="Spreadsheet row number (the header row is 1)")
    column: str | None = Field(description="Column code (English), null for the whole row")
    header: str | None = Field(description="The column's header as written in the file")
    code: str
    message: str = Field(description="What is wrong, in Simplified Chinese")


class ImportRowResult(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    row: int
    action: str = Field(examples=["created"], description="created | updated | unchanged")
    subject_id: int | None = Field(description="null for rows created in a dry run")


class ImportReportPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    format: str
    encoding: str | None
    dry_run: bool
    digest: str = Field(description="SHA-256 of the uploaded file")
    header_row: int
    rows: int
    created: int
    updated: int
    unchanged: int
    failed: int
    errors: list[ImportRowError]
    errors_truncated: bool
    results: list[ImportRowResult]


class Choice(BaseModel):
    code: str
    label: str


class KindMeta(BaseModel):
    code: str
    name: str
    description: str
    required: list[str]
    allowed: list[str]


class ColumnMeta(BaseModel):
    code: str
    header_zh: str
    aliases: list[str]
    export_only: bool


class LedgerMeta(BaseModel):
    kinds: list[KindMeta]
    fields: dict[str, str] = Field(description="Field code → Chinese label")
    enums: dict[str, list[Choice]]
    columns: list[ColumnMeta]
