"""Bad input is answered 4xx as application/problem+json, never 500.

Every client here raises server exceptions into the test (TestClient's default), and an
autouse fixture fails a test when the catch-all handler logged anything, so a bad input that
reached it cannot pass unnoticed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import anyio
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qinglang.settings import Settings
from qinglang.web.app import create_app
from qinglang.web.body_limit import BodySizeLimitMiddleware

PROBLEM = "application/problem+json"
DETECT = "/api/v1/detect"
JSON_HEADERS = {"Content-Type": "application/json"}


def as_utf8(text: str) -> str:
    """What the engine reports as `match`: lone surrogates replaced, so it encodes as UTF-8."""
    return text.encode("utf-8", "replace").decode("utf-8")


def unhandled_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage().startswith("unhandled")]


@pytest.fixture(autouse=True)
def no_unhandled_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.INFO, logger="qinglang.web")
    yield
    unhandled = unhandled_records(caplog)
    assert not unhandled, "a request reached the catch-all 500 handler"


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(Settings(rate_limit_per_minute=0)))


@pytest.fixture(scope="module")
def small_client() -> TestClient:
    limits = Settings(rate_limit_per_minute=0, max_text_chars=10, max_items=3, max_body_bytes=2048)
    return TestClient(create_app(limits))


def assert_problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["type"] == f"urn:qinglang:problem:{slug}"
    assert body["title"] and body["detail"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["title"] + body["detail"])
    return body


def post_raw(client: TestClient, data: bytes, headers: dict[str, str] | None = None):
    return client.post(DETECT, content=data, headers=JSON_HEADERS if headers is None else headers)


# -- 400 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [b"{", b'{"text": "a",}', b"not json", b'{"text": "a"} trailing', b"\x00", b"[" * 100_000],
    ids=["unclosed", "trailing-comma", "words", "extra-data", "nul", "deep-nesting"],
)
def test_malformed_json_is_400(client: TestClient, raw: bytes) -> None:
    body = assert_problem(post_raw(client, raw), 400, "invalid-json")
    assert body["title"] == "请求体不是合法的 JSON"


def test_malformed_json_detail_gives_line_and_column(client: TestClient) -> None:
    body = assert_problem(post_raw(client, b'{\n  "text": oops\n}'), 400, "invalid-json")
    assert "第 2 行" in body["detail"]


@pytest.mark.parametrize(
    "raw",
    [b'{"text": "\xff\xfe"}', b'{"text": "\xe4\xbd"}', b'{"text": "\xc0\xaf"}'],
    ids=["ff", "truncated", "overlong"],
)
def test_invalid_utf8_is_400(client: TestClient, raw: bytes) -> None:
    body = assert_problem(post_raw(client, raw), 400, "invalid-encoding")
    assert body["title"] == "请求体不是合法的 UTF-8 编码"


def test_invalid_content_length_is_400(client: TestClient) -> None:
    response = post_raw(client, b"{}", {**JSON_HEADERS, "Content-Length": "abc"})
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM


# -- 415 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_body_that_is_not_declared_json_is_415(client: TestClient, content_type) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    assert_problem(post_raw(client, b'{"text": "x"}', headers), 415, "unsupported-media-type")


# -- 422 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "pointer", "error_type"),
    [
        ({"text": 123}, "#/text", "string_type"),
        ({"text": ["a"]}, "#/text", "string_type"),
        ({"text": "a", "explain": "yes"}, "#/explain", "bool_type"),
        ({"text": "a", "explain": 1}, "#/explain", "bool_type"),
        ({"text": "a", "scene": 1}, "#/scene", "string_type"),
        ({"items": "abc"}, "#/items", "list_type"),
        ({"items": [5]}, "#/items/0", "item_type"),
        ({"items": ["ok", None]}, "#/items/1", "item_type"),
        ({"items": [{"id": "a"}]}, "#/items/0/text", "missing"),
        ({"items": [{"text": 1}]}, "#/items/0/text", "string_type"),
        ({"items": [{"text": "a", "id": 1.5}]}, "#/items/0/id", "id_type"),
        ({"items": [{"text": "a", "id": "x" * 257}]}, "#/items/0/id", "string_too_long"),
        ({"items": [{"text": "a", "lang": "zh"}]}, "#/items/0/lang", "extra_forbidden"),
        ({"items": []}, "#/items", "too_short"),
        ({}, "#", "text_or_items"),
        ({"scene": "general"}, "#", "text_or_items"),
        ({"text": None}, "#", "text_or_items"),
        ({"text": "a", "items": ["b"]}, "#", "text_and_items"),
        ({"text": "a", "txet": "b"}, "#/txet", "extra_forbidden"),
        ([], "#", None),
        ("just a string", "#", None),
        (42, "#", None),
        (None, "#", None),
    ],
)
def test_wrong_shapes_are_422(client: TestClient, body, pointer: str, error_type) -> None:
    response = post_raw(client, json.dumps(body).encode())
    problem = assert_problem(response, 422, "validation-error")
    assert problem["title"] == "请求参数有误"
    pointers = {e["pointer"] for e in problem["errors"]}
    assert pointer in pointers, problem["errors"]
    if error_type is not None:
        assert error_type in {e["type"] for e in problem["errors"]}
    for error in problem["errors"]:
        assert set(error) == {"pointer", "type", "detail"}


def test_empty_body_is_422(client: TestClient) -> None:
    assert_problem(post_raw(client, b""), 422, "validation-error")


def test_validation_errors_do_not_echo_input(client: TestClient) -> None:
    secret = "11010520100101123X"
    response = post_raw(client, json.dumps({"text": {"id": secret}}).encode())
    assert secret not in response.text


def test_unknown_scene_is_422_with_choices(client: TestClient) -> None:
    problem = assert_problem(
        client.post(DETECT, json={"text": "a", "scene": "xxx"}), 422, "unknown-scene"
    )
    assert problem["detail"] == "未知的场景：xxx，可选：general、children、learning、live_chat"
    batch = client.post(DETECT, json={"items": ["a"], "scene": "GENERAL"})
    assert_problem(batch, 422, "unknown-scene")


def test_unknown_scene_echo_is_bounded_and_printable(client: TestClient) -> None:
    raw = json.dumps({"text": "a", "scene": "\ud800\x00" + "s" * 10_000}).encode()
    problem = assert_problem(post_raw(client, raw), 422, "unknown-scene")
    assert len(problem["detail"]) < 200


# -- 413 -------------------------------------------------------------------------------------


def test_text_over_limit_is_413(small_client: TestClient) -> None:
    assert small_client.post(DETECT, json={"text": "a" * 10}).status_code == 200
    problem = assert_problem(
        small_client.post(DETECT, json={"text": "好" * 11}), 413, "text-too-long"
    )
    assert problem["detail"].startswith("文本过长：最多 10 个字符")


def test_text_over_default_limit_is_413(client: TestClient) -> None:
    problem = assert_problem(
        client.post(DETECT, json={"text": "a" * 100_001}), 413, "text-too-long"
    )
    assert "最多 100000 个字符" in problem["detail"]


def test_item_text_over_limit_names_the_item(small_client: TestClient) -> None:
    response = small_client.post(DETECT, json={"items": ["ok", {"id": "x", "text": "b" * 11}]})
    problem = assert_problem(response, 413, "text-too-long")
    assert "第 2 条" in problem["detail"]


def test_too_many_items_is_413(small_client: TestClient) -> None:
    assert small_client.post(DETECT, json={"items": ["a"] * 3}).status_code == 200
    problem = assert_problem(
        small_client.post(DETECT, json={"items": ["a"] * 4}), 413, "too-many-items"
    )
    assert "最多 3 条" in problem["detail"]


def test_body_over_limit_with_content_length_is_413(small_client: TestClient) -> None:
    raw = json.dumps({"text": "a" * 5000}).encode()
    response = post_raw(small_client, raw)
    assert_problem(response, 413, "body-too-large")


def test_body_over_limit_without_content_length_is_413(small_client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(100):
            yield b"a" * 512
        yield b'"}'

    response = small_client.post(DETECT, content=chunks(), headers=JSON_HEADERS)
    assert_problem(response, 413, "body-too-large")


def test_small_chunked_body_is_accepted(small_client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"text": '
        yield '"今天天气很好"}'.encode()

    response = small_client.post(DETECT, content=chunks(), headers=JSON_HEADERS)
    assert response.status_code == 200
    assert response.json()["verdict"] == "pass"


def test_ten_megabyte_text_is_413(client: TestClient) -> None:
    raw = b'{"text": "' + b"a" * (10 * 1024 * 1024) + b'"}'
    assert_problem(post_raw(client, raw), 413, "body-too-large")


async def _run_limited_middleware() -> None:
    reached_app = False

    async def app(scope, receive, send):
        nonlocal reached_app
        reached_app = True

    pulled = 0

    async def receive():
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * 1000, "more_body": True}

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    middleware = BodySizeLimitMiddleware(app, max_body_bytes=4096)
    scope = {"type": "http", "method": "POST", "path": DETECT, "headers": []}
    await middleware(scope, receive, send)
    assert not reached_app
    assert pulled == 5  # 5000 bytes > 4096: stop there, although more_body was still true
    assert sent[0]["status"] == 413


def test_body_limit_middleware_stops_reading() -> None:
    """Without Content-Length the middleware reads only until the cap is passed."""
    anyio.run(_run_limited_middleware)


# -- routing errors ----------------------------------------------------------------------------


def test_unknown_path_is_404_problem(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/nothing-here"), 404, "not-found")


def test_wrong_method_is_405_problem(client: TestClient) -> None:
    response = client.get(DETECT)
    assert_problem(response, 405, "method-not-allowed")
    assert "POST" in response.headers["allow"]


# -- fuzzing: nothing a client sends yields 500 -----------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
bodies = st.fixed_dictionaries(
    {},
    optional={
        "text": json_values | st.text(),
        "items": st.lists(
            st.text()
            | st.fixed_dictionaries({"text": st.text()}, optional={"id": json_values})
            | json_values,
            max_size=5,
        ),
        "scene": st.sampled_from(["general", "children", "learning", "live_chat", "x", ""])
        | json_values,
        "explain": json_values,
    },
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_fuzzed_json_bodies_never_500(client: TestClient, body: dict) -> None:
    raw = json.dumps(body).encode("ascii")
    response = post_raw(client, raw)
    assert response.status_code in {200, 400, 413, 422}, response.text
    if response.status_code != 200:
        assert response.headers["content-type"] == PROBLEM


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=300))
def test_fuzzed_bytes_never_500(client: TestClient, raw: bytes) -> None:
    response = post_raw(client, raw)
    assert response.status_code in {200, 400, 413, 422}, response.text


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.characters(exclude_categories=()), max_size=200))
def test_fuzzed_texts_are_answered(client: TestClient, text: str) -> None:
    raw = json.dumps({"text": text, "explain": True}).encode("ascii")
    response = post_raw(client, raw)
    assert response.status_code == 200, response.text
    for hit in json.loads(response.content)["hits"]:
        assert as_utf8(text[hit["start"] : hit["end"]]) == hit["match"]


# -- the catch-all ---------------------------------------------------------------------------


def test_bugs_become_a_500_problem_without_internals(caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(Settings(rate_limit_per_minute=0))

    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("internal detail 13812345678")

    @app.get("/boom-page")
    def boom_page() -> None:
        raise RuntimeError("internal detail 13812345678")

    client = TestClient(app, raise_server_exceptions=False)
    response = client.get("/api/v1/boom")
    problem = assert_problem(response, 500, "internal-error")
    assert "internal detail" not in response.text
    assert problem["title"] == "服务器内部错误"
    assert len(unhandled_records(caplog)) == 1
    # A page answers with a page, just as bare.
    page = client.get("/boom-page")
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "internal detail" not in page.text and "系统出错" in page.text
    assert len(unhandled_records(caplog)) == 2
    caplog.clear()  # expected here; the autouse check is for the other tests
