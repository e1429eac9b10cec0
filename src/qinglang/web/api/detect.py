"""POST /detect and GET /scenes."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from qinglang.web.deps import DetectorDep, SettingsDep
from qinglang.web.limits import check_batch, check_text
from qinglang.web.responses import SafeJSONResponse
from qinglang.web.schemas.detect import BatchResultPublic, DetectRequest, VerdictPublic
from qinglang.web.schemas.problem import problem_responses
from qinglang.web.schemas.scene import SceneListPublic

router = APIRouter(tags=["detect"])


@router.post(
    "/detect",
    response_model=VerdictPublic | BatchResultPublic,
    responses=problem_responses(400, 413, 415, 422, 429),
    summary="Check one text or a batch",
)
def detect(body: DetectRequest, detector: DetectorDep, settings: SettingsDep) -> Response:
    """`{"text": ...}` answers one verdict; `{"items": [...]}` answers `{"results": [...]}`."""
    detector.scene(body.scene)  # UnknownSceneError -> 422 before any work
    if body.text is not None:
        check_text(body.text, settings)
        verdict = detector.check(body.text, body.scene)
        return SafeJSONResponse(verdict.to_dict(explain=body.explain))
    pairs = body.item_pairs()
    check_batch([text for _, text in pairs], settings)
    verdicts = detector.check_many((text for _, text in pairs), body.scene)
    results = [
        {"id": item_id, **verdict.to_dict(explain=body.explain)}
        for (item_id, _), verdict in zip(pairs, verdicts, strict=True)
    ]
    return SafeJSONResponse({"results": results})


@router.get("/scenes", response_model=SceneListPublic, summary="Scenes (strictness profiles)")
def list_scenes(detector: DetectorDep) -> dict[str, object]:
    return {"scenes": [detector.scene(name).to_dict() for name in detector.scenes]}
