"""Log redaction: resident ID numbers and mobile numbers never reach a log line."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from qinglang.logging_setup import (
    ID_PLACEHOLDER,
    MOBILE_PLACEHOLDER,
    RedactingFilter,
    configure_logging,
    make_handler,
    redact,
)
from qinglang.settings import Settings
from qinglang.web.app import create_app

ID_NUMBER = "11010520100101123X"
ID_NUMBER_DIGIT = "440305201503071234"
MOBILE = "13812345678"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"id {ID_NUMBER} end", f"id {ID_PLACEHOLDER} end"),
        (f"id {ID_NUMBER.lower()}", f"id {ID_PLACEHOLDER}"),
        (f"身份证号{ID_NUMBER_DIGIT}。", f"身份证号{ID_PLACEHOLDER}。"),
        (f"call {MOBILE}", f"call {MOBILE_PLACEHOLDER}"),
        ("手机：138-1234-5678", f"手机：{MOBILE_PLACEHOLDER}"),
        ("tel +86 138 1234 5678", f"tel {MOBILE_PLACEHOLDER}"),
        ("tel 008613812345678", f"tel {MOBILE_PLACEHOLDER}"),
        ("全角１３８１２３４５６７８", f"全角{MOBILE_PLACEHOLDER}"),
        (f"a{MOBILE}b", f"a{MOBILE_PLACEHOLDER}b"),
        (f"{ID_NUMBER}\n{MOBILE}", f"{ID_PLACEHOLDER}\n{MOBILE_PLACEHOLDER}"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "order 1234567890 shipped",  # 10 digits
        "12812345678",  # not a mobile prefix
        "1234567890123456789012",  # a long digit run is neither
        "port 8000, 2020-11-30",
    ],
)
def test_redact_leaves_other_numbers(text: str) -> None:
    assert redact(text) == text


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    logger = logging.getLogger("qinglang.test.redaction")
    handler = make_handler(stream)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def test_message_and_args_are_redacted(captured) -> None:
    logger, stream = captured
    logger.info("minor %s registered with phone %s", ID_NUMBER, MOBILE)
    logger.warning(f"inline {ID_NUMBER_DIGIT}")
    logger.info("mapping %(phone)s", {"phone": MOBILE})
    out = stream.getvalue()
    for secret in (ID_NUMBER, ID_NUMBER_DIGIT, MOBILE):
        assert secret not in out
    assert out.count(ID_PLACEHOLDER) == 2
    assert out.count(MOBILE_PLACEHOLDER) == 2


def test_tracebacks_and_stacks_are_redacted(captured) -> None:
    logger, stream = captured
    try:
        raise ValueError(f"bad id {ID_NUMBER}")
    except ValueError:
        logger.exception("failed for %s", MOBILE)
    logger.info("here", stack_info=True, extra={"unused": MOBILE})
    out = stream.getvalue()
    assert ID_NUMBER not in out
    assert MOBILE not in out
    assert "ValueError: bad id " + ID_PLACEHOLDER in out


def test_unformattable_args_do_not_leak(captured) -> None:
    logger, stream = captured
    logger.info("two %s %s", MOBILE)
    assert MOBILE not in stream.getvalue()


def test_filter_is_idempotent() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "p %s", (MOBILE,), None)
    f = RedactingFilter()
    assert f.filter(record) and f.filter(record)
    assert record.getMessage() == f"p {MOBILE_PLACEHOLDER}"


@pytest.fixture
def root_logging() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    configure_logging("DEBUG", stream=stream)
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)


def test_configure_logging_covers_every_logger(root_logging: io.StringIO) -> None:
    configure_logging("DEBUG", stream=root_logging)  # idempotent: still one handler of ours
    logging.getLogger("uvicorn.access").info('"GET /x?phone=%s HTTP/1.1" 200', MOBILE)
    logging.getLogger("some.library").error("user %s", ID_NUMBER)
    out = root_logging.getvalue()
    assert MOBILE not in out and ID_NUMBER not in out
    assert out.count(MOBILE_PLACEHOLDER) == 1


def test_web_error_logs_are_redacted(root_logging: io.StringIO) -> None:
    app = create_app(Settings(rate_limit_per_minute=0))

    @app.get("/boom/{value}")
    def boom(value: str) -> None:
        raise RuntimeError(f"could not handle {value}")

    client = TestClient(app, raise_server_exceptions=False)
    assert client.get(f"/boom/{ID_NUMBER}").status_code == 500
    assert client.get(f"/nothing/{MOBILE}").status_code == 404
    out = root_logging.getvalue()
    assert "unhandled RuntimeError" in out
    assert ID_NUMBER not in out
    assert MOBILE not in out
