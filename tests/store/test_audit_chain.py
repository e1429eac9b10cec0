"""The audit hash chain: canonical form, typed kinds, and tamper detection at the right seq."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qinglang.store.audit_chain import (
    GENESIS_HASH,
    MAX_PAYLOAD_BYTES,
    Anchor,
    AuditError,
    AuditRecord,
    EventKind,
    PayloadExample,
    append,
    canonical_json,
    canonical_time,
    chain_hash,
    event_kind,
    evidence_digest,
    register_kind,
    registered_kinds,
    to_json_native,
    verify,
)

T0 = datetime(2020, 11, 30, 9, 0, 0, 4, tzinfo=timezone(timedelta(hours=8)))
KINDS = registered_kinds()
EXAMPLES = [
    pytest.param(cls, ex, id=f"{name}-{i}")
    for name, cls in KINDS.items()
    for i, ex in enumerate(cls.examples)
]
VALID = [(name, ex.payload) for name, cls in KINDS.items() for ex in cls.examples if ex.valid]


def _chain(n: int) -> list[AuditRecord]:
    records: list[AuditRecord] = []
    for i in range(n):
        kind, payload = VALID[i % len(VALID)]
        records.append(
            append(
                records[-1] if records else None,
                at=T0 + timedelta(minutes=i),
                actor=f"user:{i % 3}",
                kind=kind,
                subject=f"case:SH-2020-{i:04d}",
                payload=payload,
            )
        )
    return records


# ---------------------------------------------------------------- canonical form


def test_canonical_form_is_documented_json() -> None:
    fields = {
        "seq": 1,
        "at": T0,
        "actor": "user:1",
        "kind": "lead.merged",
        "subject": "case:沪-1",
        "payload": {"into": "case:沪-0", "by": "url"},
    }
    expected = (
        '{"actor":"user:1","at":"2020-11-30T01:00:00.000004Z","kind":"lead.merged",'
        '"payload":{"by":"url","into":"case:沪-0"},"prev_hash":"' + GENESIS_HASH + '",'
        '"seq":1,"subject":"case:沪-1"}'
    ).encode()
    assert chain_hash(GENESIS_HASH, fields) == hashlib.sha256(expected).hexdigest()


def test_canonical_json() -> None:
    assert (
        canonical_json({"b": [1, None, True], "a": "清朗"})
        == '{"a":"清朗","b":[1,null,true]}'.encode()
    )
    with pytest.raises(AuditError):
        canonical_json({"x": float("nan")})


def test_canonical_time() -> None:
    same = [T0, T0.astimezone(UTC), T0.astimezone(timezone(timedelta(hours=-5)))]
    assert {canonical_time(t) for t in same} == {"2020-11-30T01:00:00.000004Z"}
    assert canonical_time(datetime(2020, 1, 1, tzinfo=UTC)) == "2020-01-01T00:00:00.000000Z"
    with pytest.raises(AuditError):
        canonical_time(datetime(2020, 1, 1))
    with pytest.raises(AuditError):
        canonical_time(date(2020, 1, 1))


class _Color(StrEnum):
    red = "red"


def test_to_json_native() -> None:
    value = {
        "amount": Decimal("50000.00"),
        "deadline": date(2020, 11, 30),
        "at": T0,
        "ids": ("a", "b"),
        "color": _Color.red,
        "nested": {"n": 1, "ok": False, "none": None},
    }
    assert to_json_native(value) == {
        "amount": "50000.00",
        "deadline": "2020-11-30",
        "at": "2020-11-30T01:00:00.000004Z",
        "ids": ["a", "b"],
        "color": "red",
        "nested": {"n": 1, "ok": False, "none": None},
    }


@pytest.mark.parametrize(
    "value",
    [
        {"x": 1.5},  # floats have no stable text across databases
        {"x": Decimal("NaN")},
        {1: "x"},
        {"": "x"},
        {"键": "x"},
        {"x": "a\x00b"},  # PostgreSQL text / jsonb cannot hold NUL
        {"x": {1, 2}},
        {"x": b"bytes"},
    ],
)
def test_to_json_native_refuses(value) -> None:
    with pytest.raises(AuditError):
        to_json_native(value)


def test_evidence_digest() -> None:
    assert evidence_digest(b"test") == (
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    )
    assert evidence_digest(b"") == hashlib.sha256(b"").hexdigest()
    with pytest.raises(TypeError):
        evidence_digest("test")  # type: ignore[arg-type]


# ---------------------------------------------------------------- typed kinds


@pytest.mark.parametrize(("cls", "example"), EXAMPLES)
def test_kind_example(cls: type[EventKind], example: PayloadExample) -> None:
    if example.valid:
        cls.check(to_json_native(example.payload))
        record = append(
            None, at=T0, actor="system", kind=cls.kind, subject="x:1", payload=example.payload
        )
        assert verify([record]).ok
    else:
        with pytest.raises(AuditError):
            append(
                None, at=T0, actor="system", kind=cls.kind, subject="x:1", payload=example.payload
            )


def test_kinds_registry() -> None:
    for name, cls in KINDS.items():
        assert cls.kind == name and cls.description
        assert any(ex.valid for ex in cls.examples) and any(not ex.valid for ex in cls.examples)
    assert {"case.created", "case.transition", "disposition.approved", "evidence.added"} <= set(
        KINDS
    )
    assert {"report.received"} <= set(KINDS)
    with pytest.raises(AuditError):
        event_kind("case.deleted")

    class Impostor(EventKind):
        kind = "case.created"
        description = "no"
        examples = ()

    with pytest.raises(ValueError, match="registered twice"):
        register_kind(Impostor)


# ---------------------------------------------------------------- append


def test_append_links_records() -> None:
    first, second = _chain(2)
    assert (first.seq, first.prev_hash) == (1, GENESIS_HASH)
    assert (second.seq, second.prev_hash) == (2, first.hash)
    assert second.hash == chain_hash(first.hash, second.fields())
    assert first.anchor == Anchor(1, first.hash)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "case.deleted"}, "unknown audit event kind"),
        ({"payload": {"into": "case:1"}}, "missing payload field"),
        ({"payload": {"into": "case:1", "by": "url", "extra": 1}}, "unknown payload fields"),
        ({"payload": {"into": "case:1", "by": 3}}, "must be a non-empty string"),
        ({"subject": "no-type"}, "subject"),
        ({"subject": "case: spaced"}, "subject"),
        ({"actor": ""}, "actor"),
        ({"actor": "a\x00"}, "NUL"),
        ({"at": datetime(2020, 1, 1)}, "timezone-aware"),
        ({"payload": {"into": "x" * MAX_PAYLOAD_BYTES, "by": "url"}}, "larger than"),
    ],
)
def test_append_refuses(kwargs, message: str) -> None:
    base = {
        "at": T0,
        "actor": "user:1",
        "kind": "lead.merged",
        "subject": "case:1",
        "payload": {"into": "case:0", "by": "url"},
    }
    with pytest.raises(AuditError, match=message):
        append(None, **{**base, **kwargs})


# ---------------------------------------------------------------- verify: fixed tampering


def test_intact_and_empty_logs_verify() -> None:
    assert verify([]).ok and verify([]).head is None
    records = _chain(10)
    result = verify(records)
    assert result and result.checked == 10 and result.head == records[-1].anchor
    assert result.first_bad_seq is None and result.reason is None


def test_storage_round_trip_keeps_the_hash() -> None:
    # What a JSON column and a timestamptz column give back: re-parsed payload, another zone.
    stored = [
        replace(
            r,
            payload=json.loads(json.dumps(r.payload)),
            at=r.at.astimezone(UTC),
        )
        for r in _chain(8)
    ]
    assert verify(stored).ok


def test_altered_row() -> None:
    records = _chain(6)
    records[3] = replace(records[3], actor="user:forger")
    result = verify(records)
    assert not result.ok and result.first_bad_seq == 4 and "hash mismatch" in result.reason
    assert result.head == Anchor(3, records[2].hash)


def test_altered_and_rehashed_row_breaks_the_next_link() -> None:
    records = _chain(6)
    forged = replace(records[3], payload={**records[3].payload})
    forged = replace(forged, subject="case:other")
    records[3] = replace(forged, hash=chain_hash(forged.prev_hash, forged.fields()))
    result = verify(records)
    assert result.first_bad_seq == 5 and "prev_hash" in result.reason


def test_deleted_row() -> None:
    records = _chain(6)
    del records[2]
    result = verify(records)
    assert result.first_bad_seq == 3 and "missing" in result.reason


def test_deleted_and_renumbered_rows() -> None:
    records = _chain(6)
    del records[2]
    records = [replace(r, seq=i + 1) for i, r in enumerate(records)]
    assert verify(records).first_bad_seq == 3


def test_truncated_head() -> None:
    result = verify(_chain(6)[2:])
    assert result.first_bad_seq == 1 and "head truncated" in result.reason


def test_reordered_rows() -> None:
    records = _chain(6)
    records[1], records[4] = records[4], records[1]
    result = verify(records)
    assert result.first_bad_seq == 2 and "out of order" in result.reason
    # Swapping contents but keeping the seq column in place is caught by the links.
    records = _chain(6)
    a, b = records[1], records[4]
    records[1], records[4] = replace(b, seq=a.seq), replace(a, seq=b.seq)
    assert verify(records).first_bad_seq == 2


def test_duplicated_row() -> None:
    records = _chain(4)
    records.insert(2, records[1])
    assert verify(records).first_bad_seq == 3


def test_truncated_tail_needs_an_anchor() -> None:
    records = _chain(6)
    head = records[-1].anchor
    assert verify(records[:4]).ok  # the chain alone cannot see it
    result = verify(records[:4], head=head)
    assert result.first_bad_seq == 5 and "tail truncated" in result.reason
    assert verify(records, head=head).ok
    assert verify(records, head=records[2].anchor).ok  # rows appended after the anchor
    assert verify([], head=head).first_bad_seq == 1


def test_rewritten_chain_disagrees_with_the_anchor() -> None:
    records = _chain(6)
    head = records[-1].anchor
    # Rewrite from seq 3 on, recomputing every hash: the chain is consistent again...
    rewritten = records[:2]
    for r in records[2:]:
        rewritten.append(
            append(
                rewritten[-1],
                at=r.at,
                actor="user:forger",
                kind=r.kind,
                subject=r.subject,
                payload=r.payload,
            )
        )
    assert verify(rewritten).ok
    # ...but not with the anchor kept elsewhere.
    assert verify(rewritten, head=head).first_bad_seq == 6


def test_verify_after_a_checkpoint() -> None:
    records = _chain(10)
    checkpoint = records[5].anchor
    assert verify(records[6:], after=checkpoint).ok
    assert verify(records[7:], after=checkpoint).first_bad_seq == 7
    assert verify(records[6:], after=Anchor(6, "f" * 64)).first_bad_seq == 7


def test_unhashable_row_is_reported_not_raised() -> None:
    records = _chain(3)
    records[1] = replace(records[1], at=records[1].at.replace(tzinfo=None))
    result = verify(records)
    assert result.first_bad_seq == 2 and "cannot hash" in result.reason


# ---------------------------------------------------------------- verify: random logs


@st.composite
def logs(draw, min_size: int = 1) -> list[AuditRecord]:
    n = draw(st.integers(min_size, 25))
    records: list[AuditRecord] = []
    at = T0
    for _ in range(n):
        kind, payload = draw(st.sampled_from(VALID))
        at += timedelta(microseconds=draw(st.integers(0, 10**9)))
        records.append(
            append(
                records[-1] if records else None,
                at=at,
                actor=draw(st.sampled_from(["system", "user:1", "user:2", "public:R-9"])),
                kind=kind,
                subject=draw(st.sampled_from(["case:A-1", "case:沪-2", "subject:42"])),
                payload=payload,
            )
        )
    return records


@settings(deadline=None)
@given(logs())
def test_random_logs_verify(records: list[AuditRecord]) -> None:
    result = verify(records)
    assert result.ok and result.head == records[-1].anchor
    assert verify(records, head=records[-1].anchor).ok


_MUTATIONS = {
    "actor": lambda r: replace(r, actor=r.actor + "x"),
    "subject": lambda r: replace(r, subject=r.subject + "x"),
    "kind": lambda r: replace(r, kind="case.deleted" if r.kind != "case.deleted" else "x.y"),
    "payload": lambda r: replace(r, payload={**r.payload, "tampered": True}),
    "at": lambda r: replace(r, at=r.at + timedelta(microseconds=1)),
    "seq": lambda r: replace(r, seq=r.seq + 1),
    "prev_hash": lambda r: replace(r, prev_hash="0" * 63 + "1"),
    "hash": lambda r: replace(r, hash=r.hash[::-1]),
}


@settings(deadline=None)
@given(logs(), st.data(), st.sampled_from(sorted(_MUTATIONS)))
def test_any_single_mutation_is_found_at_its_seq(records, data, field: str) -> None:
    k = data.draw(st.integers(0, len(records) - 1))
    mutated = list(records)
    mutated[k] = _MUTATIONS[field](records[k])
    result = verify(mutated)
    assert not result.ok and result.first_bad_seq == k + 1, (field, result)


@settings(deadline=None)
@given(logs(min_size=2), st.data())
def test_any_deletion_is_found_at_its_seq(records, data) -> None:
    k = data.draw(st.integers(0, len(records) - 1))
    remaining = records[:k] + records[k + 1 :]
    result = verify(remaining, head=records[-1].anchor)
    assert not result.ok and result.first_bad_seq == k + 1, result
    if k < len(records) - 1:  # only a deleted last row needs the anchor
        assert verify(remaining).first_bad_seq == k + 1


@settings(deadline=None)
@given(logs(min_size=2), st.data())
def test_any_swap_is_found_at_the_first_position(records, data) -> None:
    i = data.draw(st.integers(0, len(records) - 2))
    j = data.draw(st.integers(i + 1, len(records) - 1))
    swapped = list(records)
    swapped[i], swapped[j] = swapped[j], swapped[i]
    result = verify(swapped)
    assert not result.ok and result.first_bad_seq == i + 1, result
