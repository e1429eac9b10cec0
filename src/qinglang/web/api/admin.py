"""Admin operations, behind the bearer token (QINGLANG_ADMIN_TOKEN)."""

from __future__ import annotations

import logging

from fastapi import APIRouter

from qinglang.detect import LexiconError
from qinglang.web.deps import AdminDep, DetectorDep
from qinglang.web.problems import ProblemError
from qinglang.web.schemas.health import ReloadPublic
from qinglang.web.schemas.problem import problem_responses

log = logging.getLogger("qinglang.web")

router = APIRouter(tags=["admin"])


@router.post(
    "/detect/reload",
    response_model=ReloadPublic,
    responses=problem_responses(401, 403, 404, 429, 500),
    summary="Re-read the lexicon files",
)
def reload_lexicons(_: AdminDep, detector: DetectorDep) -> dict[str, object]:
    """Swaps in freshly loaded lexicons; on a bad file keeps the current ones and answers 500."""
    try:
        detector.reload()
    except LexiconError as exc:
        raise ProblemError(
            "lexicon-error",
            f"词库重新加载失败，仍在使用原词库：{exc}",
            log_message=f"lexicon reload failed: {exc}",
        ) from exc
    stats = detector.stats()
    log.info("lexicons reloaded: %d terms", stats["terms"])
    return {"status": "reloaded", "terms": stats["terms"], "sources": detector.lexicon.sources}
