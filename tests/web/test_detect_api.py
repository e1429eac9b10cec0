"""The detect, scenes, taxonomy, health and admin endpoints on good input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from qinglang.detect import SCENES
from qinglang.settings import Settings
from qinglang.taxonomy import get_taxonomy
from qinglang.web.app import create_app
from qinglang.web.rate_limit import TokenBucketLimiter

HARMFUL = "你就是个傻逼"
BENIGN = "今天天气很好"
TOKEN = "s3cret-admin-token-for-tests"
CUSTOM_TERM = "蓝莓芝士测试词"


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(Settings(rate_limit_per_minute=0)))


def as_utf8(text: str) -> str:
    """What the engine reports as `match`: lone surrogates replaced, so it encodes as UTF-8."""
    return text.encode("utf-8", "replace").decode("utf-8")


def detect(client: TestClient, **body: object) -> dict:
    response = client.post("/api/v1/detect", json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def test_harmful_text_is_flagged(client: TestClient) -> None:
    verdict = detect(client, text=HARMFUL)
    assert verdict["verdict"] != "pass"
    assert "abuse" in [c["code"] for c in verdict["categories"]]
    for hit in verdict["hits"]:
        assert HARMFUL[hit["start"] : hit["end"]] == hit["match"]
        assert set(hit) == {"category", "start", "end", "match", "term", "source"}


def test_benign_text_passes(client: TestClient) -> None:
    assert detect(client, text=BENIGN) == {"verdict": "pass", "categories": [], "hits": []}


def test_empty_text_is_valid_and_passes(client: TestClient) -> None:
    assert detect(client, text="")["verdict"] == "pass"


def test_result_matches_engine(client: TestClient, detector) -> None:
    for scene in SCENES:
        expected = detector.check(HARMFUL, scene).to_dict()
        assert detect(client, text=HARMFUL, scene=scene) == expected


def test_explain_adds_weights_and_scene(client: TestClient) -> None:
    verdict = detect(client, text=HARMFUL, scene="children", explain=True)
    assert verdict["scene"] == "children"
    assert verdict["hits"]
    assert all("weight" in h and "notes" in h for h in verdict["hits"])


def test_batch_keeps_order_and_ids(client: TestClient) -> None:
    body = detect(
        client,
        items=[BENIGN, {"id": "c-2", "text": HARMFUL}, {"text": BENIGN}, {"id": 7, "text": ""}],
    )
    results = body["results"]
    assert [r["id"] for r in results] == [0, "c-2", 2, 7]
    assert results[0]["verdict"] == "pass"
    assert results[1]["verdict"] != "pass"
    assert "abuse" in [c["code"] for c in results[1]["categories"]]
    single = detect(client, text=HARMFUL)
    assert {k: v for k, v in results[1].items() if k != "id"} == single


def test_batch_scene_and_explain_apply_to_every_item(client: TestClient) -> None:
    body = detect(client, items=[HARMFUL, BENIGN], scene="live_chat", explain=True)
    assert [r["scene"] for r in body["results"]] == ["live_chat", "live_chat"]


@pytest.mark.parametrize(
    "text",
    [
        "\ud800",
        "傻\udfff逼",
        "a\x00b\x07c\x1b[31m\u200b\u202e",
        "\U0001f600" * 100,
        "\r\n\t" * 50,
    ],
    ids=["lone-high", "lone-low-inside", "control", "emoji", "whitespace"],
)
def test_odd_strings_are_answered(client: TestClient, text: str) -> None:
    raw = json.dumps({"text": text}).encode("ascii")  # lone surrogates travel as \ud800 escapes
    response = client.post(
        "/api/v1/detect", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    verdict = json.loads(response.content)
    assert verdict["verdict"] in {"pass", "review", "block"}
    for hit in verdict["hits"]:
        assert as_utf8(text[hit["start"] : hit["end"]]) == hit["match"]


def test_scenes(client: TestClient) -> None:
    response = client.get("/api/v1/scenes")
    assert response.status_code == 200
    scenes = response.json()["scenes"]
    assert [s["name"] for s in scenes] == list(SCENES)
    assert all(s["description"] and s["categories"] for s in scenes)


def test_taxonomy(client: TestClient) -> None:
    response = client.get("/api/v1/taxonomy")
    assert response.status_code == 200
    assert response.json() == get_taxonomy().to_dict()


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_root_opens_the_public_pages_and_the_docs_stay(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/public"
    assert client.get("/docs").status_code == 200


def test_openapi_document(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert doc["info"]["title"] == "Qinglang 清朗"
    paths = doc["paths"]
    for path in ("/api/v1/detect", "/api/v1/scenes", "/api/v1/taxonomy", "/healthz"):
        assert path in paths
    errors = paths["/api/v1/detect"]["post"]["responses"]
    for status in ("400", "413", "415", "422", "429"):
        assert "application/problem+json" in errors[status]["content"]
    assert "DetectRequest" in json.dumps(paths["/api/v1/detect"]["post"]["requestBody"])


# -- admin: reload -------------------------------------------------------------------------


def _lexicon(path: Path, *terms: str) -> Path:
    body = 'category = "abuse"\n' + "".join(
        f'[[term]]\ntext = "{t}"\nweight = 0.95\n' for t in terms
    )
    path.write_text(body, encoding="utf-8")
    return path


def test_reload_is_hidden_without_admin_token(client: TestClient) -> None:
    response = client.post("/api/v1/detect/reload")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_reload_needs_the_right_token(tmp_path: Path) -> None:
    app = create_app(Settings(admin_token=TOKEN, rate_limit_per_minute=0))
    with TestClient(app) as client:
        missing = client.post("/api/v1/detect/reload")
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == "Bearer"
        basic = client.post("/api/v1/detect/reload", headers={"Authorization": "Basic eDp5"})
        assert basic.status_code == 401
        wrong = client.post("/api/v1/detect/reload", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 403
        assert wrong.json()["detail"] == "管理令牌无效。"


def test_reload_picks_up_changed_lexicon_and_survives_a_bad_one(tmp_path: Path) -> None:
    lexicon = _lexicon(tmp_path / "local.toml", "占位测试词")
    settings = Settings(admin_token=TOKEN, rate_limit_per_minute=0, lexicon_paths=[lexicon])
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with TestClient(create_app(settings)) as client:
        assert detect(client, text=CUSTOM_TERM)["verdict"] == "pass"

        _lexicon(lexicon, "占位测试词", CUSTOM_TERM)
        response = client.post("/api/v1/detect/reload", headers=auth)
        assert response.status_code == 200, response.text
        assert str(lexicon) in response.json()["sources"]
        assert detect(client, text=CUSTOM_TERM)["verdict"] != "pass"

        lexicon.write_text('category = "no_such_category"\n[[term]]\ntext = "x"\n', "utf-8")
        response = client.post("/api/v1/detect/reload", headers=auth)
        assert response.status_code == 500
        problem = response.json()
        assert problem["type"].endswith(":lexicon-error")
        assert str(lexicon) in problem["detail"]
        # The rules loaded before stay in use.
        assert detect(client, text=CUSTOM_TERM)["verdict"] != "pass"


# -- rate limit ----------------------------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after() -> None:
    client = TestClient(create_app(Settings(rate_limit_per_minute=2)))
    for _ in range(2):
        assert client.post("/api/v1/detect", json={"text": BENIGN}).status_code == 200
    response = client.post("/api/v1/detect", json={"text": BENIGN})
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["title"] == "请求过于频繁"
    # Bad requests count too, and other endpoints are not limited.
    assert client.post("/api/v1/detect", content=b"{").status_code == 429
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/v1/taxonomy").status_code == 200


def test_token_bucket_refills_over_time() -> None:
    now = [0.0]
    limiter = TokenBucketLimiter(60, clock=lambda: now[0])
    assert all(limiter.acquire("a") == 0.0 for _ in range(60))
    wait = limiter.acquire("a")
    assert wait == pytest.approx(1.0)
    assert limiter.acquire("b") == 0.0  # buckets are per client
    now[0] += 1.0
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("a") > 0.0


def test_token_bucket_memory_is_bounded() -> None:
    limiter = TokenBucketLimiter(10, max_clients=100)
    for i in range(1000):
        limiter.acquire(f"10.0.{i // 256}.{i % 256}")
    assert len(limiter) == 100


def test_openapi_docs_are_served_without_a_cdn(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert re.findall(r"(?:src|href)=['\"]https?://", page.text) == []
    for asset in re.findall(r"(?:src|href)=['\"](/[^'\"]+\.(?:js|css))", page.text):
        assert client.get(asset).status_code == 200, asset
