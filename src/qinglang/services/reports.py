"""The public reporting channel (000 四(四)): file a tip without an account, follow it by ticket.

`submit` files a public tip through intake (triage, dedupe, lead) and answers with a ticket
(`qinglang.govern.tickets`). `status` answers, for one ticket, only what the reporter may
know: the public status derived from the state of the lead's case and, once the case has
ended, its public result (`cases.public_result`). Never internal notes, departments, other
reports or the triage.

Clients are told apart by a keyed hash (HMAC-SHA256 with QINGLANG_SECRET_KEY) of their
address, for rate limiting and for spotting coordinated reporting; the address itself is never
stored. IPv6 addresses are keyed by their /64 network, since one household or phone holds a
whole /64.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from qinglang.detect import Detector
from qinglang.govern import intake as rules
from qinglang.govern.tickets import TicketError, parse_ticket
from qinglang.services import intake
from qinglang.services.errors import ServiceError, invalid
from qinglang.settings import Settings
from qinglang.store.blobs import BlobStore
from qinglang.store.db import Database

_HASH_CONTEXT = b"qinglang:client-address:v1:"


def client_key(address: str | None) -> str:
    """What a client is counted by: its IPv4 address, its IPv6 /64, or the raw text."""
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        mapped = ip.ipv4_mapped
        if mapped is not None:
            return mapped.compressed
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return ip.compressed


def client_hash(secret_key: str, address: str | None) -> str:
    """HMAC-SHA256 of the client's key under the secret key (hex)."""
    message = _HASH_CONTEXT + client_key(address).encode("utf-8", "replace")
    return hmac.new(secret_key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def submit(
    db: Database,
    blobs: BlobStore,
    detector: Detector,
    settings: Settings,
    *,
    at: datetime,
    text: str | None = None,
    urls: Sequence[str] = (),
    attachments: Sequence[intake.AttachmentIn] = (),
    title: str | None = None,
    category: str | None = None,
    region: str | None = None,
    platform: str | None = None,
    icp: str | None = None,
    client_hash: str | None = None,
) -> intake.Receipt:
    """File one public tip and commit it; the receipt's ticket is the reporter's key."""
    prepared = intake.prepare(
        detector,
        settings,
        source=rules.PublicTip.name,
        principal=None,
        at=at,
        text=text,
        urls=urls,
        attachments=attachments,
        title=title,
        category=category,
        jurisdiction=region,
        subject_name=platform,
        icp=icp,
        client_hash=client_hash,
        jurisdiction_pointer="#/region",
    )
    return intake.commit(db, blobs, prepared)


@dataclass(frozen=True, slots=True)
class ReportStatus:
    ticket: str
    status: rules.PublicStatus
    received_at: datetime
    updated_at: datetime
    result: str | None


def _not_found() -> ServiceError:
    return ServiceError(
        "not-found",
        "report_not_found",
        "no public report with this ticket",
        "未找到该受理编号对应的举报，请核对受理编号。",
    )


def parse(ticket: str) -> str:
    """The canonical ticket, or a 422 naming what is wrong with it (no lookup happens)."""
    try:
        return parse_ticket(ticket)
    except TicketError as exc:
        raise invalid("malformed_ticket", str(exc), exc.message_zh, reason=exc.reason) from None


def status(db: Database, ticket: str) -> ReportStatus:
    """The public status of the report holding `ticket` (malformed: 422; unknown: 404)."""
    canonical = parse(ticket)
    with db.read() as session:
        found = intake.find_by_ticket(session, canonical)
        if found is None or found[0].source != rules.PublicTip.name:
            raise _not_found()
        item, case = found
        public = rules.public_status(case.state if case is not None else None)
        result = None
        if rules.shows_result(public):
            result = item.public_result or (case.public_result if case is not None else None)
        updated = max(item.updated_at, case.updated_at) if case is not None else item.updated_at
        return ReportStatus(item.ticket, public, item.received_at, updated, result)
