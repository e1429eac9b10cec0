"""The hash chain of the append-only audit log (pure: no database, no clock).

Every record carries the SHA-256 of its own canonical form, and that form includes the hash of
the record before it, so altering, deleting, inserting or reordering any row breaks the chain
at a place `verify` can name. The storage layer persists `AuditRecord`s exactly as `append`
returns them and feeds them back to `verify` in `seq` order.

Canonical form (what is hashed), so that any tool can re-check a log:

    sha256(utf8(json({"actor", "at", "kind", "payload", "prev_hash", "seq", "subject"})))

JSON with keys sorted, no whitespace, non-ASCII written as UTF-8 (not escaped), times as
ISO-8601 UTC with microseconds and a "Z" ("2020-11-30T01:02:03.000004Z"). The first record's
`prev_hash` is 64 zeros. Payloads are normalised to JSON-native values before hashing
(Decimal → string, date → ISO string, tuples → lists), so a payload that went through a JSON
column hashes the same; floats are refused because their text form is not stable across
databases, and NUL characters because PostgreSQL text and jsonb cannot hold them.

Event kinds are registered classes with a payload schema and examples (the convention of
python-threatexchange and datasette's typed audit events); `append` refuses an unknown kind or
a payload that does not fit its schema.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from types import MappingProxyType
from typing import Any, ClassVar, NamedTuple

GENESIS_HASH = "0" * 64
MAX_PAYLOAD_BYTES = 64 * 1024
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_SUBJECT = re.compile(r"[a-z][a-z_]*:[^\x00-\x20\x7f]{1,300}")


class AuditError(ValueError):
    """A record that must not be written: unknown kind, bad payload, naive time..."""


def evidence_digest(content: bytes) -> str:
    """Content address of a piece of evidence: lower-case SHA-256 hex of its bytes."""
    if not isinstance(content, bytes | bytearray | memoryview):
        raise TypeError("evidence content must be bytes")
    return hashlib.sha256(content).hexdigest()


# ---------------------------------------------------------------- canonical form


def canonical_time(at: datetime) -> str:
    """ISO-8601 in UTC with microseconds and "Z": one spelling per instant."""
    if not isinstance(at, datetime):
        raise AuditError(f"time must be a datetime, got {type(at).__name__}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise AuditError("time must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _check_text(text: str, where: str) -> str:
    if "\x00" in text:
        raise AuditError(f"{where}: NUL character")
    return text


def to_json_native(value: Any, where: str = "payload") -> Any:
    """`value` as str / int / bool / None / list / dict only (see the module docstring)."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, Enum):
        return to_json_native(value.value, where)
    if isinstance(value, str):
        return _check_text(value, where)
    if isinstance(value, float):
        raise AuditError(f"{where}: floats are not allowed in audit payloads; use Decimal or str")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise AuditError(f"{where}: non-finite Decimal")
        return str(value)
    if isinstance(value, datetime):
        return canonical_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str) or not key.isascii() or not key:
                raise AuditError(f"{where}: keys must be non-empty ASCII strings, got {key!r}")
            out[_check_text(key, where)] = to_json_native(item, f"{where}.{key}")
        return out
    if isinstance(value, list | tuple):
        return [to_json_native(item, f"{where}[{i}]") for i, item in enumerate(value)]
    raise AuditError(f"{where}: {type(value).__name__} is not JSON-native")


def canonical_json(obj: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8; `obj` must already be JSON-native."""
    try:
        text = json.dumps(
            obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        )
        return text.encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError) as exc:
        raise AuditError(f"not canonicalisable: {exc}") from None


HASHED_FIELDS = ("seq", "at", "actor", "kind", "subject", "payload")


def chain_hash(prev_hash: str, record_fields: Mapping[str, Any]) -> str:
    """SHA-256 hex of the canonical form of `record_fields` (HASHED_FIELDS) plus `prev_hash`."""
    missing = [name for name in HASHED_FIELDS if name not in record_fields]
    if missing:
        raise AuditError(f"missing fields {missing}")
    body = {name: record_fields[name] for name in HASHED_FIELDS}
    body["at"] = canonical_time(body["at"])
    body["payload"] = to_json_native(body["payload"])
    body["prev_hash"] = prev_hash
    return hashlib.sha256(canonical_json(body)).hexdigest()


# ---------------------------------------------------------------- records


class Anchor(NamedTuple):
    """A trusted (seq, hash) pair kept outside the log (a checkpoint, a published head)."""

    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class AuditRecord:
    seq: int  # 1, 2, 3 ... without gaps
    at: datetime  # timezone-aware; hashed as UTC
    actor: str  # "user:<id>", "system", "public:<ticket>"...
    kind: str  # a registered event kind
    subject: str  # "<type>:<id>", e.g. "case:SH-2020-0001"
    payload: dict[str, Any] = field(default_factory=dict)  # JSON-native
    prev_hash: str = GENESIS_HASH
    hash: str = ""

    def fields(self) -> dict[str, Any]:
        """The hashed fields, without `prev_hash` and `hash`."""
        return {name: getattr(self, name) for name in HASHED_FIELDS}

    @property
    def anchor(self) -> Anchor:
        return Anchor(self.seq, self.hash)


def append(
    prev: AuditRecord | None,
    *,
    at: datetime,
    actor: str,
    kind: str,
    subject: str,
    payload: Mapping[str, Any] | None = None,
) -> AuditRecord:
    """The record that follows `prev` (None: the first record of the log).

    Validates the kind and its payload schema, normalises the payload to JSON-native values
    and computes the hash. The caller stores the result as is, in the same transaction as the
    change it records.
    """
    if not isinstance(actor, str) or not actor.strip() or len(actor) > 200:
        raise AuditError("actor must be a non-empty string of at most 200 characters")
    _check_text(actor, "actor")
    if not isinstance(subject, str) or not _SUBJECT.fullmatch(subject):
        raise AuditError(f"subject must look like 'type:id', got {subject!r}")
    native = to_json_native(dict(payload or {}))
    event_kind(kind).check(native)
    if len(canonical_json(native)) > MAX_PAYLOAD_BYTES:
        raise AuditError(f"payload larger than {MAX_PAYLOAD_BYTES} bytes")
    canonical_time(at)  # refuses naive times before anything is built
    seq = 1 if prev is None else prev.seq + 1
    prev_hash = GENESIS_HASH if prev is None else prev.hash
    record = AuditRecord(seq, at, actor, kind, subject, native, prev_hash)
    return AuditRecord(
        seq, at, actor, kind, subject, native, prev_hash, chain_hash(prev_hash, record.fields())
    )


# ---------------------------------------------------------------- verification


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    first_bad_seq: int | None  # the first seq whose row is missing, altered or misplaced
    reason: str | None
    checked: int  # records read before the verdict
    head: Anchor | None  # the last good record (None when none was good)

    def __bool__(self) -> bool:
        return self.ok


def verify(
    records: Iterable[AuditRecord],
    *,
    after: Anchor | None = None,
    head: Anchor | None = None,
) -> VerifyResult:
    """Check a log read in `seq` order; stop at the first problem.

    `after`: verify only the records following a trusted checkpoint (their first `prev_hash`
    must be its hash). `head`: a trusted anchor of the newest record, which also catches a
    log whose latest rows were cut off (the chain alone cannot see a truncated tail).
    """
    expected = 1 if after is None else after.seq + 1
    prev_hash = GENESIS_HASH if after is None else after.hash
    last: Anchor | None = after
    checked = 0

    def bad(seq: int, reason: str) -> VerifyResult:
        return VerifyResult(False, seq, reason, checked, last)

    for record in records:
        checked += 1
        if record.seq != expected:
            if checked == 1 and record.seq > expected:
                return bad(expected, f"head truncated or reordered: first row is seq {record.seq}")
            if record.seq > expected:
                return bad(
                    expected, f"seq {expected} missing or out of order: found seq {record.seq}"
                )
            return bad(
                expected,
                f"seq {record.seq} found where seq {expected} belongs (duplicated or reordered)",
            )
        if record.prev_hash != prev_hash:
            return bad(
                record.seq,
                f"seq {record.seq}: prev_hash does not match seq {record.seq - 1} "
                "(a row before it was altered, removed or replaced)",
            )
        try:
            computed = chain_hash(record.prev_hash, record.fields())
        except AuditError as exc:
            return bad(record.seq, f"seq {record.seq}: cannot hash: {exc}")
        if computed != record.hash:
            return bad(record.seq, f"seq {record.seq}: hash mismatch (row altered)")
        if head is not None and record.seq == head.seq and record.hash != head.hash:
            # A consistent chain that disagrees with the anchor was rewritten from here back.
            return bad(record.seq, f"seq {record.seq}: hash differs from the trusted anchor")
        prev_hash = record.hash
        last = record.anchor
        expected += 1
    if head is not None and (last is None or last.seq < head.seq):
        return bad(expected, f"tail truncated: log ends before the anchored seq {head.seq}")
    return VerifyResult(True, None, None, checked, last)


# ---------------------------------------------------------------- typed event kinds


@dataclass(frozen=True, slots=True)
class FieldType:
    name: str
    check: Callable[[Any], bool]


def _is_str(v: Any) -> bool:
    return isinstance(v, str) and bool(v.strip())


STR = FieldType("non-empty string", _is_str)
OPT_STR = FieldType("string or null", lambda v: v is None or isinstance(v, str))
NAT = FieldType("integer >= 0", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0)
STR_LIST = FieldType("list of strings", lambda v: isinstance(v, list) and all(map(_is_str, v)))
OBJ = FieldType("object", lambda v: isinstance(v, dict))
SHA256 = FieldType("sha256 hex", lambda v: isinstance(v, str) and bool(_SHA256_HEX.fullmatch(v)))
BOOL = FieldType("boolean", lambda v: isinstance(v, bool))


@dataclass(frozen=True, slots=True)
class PayloadExample:
    payload: Mapping[str, Any]
    valid: bool


class EventKind:
    """A kind of audit event: name, payload schema, examples for the shared tests."""

    kind: ClassVar[str]
    description: ClassVar[str]
    required: ClassVar[Mapping[str, FieldType]] = {}
    optional: ClassVar[Mapping[str, FieldType]] = {}
    examples: ClassVar[tuple[PayloadExample, ...]]

    @classmethod
    def check(cls, payload: Mapping[str, Any]) -> None:
        """Raise `AuditError` unless `payload` (JSON-native) fits the schema exactly."""
        unknown = sorted(set(payload) - set(cls.required) - set(cls.optional))
        if unknown:
            raise AuditError(f"{cls.kind}: unknown payload fields {unknown}")
        for name, ftype in cls.required.items():
            if name not in payload:
                raise AuditError(f"{cls.kind}: missing payload field {name!r}")
            if not ftype.check(payload[name]):
                raise AuditError(f"{cls.kind}: {name} must be a {ftype.name}")
        for name, ftype in cls.optional.items():
            if name in payload and not ftype.check(payload[name]):
                raise AuditError(f"{cls.kind}: {name} must be a {ftype.name}")


_KINDS: dict[str, type[EventKind]] = {}


def register_kind(cls: type[EventKind]) -> type[EventKind]:
    """Class decorator: add an event kind under its unique name."""
    if cls.kind in _KINDS and _KINDS[cls.kind] is not cls:
        raise ValueError(f"audit event kind {cls.kind!r} registered twice")
    _KINDS[cls.kind] = cls
    return cls


def registered_kinds() -> dict[str, type[EventKind]]:
    return dict(_KINDS)


def event_kind(kind: str) -> type[EventKind]:
    try:
        return _KINDS[kind]
    except KeyError:
        raise AuditError(f"unknown audit event kind {kind!r}") from None


_X = PayloadExample


def _schema(fields: Mapping[str, FieldType]) -> Mapping[str, FieldType]:
    """A read-only field map: schemas are shared class data and must not drift at runtime."""
    return MappingProxyType(dict(fields))


_ACTING = {"role": STR, "department": STR}
_DISPOSITION = {"disposition_id": STR, "code": STR, **_ACTING, "reason": OPT_STR}
_DIGEST = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"  # sha256("test")


@register_kind
class CaseCreated(EventKind):
    kind = "case.created"
    description = "A case was created (in state lead) and routed to its departments."
    required = _schema(
        {
            "state": STR,
            "grounds": STR_LIST,
            "lead_department": STR,
            "co_departments": STR_LIST,
            "jurisdiction": STR,
            "reason": OPT_STR,
        }
    )
    examples = (
        _X(
            {
                "state": "lead",
                "grounds": ["gambling"],
                "lead_department": "police",
                "co_departments": ["cyberspace"],
                "jurisdiction": "410000",
                "reason": None,
            },
            True,
        ),
        _X({"state": "lead", "grounds": "gambling"}, False),
    )


@register_kind
class CaseTransition(EventKind):
    kind = "case.transition"
    description = "A case moved along one row of the state machine."
    required = _schema(
        {
            "action": STR,
            "from": STR,
            "to": STR,
            **_ACTING,
            "reason": OPT_STR,
            "target": OPT_STR,
        }
    )
    examples = (
        _X(
            {
                "action": "open",
                "from": "lead",
                "to": "opened",
                "role": "officer",
                "department": "cyberspace",
                "reason": None,
                "target": None,
            },
            True,
        ),
        _X({"action": "open", "from": "lead", "to": "opened"}, False),
        _X(
            {
                "action": "open",
                "from": "lead",
                "to": "opened",
                "role": "officer",
                "department": "cyberspace",
                "reason": None,
                "target": None,
                "extra": 1,
            },
            False,
        ),
    )


@register_kind
class DispositionProposed(EventKind):
    kind = "disposition.proposed"
    description = "A disposition with its parameters was proposed on a case."
    required = _schema({**_DISPOSITION, "params": OBJ})
    examples = (
        _X(
            {
                "disposition_id": "C1/D1",
                "code": "rectify",
                "role": "analyst",
                "department": "cyberspace",
                "reason": None,
                "params": {"deadline": "2020-11-30"},
            },
            True,
        ),
        _X({"disposition_id": "C1/D1", "code": "rectify", "params": "x"}, False),
    )


def _decision_examples() -> tuple[PayloadExample, ...]:
    good = {
        "disposition_id": "C1/D1",
        "code": "penalty",
        "role": "leader",
        "department": "cyberspace",
        "reason": "同意",
    }
    return (_X(good, True), _X({**good, "disposition_id": ""}, False), _X({}, False))


@register_kind
class DispositionApproved(EventKind):
    kind = "disposition.approved"
    description = "A leader approved a proposed disposition."
    required = _schema(_DISPOSITION)
    examples = _decision_examples()


@register_kind
class DispositionRejected(EventKind):
    kind = "disposition.rejected"
    description = "A leader rejected a proposed disposition."
    required = _schema(_DISPOSITION)
    examples = _decision_examples()


@register_kind
class DispositionWithdrawn(EventKind):
    kind = "disposition.withdrawn"
    description = "A proposed disposition was withdrawn before a decision."
    required = _schema(_DISPOSITION)
    examples = _decision_examples()


@register_kind
class EvidenceAdded(EventKind):
    kind = "evidence.added"
    description = "A piece of evidence was stored under its SHA-256 (content-addressed)."
    required = _schema({"digest": SHA256, "size": NAT, "media_type": STR})
    optional = _schema({"name": OPT_STR, "source_url": OPT_STR, "captured_at": OPT_STR})
    examples = (
        _X({"digest": _DIGEST, "size": 4, "media_type": "text/plain"}, True),
        _X(
            {
                "digest": _DIGEST,
                "size": 4,
                "media_type": "image/png",
                "name": "截图.png",
                "source_url": "https://example.cn/a",
                "captured_at": "2020-11-30T01:02:03.000000Z",
            },
            True,
        ),
        _X({"digest": _DIGEST.upper(), "size": 4, "media_type": "text/plain"}, False),
        _X({"digest": _DIGEST, "size": -1, "media_type": "text/plain"}, False),
        _X({"digest": _DIGEST, "size": True, "media_type": "text/plain"}, False),
    )


@register_kind
class ReportReceived(EventKind):
    kind = "report.received"
    description = "An intake item arrived: public tip, platform self-report, patrol, hand-off."
    required = _schema({"ticket": STR, "source": STR})
    optional = _schema({"urls": STR_LIST, "categories": STR_LIST, "digests": STR_LIST})
    examples = (
        _X({"ticket": "R-7Q2M", "source": "public_tip"}, True),
        _X({"ticket": "R-7Q2M", "source": "patrol", "urls": ["https://example.cn"]}, True),
        _X({"ticket": "R-7Q2M"}, False),
        _X({"ticket": "R-7Q2M", "source": "patrol", "urls": "https://example.cn"}, False),
    )


@register_kind
class LeadMerged(EventKind):
    kind = "lead.merged"
    description = "An intake item was deduplicated into an existing lead."
    required = _schema({"into": STR, "by": STR})
    examples = (
        _X({"into": "case:SH-2020-0001", "by": "content_hash"}, True),
        _X({"into": "case:SH-2020-0001"}, False),
    )


@register_kind
class NoticeSent(EventKind):
    kind = "notice.sent"
    description = "A notice with approved dispositions went to a platform operator."
    required = _schema({"notice_id": STR, "recipient": STR, "disposition_ids": STR_LIST})
    examples = (
        _X({"notice_id": "N1", "recipient": "org:42", "disposition_ids": ["C1/D1"]}, True),
        _X({"notice_id": "N1", "recipient": "org:42", "disposition_ids": [1]}, False),
    )


@register_kind
class RectificationReported(EventKind):
    kind = "rectification.reported"
    description = "A platform operator reported rectification done for a notice."
    required = _schema({"notice_id": STR})
    optional = _schema({"summary": OPT_STR, "digests": STR_LIST})
    examples = (
        _X({"notice_id": "N1", "summary": "已清理"}, True),
        _X({"summary": "已清理"}, False),
    )


@register_kind
class LedgerSubjectCreated(EventKind):
    kind = "ledger.subject_created"
    description = "A supervised subject (site, app, game, platform...) entered the ledger."
    required = _schema({"subject_type": STR, "fields": OBJ})
    examples = (
        _X({"subject_type": "website", "fields": {"domains": ["example.cn"]}}, True),
        _X({"subject_type": "website"}, False),
    )


@register_kind
class LedgerSubjectUpdated(EventKind):
    kind = "ledger.subject_updated"
    description = "Ledger fields changed: old and new values per field."
    required = _schema({"changes": OBJ})
    examples = (
        _X({"changes": {"risk_level": {"old": "low", "new": "high"}}}, True),
        _X({"changes": []}, False),
    )


@register_kind
class UserCreated(EventKind):
    kind = "user.created"
    description = "A user account was created."
    required = _schema({"roles": STR_LIST, "department": OPT_STR, "jurisdiction": OPT_STR})
    examples = (
        _X({"roles": ["admin"], "department": None, "jurisdiction": "100000"}, True),
        _X({"roles": "admin", "department": None, "jurisdiction": None}, False),
    )


@register_kind
class UserRolesChanged(EventKind):
    kind = "user.roles_changed"
    description = "A user's roles, department or jurisdiction changed."
    required = _schema({"roles": STR_LIST})
    optional = _schema({"department": OPT_STR, "jurisdiction": OPT_STR, "active": BOOL})
    examples = (
        _X({"roles": ["leader"], "active": True}, True),
        _X({"roles": ["leader"], "active": "yes"}, False),
    )


@register_kind
class UserPasswordReset(EventKind):
    kind = "user.password_reset"
    description = "An administrator set a new password for a user; the user's sessions ended."
    required = _schema({"sessions_ended": BOOL})
    examples = (
        _X({"sessions_ended": True}, True),
        _X({"sessions_ended": "yes"}, False),
    )


@register_kind
class OrganisationCreated(EventKind):
    kind = "organisation.created"
    description = "A platform operator (organisation) was registered."
    required = _schema({"name": STR})
    optional = _schema({"uscc": OPT_STR, "region": OPT_STR})
    examples = (
        _X({"name": "示例网络科技有限公司", "uscc": "91350100M000100Y43", "region": None}, True),
        _X({"uscc": "91350100M000100Y43"}, False),
    )


@register_kind
class LeadFlagged(EventKind):
    kind = "lead.flagged"
    description = "An intake item was flagged: flooding, coordinated malicious reporting, late."
    required = _schema({"flags": STR_LIST})
    optional = _schema({"target": OPT_STR, "count": NAT, "clients": NAT})
    examples = (
        _X({"flags": ["flood"], "target": "domain:example.cn", "count": 25, "clients": 2}, True),
        _X({"flags": "flood"}, False),
    )


@register_kind
class CaseTaskCreated(EventKind):
    kind = "case.task_created"
    description = "A cooperating department was given a task on a case."
    required = _schema({"task_id": NAT, "department": STR, "title": STR})
    examples = (
        _X({"task_id": 1, "department": "police", "title": "协查账号主体信息"}, True),
        _X({"task_id": 1, "department": "police"}, False),
    )


@register_kind
class CaseTaskDone(EventKind):
    kind = "case.task_done"
    description = "A cooperating department finished its task on a case."
    required = _schema({"task_id": NAT, "department": STR})
    optional = _schema({"note": OPT_STR})
    examples = (
        _X({"task_id": 1, "department": "police", "note": "已查明"}, True),
        _X({"task_id": "1", "department": "police"}, False),
    )


@register_kind
class ResultPublished(EventKind):
    kind = "case.result_published"
    description = "The public result of a closed case was published to its reporters."
    required = _schema({"tickets": STR_LIST, "result": STR})
    examples = (
        _X({"tickets": ["QL-ABCD"], "result": "已依法处置"}, True),
        _X({"tickets": [], "result": ""}, False),
    )
