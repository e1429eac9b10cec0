"""The guard API for platforms (/api/v1/guard): identity, decisions, sessions, payments,
youth mode and guardians. Platforms authenticate with their API key; admins register
platforms and keep the calendar override table. See docs/guard.md.

Heartbeats are `async` and never touch the database: one session read, one usage read and one
compare-and-set on the counters (in-process or Redis).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from sqlalchemy import select

from qinglang.govern.actors import Role
from qinglang.guard.ages import age_on, band_of, local_day
from qinglang.guard.calendar import DayKind
from qinglang.guard.decision import PlatformKind
from qinglang.guard.identity import check_id_number
from qinglang.guard.rulesets import (
    GuardInputError,
    PayKind,
    PlayRequest,
    all_rule_sets,
    evaluate,
    get,
    resolve,
)
from qinglang.services import guard_payments as payments
from qinglang.services import guardians as guardian_service
from qinglang.services.errors import ServiceError, invalid
from qinglang.services.guard_platforms import (
    PlatformInfo,
    ProfileInfo,
    create_platform,
    get_profile,
    register_profile,
)
from qinglang.store.models import CalendarOverride
from qinglang.web.auth import CurrentPrincipal, now
from qinglang.web.deps import DetectorDep, SettingsDep
from qinglang.web.guard_deps import CurrentPlatform, GuardDep
from qinglang.web.schemas.guard import (
    DecideIn,
    DecisionOut,
    ExtendIn,
    GuardianIn,
    GuardianOut,
    IdCheckIn,
    IdCheckOut,
    LimitsIn,
    LoginIn,
    OverrideIn,
    PaymentIn,
    PaymentOut,
    PaymentRecordIn,
    PlatformIn,
    PlatformOut,
    ProfileIn,
    ProfileOut,
    RefundIn,
    RefundOut,
    SessionOut,
    UnlockIn,
    YouthFilterIn,
)
from qinglang.web.schemas.problem import problem_responses

router = APIRouter(prefix="/guard", tags=["guard"])

INT_MAX = 2**31 - 1
IdPath = Annotated[int, Path(ge=1, le=INT_MAX)]
SessionPath = Annotated[str, Path(min_length=1, max_length=64)]
AUTH = problem_responses(401, 422)
AUTH_404 = problem_responses(401, 404, 422)


def _fen(yuan: Decimal) -> int:
    return int((yuan * 100).to_integral_value())


def _guard_input(exc: GuardInputError) -> ServiceError:
    return invalid("bad_input", str(exc), exc.message_zh, field=exc.field)


def _profile_out(p: ProfileInfo) -> dict[str, Any]:
    age = age_on(p.birth_date, local_day(now()))
    return {
        "account": p.account,
        "pi": p.person_key,
        "birth_date": p.birth_date,
        "age": age,
        "age_band": band_of(max(age, 0)).value,
        "minor": age < 18,
        "verified_via": p.verified_via,
    }


def _profile(runtime, platform: PlatformInfo, account: str) -> ProfileInfo:
    with runtime.db.read() as session:
        return get_profile(session, platform, account)


# ---------------------------------------------------------------- public: rules and health


@router.get("/rule-sets", summary="The rule sets, with sources and effective dates")
async def rule_sets() -> dict[str, Any]:
    return {"rule_sets": [rs.describe() for rs in all_rule_sets()]}


@router.get(
    "/health",
    summary="Calendar coverage and counters: 503 when minors would be refused for lack of data",
    responses=problem_responses(503),
)
def guard_health(runtime: GuardDep, response: Response, settings: SettingsDep) -> dict[str, Any]:
    today = local_day(now())
    calendar = runtime.calendar().coverage_report(today, years_ahead=settings.guard_window_years)
    current_ok = runtime.calendar().covers(today.year)
    counters_ok = runtime.counters.ping()
    status = "ok" if calendar["ok"] and counters_ok else "degraded"
    if not current_ok or not counters_ok:
        status = "failing"
        response.status_code = 503
    warnings = []
    for year in calendar["missing_years"]:
        warnings.append(
            f"no holiday calendar data for {year}: minors will be refused on days that need "
            f"it; add the State Council schedule to the override table"
        )
    return {"status": status, "calendar": calendar, "counters": counters_ok, "warnings": warnings}


# ---------------------------------------------------------------- identity and profiles


@router.post(
    "/identity/check",
    response_model=IdCheckOut,
    responses=AUTH,
    summary="Check a resident ID number (nothing is stored or logged)",
)
async def identity_check(body: IdCheckIn, platform: CurrentPlatform) -> dict[str, Any]:
    return check_id_number(body.id_number, today=local_day(now()))


@router.post(
    "/profiles",
    response_model=ProfileOut,
    status_code=201,
    responses=problem_responses(401, 409, 422),
    summary="Register an account's real-name identity (ID number or NPPA pi)",
)
def create_profile(body: ProfileIn, platform: CurrentPlatform, runtime: GuardDep):
    with runtime.db.write() as session:
        info = register_profile(
            session,
            platform,
            body.account,
            id_number=body.id_number,
            pi=body.pi,
            key=runtime.key,
            now=now(),
        )
    return _profile_out(info)


@router.get("/profiles/{account}", response_model=ProfileOut, responses=AUTH_404)
def read_profile(
    account: Annotated[str, Path(min_length=1, max_length=64)],
    platform: CurrentPlatform,
    runtime: GuardDep,
):
    return _profile_out(_profile(runtime, platform, account))


# ---------------------------------------------------------------- decisions and sessions


@router.post(
    "/decide",
    response_model=DecisionOut,
    responses=AUTH_404,
    summary="Ask the rules now, without a session (an account's live usage, or a birth date)",
)
def decide(body: DecideIn, platform: CurrentPlatform, runtime: GuardDep):
    at = now()
    kind = PlatformKind(body.platform) if body.platform else platform.kind
    chosen = [body.rules] if body.rules else []
    given = sum([body.account is not None, body.birth_date is not None, body.guest])
    if given != 1:
        raise invalid(
            "identity_required",
            "give exactly one of account, birth_date and guest",
            "请提供账号、出生日期或游客标记之一。",
        )
    try:
        sets = [get(n) for n in chosen] or resolve(kind, at)
        if body.account is not None:
            p = _profile(runtime, platform, body.account)
            used = (
                body.used_today_seconds
                if body.used_today_seconds is not None
                else runtime.usage_today(p.person_key, kind, at)
            )
            if not chosen:
                return runtime.decide(kind, p.person_key, p.birth_date, at, used).as_dict()
            birth = p.birth_date
        else:
            birth, used = body.birth_date, body.used_today_seconds or 0
        return evaluate(sets, PlayRequest(at, birth, used), runtime.calendar()).as_dict()
    except GuardInputError as exc:
        raise _guard_input(exc) from None


@router.post(
    "/sessions",
    response_model=SessionOut,
    responses=AUTH_404,
    summary="Log in: a session when the rules allow play now (`session_id` null otherwise)",
)
def login(body: LoginIn, platform: CurrentPlatform, runtime: GuardDep):
    if (body.account is None) == (body.device is None):
        raise invalid(
            "identity_required",
            "give exactly one of account and device",
            "请提供账号（实名用户）或设备标识（游客）之一。",
        )
    profile = _profile(runtime, platform, body.account) if body.account else None
    return runtime.login(platform, now(), profile=profile, device=body.device).as_dict()


@router.post(
    "/sessions/{session_id}/heartbeat",
    response_model=SessionOut,
    responses=problem_responses(401, 404, 409, 422, 503),
    summary="Heartbeat: counts the time since the last step on the server's clock",
)
async def heartbeat(session_id: SessionPath, platform: CurrentPlatform, runtime: GuardDep):
    return runtime.heartbeat(platform, session_id, now()).as_dict()


@router.post(
    "/sessions/{session_id}/logout",
    response_model=SessionOut,
    responses=problem_responses(401, 404, 409, 422, 503),
    summary="Log out: counts the last stretch and ends the session",
)
def logout(session_id: SessionPath, platform: CurrentPlatform, runtime: GuardDep):
    return runtime.logout(platform, session_id, now()).as_dict()


# ---------------------------------------------------------------- payments


@router.post("/payments/check", response_model=PaymentOut, responses=AUTH_404)
def payment_check(body: PaymentIn, platform: CurrentPlatform, runtime: GuardDep):
    p = _profile(runtime, platform, body.account)
    answer = payments.check_payment(
        runtime, platform, p, _fen(body.amount_yuan), PayKind(body.kind), now()
    )
    return answer.as_dict()


@router.post(
    "/payments",
    response_model=PaymentOut,
    responses=problem_responses(401, 404, 409, 422),
    summary="Check and record a payment (`recorded` false when refused); idempotent by order_ref",
)
def payment_record(body: PaymentRecordIn, platform: CurrentPlatform, runtime: GuardDep):
    p = _profile(runtime, platform, body.account)
    answer = payments.record_payment(
        runtime, platform, p, body.order_ref, _fen(body.amount_yuan), PayKind(body.kind), now()
    )
    return answer.as_dict()


@router.post(
    "/payments/{order_ref}/refunds",
    response_model=RefundOut,
    status_code=201,
    responses=problem_responses(401, 404, 409, 422),
)
def payment_refund(
    order_ref: Annotated[str, Path(min_length=1, max_length=64)],
    body: RefundIn,
    platform: CurrentPlatform,
    runtime: GuardDep,
):
    amount = None if body.amount_yuan is None else _fen(body.amount_yuan)
    return payments.refund_payment(runtime, platform, order_ref, body.refund_ref, amount, now())


# ---------------------------------------------------------------- youth mode


@router.post("/youth/filter", responses=AUTH_404, summary="Filter a content pool for a viewer")
def youth_filter(
    body: YouthFilterIn, platform: CurrentPlatform, runtime: GuardDep, detector: DetectorDep
) -> dict[str, Any]:
    from qinglang.guard.youth_mode import ContentItem, YouthModeError, filter_pool, to_band

    try:
        if (body.account is None) == (body.age_band is None):
            raise invalid(
                "viewer_required",
                "give exactly one of account and age_band",
                "请提供账号或年龄段之一。",
            )
        if body.account is not None:
            p = _profile(runtime, platform, body.account)
            band = band_of(max(age_on(p.birth_date, local_day(now())), 0))
        else:
            band = to_band(body.age_band or "")
        items = [ContentItem.from_dict(i.model_dump()) for i in body.items]
        return filter_pool(items, band, detector).to_dict()
    except YouthModeError as exc:
        raise invalid("bad_youth_request", str(exc), exc.message_zh) from None


@router.get("/youth/features", responses=problem_responses(422))
async def youth_features(
    rule_set: Annotated[str, Query(max_length=32)] = "cac-minor-mode-2024",
    band: Annotated[str, Query(max_length=16)] = "12_16",
) -> dict[str, Any]:
    from qinglang.guard.youth_mode import YouthModeError, features_for

    try:
        return {"rule_set": rule_set, "band": band, "features": features_for(rule_set, band)}
    except YouthModeError as exc:
        raise invalid("bad_youth_request", str(exc), exc.message_zh) from None


# ---------------------------------------------------------------- guardians


@router.post(
    "/guardians",
    response_model=GuardianOut,
    status_code=201,
    responses=problem_responses(401, 409, 422),
    summary="Bind a guardian to a child (by pi), with optional stricter limits and a password",
)
def guardian_bind(body: GuardianIn, platform: CurrentPlatform, runtime: GuardDep):
    limits = body.limits.model_dump() if body.limits else None
    return guardian_service.bind(
        runtime, platform, body.guardian, body.child_pi, limits, body.password, now()
    )


@router.get("/guardians/{link_id}", response_model=GuardianOut, responses=AUTH_404)
def guardian_read(link_id: IdPath, platform: CurrentPlatform, runtime: GuardDep):
    return guardian_service.get_link(runtime, platform, link_id, now())


@router.put("/guardians/{link_id}/limits", response_model=GuardianOut, responses=AUTH_404)
def guardian_limits(link_id: IdPath, body: LimitsIn, platform: CurrentPlatform, runtime: GuardDep):
    return guardian_service.set_limits(runtime, platform, link_id, body.model_dump(), now())


@router.delete("/guardians/{link_id}", status_code=204, responses=AUTH_404)
def guardian_unbind(link_id: IdPath, platform: CurrentPlatform, runtime: GuardDep) -> Response:
    guardian_service.unbind(runtime, platform, link_id, now())
    return Response(status_code=204)


@router.post("/guardians/{link_id}/unlock", response_model=GuardianOut, responses=AUTH_404)
def guardian_unlock(link_id: IdPath, body: UnlockIn, platform: CurrentPlatform, runtime: GuardDep):
    return guardian_service.unlock(runtime, platform, link_id, body.seconds, now())


@router.post("/guardians/{link_id}/extend", responses=problem_responses(401, 403, 404, 422))
def guardian_extend(
    link_id: IdPath, body: ExtendIn, platform: CurrentPlatform, runtime: GuardDep
) -> dict[str, Any]:
    return guardian_service.extend_today(
        runtime, platform, link_id, body.password, body.seconds, now()
    )


@router.get("/guardians/{link_id}/alerts", responses=AUTH_404)
def guardian_alerts(
    link_id: IdPath,
    platform: CurrentPlatform,
    runtime: GuardDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    return {"alerts": guardian_service.alerts(runtime, platform, link_id, limit)}


@router.get("/guardians/{link_id}/report", responses=AUTH_404)
def guardian_report(
    link_id: IdPath,
    platform: CurrentPlatform,
    runtime: GuardDep,
    period: Annotated[str, Query(pattern="^(day|week)$")] = "day",
    day: Annotated[date | None, Query(alias="date")] = None,
) -> dict[str, Any]:
    end = day or local_day(now())
    return guardian_service.usage_report(runtime, platform, link_id, period, end)


# ---------------------------------------------------------------- admin


@router.post(
    "/platforms",
    response_model=PlatformOut,
    status_code=201,
    responses=problem_responses(401, 403, 422),
    summary="Register a platform and issue its API key (admins)",
)
def platform_create(body: PlatformIn, principal: CurrentPrincipal, runtime: GuardDep):
    principal.require(Role.admin)
    with runtime.db.write() as session:
        row, key = create_platform(session, body.name, body.kind, now(), body.organisation_id)
        return {"id": row.id, "name": row.name, "kind": row.kind, "api_key": key}


@router.get("/calendar/overrides", responses=problem_responses(401, 403))
def overrides_list(principal: CurrentPrincipal, runtime: GuardDep) -> dict[str, Any]:
    principal.require(Role.admin, Role.officer, Role.analyst, Role.leader)
    with runtime.db.read() as session:
        rows = session.execute(select(CalendarOverride).order_by(CalendarOverride.day)).scalars()
        return {
            "overrides": [{"day": r.day.isoformat(), "kind": r.kind, "note": r.note} for r in rows]
        }


@router.put("/calendar/overrides", responses=problem_responses(401, 403, 422))
def overrides_put(
    body: OverrideIn, principal: CurrentPrincipal, runtime: GuardDep
) -> dict[str, Any]:
    principal.require(Role.admin)
    with runtime.db.write() as session:
        row = session.get(CalendarOverride, body.day)
        if row is None:
            row = CalendarOverride(day=body.day, kind=body.kind, note=body.note, created_at=now())
            session.add(row)
        else:
            row.kind, row.note = body.kind, body.note
    runtime.invalidate_calendar()
    return {"day": body.day.isoformat(), "kind": DayKind(body.kind).value, "note": body.note}
