"""RFC 9457 problem details, the body of every error response."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ProblemErrorItem(BaseModel):
    pointer: str = Field(description="JSON Pointer into the request body, e.g. #/items/0/text.")
    type: str = Field(description="Machine-readable error code, e.g. missing, string_type.")
    detail: str = Field(description="What is wrong, in Simplified Chinese.")


class Problem(BaseModel):
    type: str = Field(description="urn:qinglang:problem:<slug>, see docs/api.md.")
    title: str = Field(description="Short summary in Simplified Chinese.")
    status: int
    detail: str = Field(description="Explanation in Simplified Chinese.")
    instance: str | None = Field(default=None, description="The request path.")
    errors: list[ProblemErrorItem] | None = Field(
        default=None, description="Per-field errors (422 only)."
    )
    code: str | None = Field(
        default=None,
        description="Stable machine-readable reason of a refused command, e.g. invalid_from_state.",
    )


def problem_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI `responses` entries for the problems an operation can answer with."""
    descriptions = {
        400: "Malformed JSON or invalid UTF-8 (请求体不是合法的 JSON / UTF-8)",
        401: "Missing or invalid credentials (login session or bearer token)",
        403: "Outside the caller's role, department, jurisdiction or organisation",
        404: "Not found (or not visible to the caller), or admin endpoints disabled",
        409: "Conflicts with the current state (e.g. a transition the state machine forbids)",
        410: "No longer available",
        413: "Body, text or batch too large",
        415: "Body is not JSON, or an uploaded file of a type not accepted",
        422: "Validation error or unknown scene",
        429: "Rate limit exceeded; see Retry-After",
        503: "A backing service (the guard counters in Redis) is unavailable",
        500: "Server error",
    }
    return {s: {"model": Problem, "description": descriptions[s]} for s in statuses}
