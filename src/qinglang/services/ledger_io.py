"""Ledger import and export: CSV and XLSX files, with a per-row error report.

Import (`import_subjects`)
- One header row, with the English codes or the Chinese headers of COLUMNS (a few common
  synonyms too; “*” marks and spaces are ignored). A title row above the header is skipped: the
  header is the first of the first ten rows that names at least two columns. A column named
  “序号” (a serial number most Chinese sheets carry) is ignored. Any other unknown header
  refuses the whole file, because a misspelt header would otherwise drop a column silently.
- Rows without an `id` create a subject. Rows with an `id` update that subject and must carry
  the `version` they were exported at (optimistic locking, as PATCH): export, edit, import.
  Columns absent from the file leave the field as it is; an empty cell in a present column
  clears it. Rows are never matched by domain or name: a row whose domain already belongs to a
  subject is reported (with that subject's id), not merged into it.
- One transaction: each row runs in a savepoint, so good rows are kept and bad ones reported
  with their spreadsheet row number (the header is row 1 when it is the first row), column and
  a Chinese message. `dry_run` runs every check, database ones included, and keeps nothing.
- Bounded: MAX_FILE_BYTES, MAX_ROWS data rows, MAX_COLUMNS columns; an XLSX file is refused
  when its parts would unpack beyond MAX_XLSX_UNPACKED bytes or declare a DOCTYPE (entity
  expansion). CSV may be UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030/GBK (what
  Chinese Excel saves as “CSV”); comma, semicolon or tab separated.

Export (`export_subjects`): the same columns plus status and times, CSV (UTF-8 with BOM, so
Excel opens it as UTF-8) or XLSX, Chinese or English headers and values. A cell that starts
with = + - @ or a tab/CR is prefixed with ' so that spreadsheets do not run it as a formula
(CSV injection); import strips that prefix again, so export → import round-trips.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy.orm import Session

from qinglang.govern import ledger as core
from qinglang.govern.clock import to_shanghai
from qinglang.services import ledger
from qinglang.services.errors import ServiceError, invalid
from qinglang.services.principal import Principal
from qinglang.store import audit_log
from qinglang.store.audit_chain import (
    NAT,
    OPT_STR,
    SHA256,
    STR,
    EventKind,
    PayloadExample,
    canonical_time,
    register_kind,
)

MAX_FILE_BYTES = 4 * 1024 * 1024
# Each row is a few statements plus its audit event (about 3 ms on SQLite, 7 ms on a local
# PostgreSQL, measured): 5,000 rows stay well inside a proxy's 60-second request timeout, so
# a client never loses the report of an import that committed.
MAX_ROWS = 5_000
MAX_COLUMNS = 64
MAX_SCANNED_ROWS = 200_000  # rows read, blank ones included
MAX_HEADER_SEARCH = 10
MAX_XLSX_UNPACKED = 32 * 1024 * 1024
MAX_XLSX_PARTS = 1000
MAX_ERRORS = 1000
MAX_EXPORT_ROWS = 100_000

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


# ---------------------------------------------------------------- columns


@dataclass(frozen=True, slots=True)
class Column:
    code: str  # English header; a field of the core's record, or id/version/bookkeeping
    header_zh: str
    aliases: tuple[str, ...] = ()
    export_only: bool = False  # written on export, ignored on import


def _field(code: str, *aliases: str) -> Column:
    return Column(code, core.FIELD_LABELS_ZH[code], aliases)


COLUMNS: tuple[Column, ...] = (
    Column("id", "编号", ("台账编号", "主体编号")),
    Column("version", "版本", ("版本号",)),
    _field("kind", "主体类型", "类别类型"),
    _field("name", "主体名称", "网站名称", "应用名称", "游戏名称"),
    _field("operator_name", "运营单位", "运营者", "主办单位", "开办主体"),
    _field("uscc", "信用代码", "社会信用代码"),
    _field("organisation_id", "运营主体编号"),
    _field("icp_filing", "备案号", "ICP备案", "网站备案号"),
    _field("domains", "网站域名", "域名列表"),
    _field("region", "行政区划代码", "区划代码", "地区"),
    _field("category", "类别", "行业"),
    _field("education_app", "是否教育类应用", "教育类"),
    _field("school_cooperation", "是否与学校合作", "校园合作"),
    _field("game_approval_no", "版号", "批准文号", "游戏批准文号"),
    _field("youth_mode", "青少年模式状态"),
    _field("anti_addiction", "防沉迷状态", "防沉迷系统"),
    _field("risk_level", "风险"),
    _field("platform_url", "网址", "链接", "账号地址"),
    _field("notes", "说明"),
    Column("active", "状态", (), export_only=True),
    Column("created_at", "登记时间", (), export_only=True),
    Column("updated_at", "更新时间", (), export_only=True),
)
IGNORED_HEADERS = frozenset({"序号"})
_BY_CODE = {c.code: c for c in COLUMNS}


def _header_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[\s*＊:：]+", "", text).lower()


_HEADER_INDEX: dict[str, Column] = {}
for _col in COLUMNS:
    for _name in (_col.code, _col.header_zh, *_col.aliases):
        _key = _header_key(_name)
        if _key in _HEADER_INDEX and _HEADER_INDEX[_key] is not _col:
            raise ValueError(f"ledger column header {_name!r} used twice")
        _HEADER_INDEX[_key] = _col


# ---------------------------------------------------------------- errors


class ImportFileError(Exception):
    """A file refused as a whole. `slug` is the problem kind (415, 413 or 422)."""

    STATUS = MappingProxyType(
        {"unsupported-media-type": 415, "body-too-large": 413, "validation-error": 422}
    )

    def __init__(self, slug: str, code: str, message: str, message_zh: str) -> None:
        if slug not in self.STATUS:
            raise ValueError(f"unknown slug {slug!r}")
        super().__init__(message)
        self.slug = slug
        self.code = code
        self.message_zh = message_zh

    @property
    def status(self) -> int:
        return self.STATUS[self.slug]


def _unreadable(code: str, message: str, message_zh: str) -> ImportFileError:
    return ImportFileError("validation-error", code, message, message_zh)


# ---------------------------------------------------------------- reading files


@dataclass(slots=True)
class Sheet:
    format: str  # csv | xlsx
    encoding: str | None
    rows: list[tuple[int, list[str | None]]]  # (spreadsheet row number, cells), non-blank only


_SIGNATURES = (
    (b"%PDF", "PDF"),
    (b"\x89PNG", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF8", "GIF"),
    (b"\x1f\x8b", "gzip"),
    (b"Rar!", "RAR"),
    (b"7z\xbc\xaf", "7z"),
    (b"{\\rtf", "RTF"),
)


def sniff_format(data: bytes, filename: str | None = None) -> str:
    """ "xlsx" or "csv", from the bytes (a file name can lie); 415 for anything else."""
    name = (filename or "").lower()
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            "unsupported-media-type",
            "legacy_xls",
            "legacy .xls (OLE2) files are not supported",
            "不支持旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 或 CSV 后再导入。",
        )
    for signature, what in _SIGNATURES:
        if data.startswith(signature):
            raise ImportFileError(
                "unsupported-media-type",
                "unsupported_file",
                f"{what} is not a ledger file",
                f"不支持该文件类型（{what}），请上传 .xlsx 或 CSV 文件。",
            )
    if name.endswith((".xlsx", ".xlsm")):
        raise _unreadable(
            "bad_xlsx", "not a zip file", "文件扩展名是 .xlsx，但内容不是有效的 Excel 文件。"
        )
    return "csv"


def _text_of(data: bytes) -> tuple[str, str]:
    """Decoded text and the encoding used (see the module docstring)."""
    if data.startswith(codecs.BOM_UTF8):
        candidates = ("utf-8-sig",)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ("utf-16",)
    else:
        candidates = ("utf-8", "gb18030")
    for encoding in candidates:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ImportFileError(
        "unsupported-media-type",
        "unknown_encoding",
        "text is neither UTF-8 nor GB18030",
        "无法识别文件编码：CSV 文件请使用 UTF-8 或 GBK/GB18030 编码保存。",
    )


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(data: bytes) -> Sheet:
    text, encoding = _text_of(data)
    if "\x00" in text:
        raise ImportFileError(
            "unsupported-media-type",
            "binary_file",
            "NUL bytes in a text file",
            "文件不是文本格式的 CSV，请上传 .xlsx 或 CSV 文件。",
        )
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=_delimiter(first_line), strict=True
    )
    rows: list[tuple[int, list[str | None]]] = []
    try:
        for number, cells in enumerate(reader, start=1):
            _keep(rows, number, [c if c != "" else None for c in cells])
    except csv.Error as exc:
        raise _unreadable(
            "bad_csv", f"CSV syntax: {exc}", f"CSV 文件格式有误（第 {reader.line_num} 行附近）。"
        ) from None
    return Sheet("csv", encoding, rows)


def _keep(rows: list[tuple[int, list[str | None]]], number: int, cells: list[str | None]) -> None:
    """Append a non-blank row (blank ones only advance the numbering), within the limits."""
    if number > MAX_SCANNED_ROWS:
        # Sheets often carry thousands of formatted but empty rows: they are skipped, not
        # counted, yet scanning them is not free either.
        raise _too_many_rows()
    if _blank(cells):
        return
    if len(cells) > MAX_COLUMNS:
        raise _unreadable(
            "too_many_columns",
            f"row {number} has {len(cells)} columns",
            f"第 {number} 行列数过多：最多 {MAX_COLUMNS} 列。",
        )
    if len(rows) > MAX_ROWS + MAX_HEADER_SEARCH:
        raise _too_many_rows()
    rows.append((number, cells))


def _too_many_rows() -> ImportFileError:
    return ImportFileError(
        "body-too-large",
        "too_many_rows",
        f"more than {MAX_ROWS} rows",
        f"行数过多：每次最多导入 {MAX_ROWS} 行，请分批导入。",
    )


def _check_xlsx_container(data: bytes) -> None:
    """Refuse zip bombs and XML with a DOCTYPE before openpyxl parses anything."""
    bad = _unreadable("bad_xlsx", "not a valid xlsx", "文件不是有效的 Excel（.xlsx）文件。")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise bad from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_XLSX_PARTS:
            raise bad
        if sum(i.file_size for i in infos) > MAX_XLSX_UNPACKED:
            raise ImportFileError(
                "body-too-large",
                "xlsx_too_large",
                "xlsx unpacks beyond the limit",
                f"Excel 文件解压后过大（超过 {MAX_XLSX_UNPACKED // (1024 * 1024)} MiB），"
                "请分批导入。",
            )
        names = {i.filename for i in infos}
        if "xl/workbook.xml" not in names:
            raise bad
        for info in infos:
            if not info.filename.endswith((".xml", ".rels")):
                continue
            try:
                with archive.open(info) as part:
                    head = part.read(4096)
            except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, EOFError):
                raise bad from None
            if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                raise _unreadable(
                    "xlsx_doctype",
                    "xml part declares a DOCTYPE",
                    "Excel 文件含有不允许的 XML 声明。",
                )


def _cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    return text if text != "" else None


def _read_xlsx(data: bytes) -> Sheet:
    from openpyxl import load_workbook

    _check_xlsx_container(data)
    rows: list[tuple[int, list[str | None]]] = []
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types on malformed input
        raise _unreadable(
            "bad_xlsx", "openpyxl cannot open it", "无法读取该 Excel 文件，文件可能已损坏。"
        ) from None
    try:
        if not workbook.worksheets:
            raise _unreadable("empty_file", "no worksheet", "Excel 文件中没有工作表。")
        sheet = workbook.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in values]
            while cells and cells[-1] is None:
                cells.pop()
            _keep(rows, number, cells)
    except ImportFileError:
        raise
    except Exception:  # malformed sheet XML surfaces while iterating
        raise _unreadable(
            "bad_xlsx", "openpyxl failed while reading", "无法读取该 Excel 文件，文件可能已损坏。"
        ) from None
    finally:
        workbook.close()
    return Sheet("xlsx", None, rows)


def read_sheet(data: bytes, filename: str | None = None) -> Sheet:
    """The rows of a CSV or XLSX file (ImportFileError when it cannot be one)."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(
            "body-too-large",
            "file_too_large",
            f"file of {len(data)} bytes",
            f"文件过大：最多 {MAX_FILE_BYTES // (1024 * 1024)} MiB，请分批导入。",
        )
    if not data.strip():
        raise _unreadable("empty_file", "empty file", "文件是空的。")
    fmt = sniff_format(data, filename)
    return _read_xlsx(data) if fmt == "xlsx" else _read_csv(data)


# ---------------------------------------------------------------- headers


@dataclass(frozen=True, slots=True)
class Layout:
    header_row: int
    headers: list[str]
    columns: list[Column | None]  # None: ignored (empty header, 序号)


def _blank(cells: Sequence[str | None]) -> bool:
    return all(c is None or not c.strip() for c in cells)


def find_layout(sheet: Sheet) -> Layout:
    """The header row and what each column holds (422 on unknown or repeated headers)."""
    header: tuple[int, list[str | None]] | None = None
    seen = 0
    for number, cells in sheet.rows:
        if _blank(cells):
            continue
        seen += 1
        known = sum(1 for c in cells if c and _header_key(c) in _HEADER_INDEX)
        if known >= 2:
            header = (number, cells)
            break
        if seen >= MAX_HEADER_SEARCH:
            break
    if header is None:
        raise _unreadable(
            "no_header",
            "no header row naming the ledger columns",
            "未找到表头：第一行应为列名，如“类型、名称、地区代码、域名”"
            "（或 kind、name、region、domains）。",
        )
    number, cells = header
    headers = [(c or "").strip() for c in cells]
    columns: list[Column | None] = []
    unknown: list[str] = []
    used: dict[str, str] = {}
    for text in headers:
        key = _header_key(text)
        if not key or text in IGNORED_HEADERS or key in IGNORED_HEADERS:
            columns.append(None)
            continue
        column = _HEADER_INDEX.get(key)
        if column is None:
            unknown.append(text)
            columns.append(None)
            continue
        if column.code in used:
            raise _unreadable(
                "duplicate_column",
                f"column {column.code} appears twice",
                f"列“{used[column.code]}”与“{text}”重复（都表示{column.header_zh}）。",
            )
        used[column.code] = text
        columns.append(column)
    if unknown:
        names = "、".join(f"“{_echo(u)}”" for u in unknown[:10])
        raise _unreadable(
            "unknown_column",
            f"unknown columns {unknown[:10]}",
            f"无法识别的列：{names}。可用的列见台账导入说明（docs/ledger.md）。",
        )
    if "id" not in used and not {"kind", "name", "region"} <= set(used):
        missing = [c for c in ("kind", "name", "region") if c not in used]
        names = "、".join(_BY_CODE[c].header_zh for c in missing)
        raise _unreadable(
            "missing_column",
            f"missing columns {missing}",
            f"缺少必需的列：{names}（新增主体时必须填写；更新已有主体时须有“编号”列）。",
        )
    return Layout(number, headers, columns)


def _echo(value: str, limit: int = 40) -> str:
    text = "".join(ch if ch.isprintable() else "\ufffd" for ch in value[: limit + 1])
    return text if len(text) <= limit else text[:limit] + "…"


# ---------------------------------------------------------------- formula injection

# A cell a spreadsheet would evaluate starts with one of = + - @ TAB CR; an escaped cell is
# the same with a ' in front. Escaping also applies to cells that already look escaped, so
# that unescaping (strip one ') gives back exactly what was exported.
_FORMULA = re.compile(r"'*[=+\-@\t\r]")
_ESCAPED = re.compile(r"'+[=+\-@\t\r]")


def escape_cell(value: str) -> str:
    """A text cell a spreadsheet will show as text, never evaluate (OWASP CSV injection)."""
    return "'" + value if _FORMULA.match(value) else value


def unescape_cell(value: str) -> str:
    return value[1:] if _ESCAPED.match(value) else value


# ---------------------------------------------------------------- import


@dataclass(slots=True)
class RowError:
    row: int
    column: str | None  # column code, None for the row as a whole
    header: str | None  # the header as written in the file
    code: str
    message: str  # Chinese

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "header": self.header,
            "code": self.code,
            "message": self.message,
        }


@dataclass(slots=True)
class RowResult:
    row: int
    action: str  # created | updated | unchanged
    subject_id: int | None


@dataclass(slots=True)
class ImportReport:
    format: str
    encoding: str | None
    dry_run: bool
    digest: str
    header_row: int = 1
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[RowError] = field(default_factory=list)
    errors_truncated: bool = False
    results: list[RowResult] = field(default_factory=list)
    org_ids: dict[str, int | None] = field(default_factory=dict, repr=False)

    def add_error(self, error: RowError) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error)
        else:
            self.errors_truncated = True


@register_kind
class LedgerImported(EventKind):
    kind = "ledger.imported"
    description = "A ledger file was imported: its SHA-256 and what each row became."
    required = MappingProxyType(
        {
            "digest": SHA256,
            "format": STR,
            "rows": NAT,
            "created": NAT,
            "updated": NAT,
            "failed": NAT,
        }
    )
    optional = MappingProxyType({"filename": OPT_STR})
    examples = (
        PayloadExample(
            {
                "digest": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                "format": "xlsx",
                "rows": 3,
                "created": 2,
                "updated": 0,
                "failed": 1,
                "filename": "台账.xlsx",
            },
            True,
        ),
        PayloadExample({"digest": "x", "format": "csv"}, False),
    )


# Where a refused command's code points in the row, when it names no field itself.
_CODE_COLUMNS = {
    "stale_version": "version",
    "subject_not_found": "id",
    "not_own_subject": "id",
    "out_of_jurisdiction": "region",
    "domain_taken": "domains",
}


class _RowRefused(Exception):
    def __init__(self, errors: list[tuple[str | None, str, str]]) -> None:
        super().__init__(errors[0][1])
        self.errors = errors  # (column code, code, message)


def _parse_int(code: str, text: str | None, required_zh: str) -> int:
    if text is None or not text.strip():
        raise _RowRefused([(code, "required", required_zh)])
    value = unicodedata.normalize("NFKC", text).strip()
    if not re.fullmatch(r"[0-9]{1,10}", value) or not 1 <= int(value) <= core.MAX_ID:
        raise _RowRefused([(code, "bad_number", "应为正整数。")])
    return int(value)


def _service_errors(exc: ServiceError) -> list[tuple[str | None, str, str]]:
    entries = exc.extra.get("errors") or []
    out: list[tuple[str | None, str, str]] = []
    for entry in entries:
        pointer = str(entry.get("pointer", ""))
        out.append((pointer[2:] or None, str(entry.get("type")), str(entry.get("detail"))))
    return out or [(_CODE_COLUMNS.get(exc.code), exc.code, exc.message_zh)]


def _import_row(
    session: Session,
    principal: Principal,
    values: Mapping[str, str | None],
    at: datetime,
    org_ids: dict[str, int | None],
) -> tuple[str, int]:
    fields = {code: values[code] for code in core.FIELDS if code in values}
    if "id" in values and values["id"] is not None and values["id"].strip():
        subject_id = _parse_int("id", values["id"], "")
        version = _parse_int(
            "version",
            values.get("version"),
            "更新已有主体须填写“版本”（请先导出最新台账，在导出的文件上修改）。",
        )
        subject, diff = ledger.update_subject(
            session, principal, subject_id, fields, version=version, at=at, org_ids=org_ids
        )
        return ("updated" if diff else "unchanged"), subject.id
    created = ledger.create_subject(session, principal, fields, at=at, org_ids=org_ids)
    return "created", created.id


def import_subjects(
    session: Session,
    principal: Principal,
    data: bytes,
    *,
    at: datetime,
    filename: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Import a CSV or XLSX ledger file (see the module docstring); the report per row."""
    ledger.require_editor(principal)
    sheet = read_sheet(data, filename)
    layout = find_layout(sheet)
    report = ImportReport(
        format=sheet.format,
        encoding=sheet.encoding,
        dry_run=dry_run,
        digest=hashlib.sha256(data).hexdigest(),
        header_row=layout.header_row,
    )
    data_rows = [
        (number, cells)
        for number, cells in sheet.rows
        if number > layout.header_row and not _blank(cells)
    ]
    if len(data_rows) > MAX_ROWS:
        raise _too_many_rows()
    if not data_rows:
        raise _unreadable("no_rows", "no data rows", "文件中没有数据行。")
    header_of = {
        col.code: layout.headers[i] for i, col in enumerate(layout.columns) if col is not None
    }
    trial = session.begin_nested() if dry_run else None
    try:
        for number, cells in data_rows:
            report.rows += 1
            _one_row(session, principal, layout, header_of, number, cells, report, at)
    finally:
        if trial is not None:
            trial.rollback()
    if not dry_run and (report.created or report.updated):
        audit_log.record(
            session,
            at=at,
            actor=principal.actor_id,
            kind="ledger.imported",
            subject="ledger:import",
            payload={
                "digest": report.digest,
                "format": report.format,
                "rows": report.rows,
                "created": report.created,
                "updated": report.updated,
                "failed": report.failed,
                "filename": _echo(filename, 200) if filename else None,
            },
        )
    return report


def _one_row(
    session: Session,
    principal: Principal,
    layout: Layout,
    header_of: Mapping[str, str],
    number: int,
    cells: Sequence[str | None],
    report: ImportReport,
    at: datetime,
) -> None:
    values: dict[str, str | None] = {}
    problems: list[tuple[str | None, str, str]] = []
    for i, cell in enumerate(cells):
        column = layout.columns[i] if i < len(layout.columns) else None
        if column is None:
            if (
                cell is not None
                and cell.strip()
                and (i >= len(layout.columns) or not layout.headers[i])
            ):
                problems.append((None, "cell_without_header", f"第 {i + 1} 列有内容但没有表头。"))
            continue
        if column.export_only:
            continue
        values[column.code] = unescape_cell(cell) if cell is not None else None
    for column in layout.columns:
        if column is not None and not column.export_only:
            values.setdefault(column.code, None)
    try:
        if problems:
            raise _RowRefused(problems)
        with session.begin_nested():
            action, subject_id = _import_row(session, principal, values, at, report.org_ids)
    except _RowRefused as exc:
        problems = exc.errors
    except ServiceError as exc:
        problems = _service_errors(exc)
    if problems:
        report.failed += 1
        for column, code, message in problems:
            report.add_error(RowError(number, column, header_of.get(column or ""), code, message))
        return
    setattr(report, action, getattr(report, action) + 1)
    created_in_trial = report.dry_run and action == "created"
    report.results.append(RowResult(number, action, None if created_in_trial else subject_id))


# ---------------------------------------------------------------- export


def _labels(lang: str) -> list[str]:
    return [c.header_zh if lang == "zh" else c.code for c in COLUMNS]


def _export_value(subject: ledger.SubjectView, code: str, lang: str) -> Any:
    zh = lang == "zh"
    value = getattr(subject, code)
    if code == "kind":
        return subject.kind_name if zh else value
    if code == "domains":
        return "; ".join(subject.domains_unicode if zh else subject.domains) or None
    if code in core.ENUM_FIELDS:
        if value is None:
            return None
        # A value outside today's labels (older data) is written as stored, not dropped.
        return core.LABELS_ZH[core.ENUM_FIELDS[code]].get(value, value) if zh else value
    if code in core.BOOL_FIELDS:
        return ("是" if value else "否") if zh else ("true" if value else "false")
    if code == "active":
        return ("在用" if value else "停用") if zh else ("active" if value else "inactive")
    if code in ("created_at", "updated_at"):
        if zh:
            return to_shanghai(value).strftime("%Y-%m-%d %H:%M:%S")
        return canonical_time(value)
    return value


def export_rows(
    subjects: Iterable[ledger.SubjectView], lang: str
) -> Iterable[list[str | int | None]]:
    """Header then one row per subject, text cells escaped against formula injection."""
    yield _labels(lang)
    for subject in subjects:
        row: list[str | int | None] = []
        for column in COLUMNS:
            value = _export_value(subject, column.code, lang)
            row.append(escape_cell(value) if isinstance(value, str) else value)
        yield row


def _csv_bytes(rows: Iterable[list[str | int | None]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def _xlsx_bytes(rows: Iterable[list[str | int | None]], lang: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("台账" if lang == "zh" else "ledger")
    sheet.freeze_panes = "A2"
    for i, column in enumerate(COLUMNS):
        letter = _column_letter(i)
        sheet.column_dimensions[letter].width = (
            28 if column.code in ("name", "domains", "notes") else 14
        )
    bold = Font(bold=True)
    for index, row in enumerate(rows):
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text, even if it looks like a formula or a number
            if index == 0:
                cell.font = bold
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


@dataclass(frozen=True, slots=True)
class ExportFile:
    content: bytes
    media_type: str
    filename: str
    rows: int


def export_subjects(
    session: Session,
    principal: Principal,
    filters: ledger.SubjectFilter,
    *,
    fmt: str,
    lang: str,
    at: datetime,
) -> ExportFile:
    """The visible subjects matching `filters` as a CSV or XLSX file."""
    if fmt not in ("csv", "xlsx"):
        raise invalid("bad_format", f"unknown format {fmt!r}", "导出格式应为 csv 或 xlsx。")
    if lang not in ("zh", "en"):
        raise invalid("bad_header", f"unknown header language {lang!r}", "表头语言应为 zh 或 en。")
    count = ledger.count_subjects(session, principal, filters)
    if count > MAX_EXPORT_ROWS:
        raise invalid(
            "export_too_large",
            f"{count} subjects > {MAX_EXPORT_ROWS}",
            f"符合条件的主体过多（{count} 个），每次最多导出 {MAX_EXPORT_ROWS} 个，"
            "请缩小筛选范围。",
        )
    rows = export_rows(ledger.iter_subjects(session, principal, filters), lang)
    content = _csv_bytes(rows) if fmt == "csv" else _xlsx_bytes(rows, lang)
    stamp = to_shanghai(at).strftime("%Y%m%d-%H%M%S")
    return ExportFile(
        content=content,
        media_type=CSV_MEDIA_TYPE if fmt == "csv" else XLSX_MEDIA_TYPE,
        filename=f"qinglang-ledger-{stamp}.{fmt}",
        rows=count,
    )
