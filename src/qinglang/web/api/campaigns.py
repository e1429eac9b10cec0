"""Campaigns (专项行动) and the disclosure page (曝光台) over JSON.

Thin: each handler calls one function of `qinglang.services.campaigns` or
`qinglang.services.disclosure` in one transaction. 401 without credentials, 403 for a role
that may not, 404 for a campaign the caller cannot see, 409 for a publication that is not
possible now, 422 for bad plans, reports and fields (docs/campaigns.md).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query

from qinglang.govern import campaigns as core
from qinglang.services import campaigns as service
from qinglang.services import disclosure
from qinglang.services.errors import invalid
from qinglang.web.auth import CurrentPrincipal, DatabaseDep, ReadSession, now
from qinglang.web.schemas.campaigns import (
    CampaignChange,
    CampaignCreate,
    CampaignPublic,
    CaseCampaignSet,
    DisclosurePagePublic,
    PlanPublic,
    ProgressPublic,
    PublicationCreate,
    PublicationWithdraw,
    ReportCreate,
    ReportPublic,
    campaign_public,
    plan_public,
)
from qinglang.web.schemas.problem import problem_responses

router = APIRouter(tags=["campaigns"])

IdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]
_COMMAND = problem_responses(400, 401, 403, 404, 409, 413, 415, 422)


@router.get(
    "/campaigns/templates",
    response_model=list[PlanPublic],
    summary="The campaign templates of the seed documents",
)
def list_templates():
    return [plan_public(p) for p in service.templates_list()]


@router.get(
    "/campaigns",
    response_model=list[CampaignPublic],
    responses=problem_responses(401, 403, 422),
    summary="The campaigns the caller sees (covering or inside their jurisdiction)",
)
def list_campaigns(principal: CurrentPrincipal, session: ReadSession, archived: bool = False):
    views = service.list_campaigns(session, principal, include_archived=archived)
    return [campaign_public(v) for v in views]


def _plan(body: CampaignCreate, principal_jurisdiction: str) -> core.CampaignPlan:
    if body.template is not None:
        try:
            plan = core.instantiate(
                body.template, year=body.year, jurisdiction=body.jurisdiction, name=body.name
            )
        except core.CampaignError as exc:
            raise service.core_error(exc) from None
        return plan
    missing = [
        name
        for name in ("name", "departments", "starts_on", "stages")
        if getattr(body, name) is None
    ]
    if missing:
        raise invalid(
            "plan_incomplete",
            f"without a template the plan needs {', '.join(missing)}",
            f"不使用模板时须填写：{'、'.join(missing)}。",
            pointer=f"/{missing[0]}",
        )
    # The core names what is wrong with empty values (a nameless plan, no stages ...).
    return core.CampaignPlan(
        name=body.name or "",
        jurisdiction=body.jurisdiction or principal_jurisdiction,
        departments=tuple(body.departments or ()),
        starts_on=body.starts_on or date.min,
        stages=tuple(core.Stage(i, s.name, s.deadline) for i, s in enumerate(body.stages or (), 1)),
        tasks=tuple(
            core.Task(t.code, t.name, t.lead, tuple(t.co), tuple(t.grounds))
            for t in body.tasks or ()
        ),
    )


@router.post(
    "/campaigns",
    status_code=201,
    response_model=CampaignPublic,
    responses=_COMMAND,
    summary="Create a campaign from a template or from a whole plan (leaders, admins)",
)
def create_campaign(body: CampaignCreate, principal: CurrentPrincipal, db: DatabaseDep):
    plan = _plan(body, principal.jurisdiction)
    if body.template is not None and body.starts_on is not None:
        plan = replace(plan, starts_on=body.starts_on)
    with db.write() as session:
        view = service.create_campaign(session, principal, plan, at=now(), public=body.public)
        return campaign_public(view)


@router.get(
    "/campaigns/{campaign_id}",
    response_model=CampaignPublic,
    responses=problem_responses(401, 403, 404, 422),
)
def get_campaign(campaign_id: IdPath, principal: CurrentPrincipal, session: ReadSession):
    return campaign_public(service.get_campaign(session, principal, campaign_id))


@router.patch(
    "/campaigns/{campaign_id}",
    response_model=CampaignPublic,
    responses=_COMMAND,
    summary="Publish the progress, or archive (leaders, admins)",
)
def change_campaign(
    campaign_id: IdPath, body: CampaignChange, principal: CurrentPrincipal, db: DatabaseDep
):
    with db.write() as session:
        view = service.change_campaign(
            session, principal, campaign_id, at=now(), public=body.public, archived=body.archived
        )
        return campaign_public(view)


@router.get(
    "/campaigns/{campaign_id}/reports",
    response_model=list[ReportPublic],
    responses=problem_responses(401, 403, 404, 422),
)
def list_reports(campaign_id: IdPath, principal: CurrentPrincipal, session: ReadSession):
    return service.reports(session, principal, campaign_id)


@router.post(
    "/campaigns/{campaign_id}/reports",
    status_code=201,
    response_model=ReportPublic,
    responses=_COMMAND,
    summary="Report the caller's department's progress for a stage",
)
def add_report(
    campaign_id: IdPath, body: ReportCreate, principal: CurrentPrincipal, db: DatabaseDep
):
    with db.write() as session:
        return service.add_report(
            session,
            principal,
            campaign_id,
            stage=body.stage,
            body=body.body,
            figures=body.figures,
            task_code=body.task,
            at=now(),
        )


@router.get(
    "/campaigns/{campaign_id}/progress",
    response_model=ProgressPublic,
    responses=problem_responses(401, 403, 404, 422),
    summary="Each department's report status per stage, and today's reminders",
)
def progress(
    campaign_id: IdPath,
    principal: CurrentPrincipal,
    session: ReadSession,
    days_before: Annotated[int, Query(ge=0, le=90)] = core.DEFAULT_REMIND_DAYS,
):
    p = service.progress(session, principal, campaign_id, at=now(), days_before=days_before)
    return {
        "today": p.today,
        "current_stage": p.current_stage.n if p.current_stage else None,
        "cells": p.cells,
        "reminders": p.reminders,
    }


@router.put(
    "/cases/{case_id}/campaign",
    status_code=204,
    responses=_COMMAND,
    summary="File a case (and its intake items) under a campaign and task, or take it out",
)
def set_case_campaign(
    case_id: IdPath, body: CaseCampaignSet, principal: CurrentPrincipal, db: DatabaseDep
) -> None:
    with db.write() as session:
        service.set_case_campaign(
            session, principal, case_id, body.campaign_id, body.task, at=now()
        )


@router.post(
    "/cases/{case_id}/publication",
    status_code=201,
    responses=_COMMAND,
    summary="Publish the case as a typical case on the disclosure page (lead department leader)",
)
def publish(
    case_id: IdPath, body: PublicationCreate, principal: CurrentPrincipal, db: DatabaseDep
) -> dict[str, int]:
    with db.write() as session:
        pub = disclosure.publish(
            session,
            principal,
            case_id,
            title=body.title,
            body=body.body,
            fields=body.fields,
            at=now(),
        )
        return {"id": pub.id}


@router.post(
    "/publications/{publication_id}/withdraw",
    status_code=204,
    responses=_COMMAND,
    summary="Take a typical case off the disclosure page (it stays on record)",
)
def withdraw(
    publication_id: IdPath,
    body: PublicationWithdraw,
    principal: CurrentPrincipal,
    db: DatabaseDep,
) -> None:
    with db.write() as session:
        disclosure.withdraw(session, principal, publication_id, reason=body.reason, at=now())


@router.get(
    "/disclosure",
    response_model=DisclosurePagePublic,
    responses=problem_responses(422),
    summary="The disclosure page: published typical cases, public fields only (no login)",
)
def disclosure_page(
    session: ReadSession,
    jurisdiction: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    campaign_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=disclosure.PAGE_MAX)] = 20,
    offset: Annotated[int, Query(ge=0, le=10**6)] = 0,
):
    items, total = disclosure.list_public(
        session, jurisdiction=jurisdiction, campaign_id=campaign_id, limit=limit, offset=offset
    )
    return {"items": items, "total": total, "limit": limit, "offset": offset}
