"""`ServiceError`: what a command refuses, with the HTTP status the API answers it with."""

from __future__ import annotations

from typing import Any

# HTTP status per problem slug (the slugs of qinglang.web.problems.CATALOG).
STATUS = {
    "bad-request": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not-found": 404,
    "conflict": 409,
    "gone": 410,
    "body-too-large": 413,
    "unsupported-media-type": 415,
    "validation-error": 422,
    "rate-limited": 429,
    "service-unavailable": 503,
}


class ServiceError(Exception):
    """A refused command. `slug` picks the HTTP status; `code` is stable for API clients."""

    def __init__(self, slug: str, code: str, message: str, message_zh: str, **extra: Any) -> None:
        if slug not in STATUS:
            raise ValueError(f"unknown problem slug {slug!r}")
        super().__init__(message)
        self.slug = slug
        self.code = code
        self.message_zh = message_zh
        self.extra = extra

    @property
    def status(self) -> int:
        return STATUS[self.slug]


def not_found(what: str, what_zh: str, key: object) -> ServiceError:
    return ServiceError(
        "not-found", f"{what}_not_found", f"no {what} {key!r}", f"未找到该{what_zh}。"
    )


def forbidden(code: str, message: str, message_zh: str) -> ServiceError:
    return ServiceError("forbidden", code, message, message_zh)


def invalid(code: str, message: str, message_zh: str, **extra: Any) -> ServiceError:
    return ServiceError("validation-error", code, message, message_zh, **extra)


def conflict(code: str, message: str, message_zh: str) -> ServiceError:
    return ServiceError("conflict", code, message, message_zh)
