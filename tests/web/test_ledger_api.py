"""The ledger over HTTP on SQLite and PostgreSQL: CRUD, scope, history, files, bad input."""

from __future__ import annotations

import csv
import io
import itertools
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from qinglang.services import ledger_io

USCC = "91310000MA1FL0001R"
SUBJECTS = "/api/v1/subjects"


def _site(name: str = "示例学习网", **fields) -> dict:
    return {"kind": "website", "name": name, "region": "310000", "domains": ["example.cn"]} | fields


@pytest.fixture
def officer(people):
    return people.make("officer", department="cyberspace", jurisdiction="310000")


def _post(api, person, body) -> dict:
    r = api.post(SUBJECTS, json=body, headers=person.headers)
    assert r.status_code == 201, r.text
    return r.json()


def _problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["detail"]), body
    return body


def test_create_read_update_history(api, officer) -> None:
    r = api.post(SUBJECTS, json=_site(uscc=USCC, risk_level="low"), headers=officer.headers)
    assert r.status_code == 201, r.text
    created = r.json()
    assert r.headers["location"] == f"{SUBJECTS}/{created['id']}"
    assert created["kind_name"] == "网站" and created["version"] == 1
    got = api.get(f"{SUBJECTS}/{created['id']}", headers=officer.headers)
    assert got.status_code == 200 and got.json() == created

    patch = {"version": 1, "risk_level": "high", "notes": "多次被举报"}
    r = api.patch(f"{SUBJECTS}/{created['id']}", json=patch, headers=officer.headers)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and r.json()["uscc"] == USCC  # untouched fields stay
    stale = api.patch(f"{SUBJECTS}/{created['id']}", json=patch, headers=officer.headers)
    body = _problem(stale, 409)
    assert body["code"] == "stale_version" and body["current_version"] == 2
    cleared = api.patch(
        f"{SUBJECTS}/{created['id']}", json={"version": 2, "notes": None}, headers=officer.headers
    )
    assert cleared.status_code == 200 and cleared.json()["notes"] is None

    history = api.get(f"{SUBJECTS}/{created['id']}/history", headers=officer.headers).json()
    assert [h["kind"] for h in history] == [
        "ledger.subject_created",
        "ledger.subject_updated",
        "ledger.subject_updated",
    ]
    assert history[1]["payload"]["changes"] == {
        "risk_level": {"old": "low", "new": "high"},
        "notes": {"old": None, "new": "多次被举报"},
    }
    assert history[1]["actor"] == f"user:{officer.id}"


def test_deactivate_and_reactivate(api, officer) -> None:
    created = _post(api, officer, _site())
    url = f"{SUBJECTS}/{created['id']}"
    r = api.post(
        f"{url}/deactivate", json={"version": 1, "reason": "已关停"}, headers=officer.headers
    )
    assert r.status_code == 200 and r.json()["active"] is False
    assert api.get(SUBJECTS, headers=officer.headers).json()["total"] == 0
    listed = api.get(SUBJECTS, params={"status": "inactive"}, headers=officer.headers).json()
    assert [s["id"] for s in listed["items"]] == [created["id"]]
    again = api.post(f"{url}/deactivate", json={"version": 2}, headers=officer.headers)
    assert _problem(again, 409)["code"] == "already_inactive"
    r = api.post(f"{url}/reactivate", json={"version": 2}, headers=officer.headers)
    assert r.status_code == 200 and r.json()["active"] is True and r.json()["version"] == 3


def test_scope_over_http(api, people) -> None:
    org = people.organisation("上海示例网络科技有限公司", "310000")
    admin = people.make("admin", jurisdiction="100000")
    officer_sh = people.make("officer", department="cyberspace", jurisdiction="310000")
    leader_sh = people.make("leader", department="cyberspace", jurisdiction="310000")
    operator = people.make("operator", jurisdiction="310000", organisation_id=org)

    own = _post(api, admin, _site("本单位网站", organisation_id=org))
    bj = _post(api, admin, _site("北京网站", region="110000", domains=["bj-site.cn"]))

    assert api.get(f"{SUBJECTS}/{bj['id']}", headers=officer_sh.headers).status_code == 403
    assert api.get(f"{SUBJECTS}/{bj['id']}/history", headers=officer_sh.headers).status_code == 403
    assert api.get(f"{SUBJECTS}/{own['id']}", headers=leader_sh.headers).status_code == 200
    names = [s["name"] for s in api.get(SUBJECTS, headers=officer_sh.headers).json()["items"]]
    assert names == ["本单位网站"]
    assert api.get(SUBJECTS, headers=admin.headers).json()["total"] == 2

    op_list = api.get(SUBJECTS, headers=operator.headers).json()
    assert [s["id"] for s in op_list["items"]] == [own["id"]]
    assert api.get(f"{SUBJECTS}/{bj['id']}", headers=operator.headers).status_code == 403
    patch = {"version": 1, "notes": "x"}
    for person, code in ((operator, "operator_read_only"), (leader_sh, "forbidden_role")):
        r = api.patch(f"{SUBJECTS}/{own['id']}", json=patch, headers=person.headers)
        assert _problem(r, 403)["code"] == code
        r = api.post(SUBJECTS, json=_site("新", domains=["n.cn"]), headers=person.headers)
        assert r.status_code == 403
        files = {"file": ("a.csv", b"kind,name,region\ngroup,g,310000\n", "text/csv")}
        r = api.post(f"{SUBJECTS}/import", files=files, headers=person.headers)
        assert r.status_code == 403
    r = api.post(
        SUBJECTS, json=_site("外地", region="110000", domains=["w.cn"]), headers=officer_sh.headers
    )
    assert _problem(r, 403)["code"] == "out_of_jurisdiction"
    assert (
        api.get(SUBJECTS, params={"region": "110000"}, headers=officer_sh.headers).status_code
        == 403
    )
    assert api.get(SUBJECTS).status_code == 401
    assert api.get(f"{SUBJECTS}/{own['id']}").status_code == 401


def test_list_filters_and_pages(api, officer) -> None:
    for i in range(5):
        _post(
            api,
            officer,
            _site(f"站点{i}", domains=[f"s{i}.example.cn"], risk_level="high" if i % 2 else "low"),
        )
    _post(
        api,
        officer,
        {
            "kind": "app",
            "name": "作业帮手",
            "region": "310104",
            "education_app": True,
            "school_cooperation": True,
        },
    )
    get = lambda **params: api.get(SUBJECTS, params=params, headers=officer.headers)  # noqa: E731
    assert get(risk_level="high").json()["total"] == 2
    assert get(kind="app", education_app="true", school_cooperation="true").json()["total"] == 1
    assert get(region="310104").json()["total"] == 1
    assert get(q="s3.example").json()["items"][0]["name"] == "站点3"
    first = get(limit=4).json()
    assert (first["total"], first["limit"], first["offset"], len(first["items"])) == (6, 4, 0, 4)
    rest = get(limit=4, cursor=first["next_cursor"]).json()
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None
    assert get(limit=4, offset=4).json()["items"] == rest["items"]
    for params in (
        {"limit": 0},
        {"limit": 201},
        {"offset": -1},
        {"risk_level": "severe"},
        {"kind": "club"},
        {"youth_mode": "开启"},
        {"region": "31"},
        {"status": "deleted"},
        {"cursor": "!!"},
        {"q": "x" * 101},
        {"q": "a\x00b"},
        {"organisation_id": 0},
    ):
        r = get(**params)
        assert r.status_code == 422, (params, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert get(cursor=first["next_cursor"], offset=2).status_code == 422


BAD_BODIES = [
    ({**_site(), "risk_level": "severe"}, "#/risk_level", "enum"),
    ({**_site(), "kind": "club"}, "#/kind", "enum"),
    ({**_site(), "colour": "red"}, "#/colour", "extra_forbidden"),
    ({**_site(), "domains": "example.cn"}, "#/domains", "list_type"),
    ({**_site(), "name": "x" * 201}, "#/name", "string_too_long"),
    ({**_site(), "organisation_id": 2**31}, "#/organisation_id", "less_than_equal"),
    ({**_site(), "uscc": "91310000MA1FL00010"}, "#/uscc", "uscc_check"),
    ({**_site(), "domains": []}, "#/domains", "required"),
    ({**_site(), "region": "990000"}, "#/region", "division_province"),
    ({**_site(), "name": "a\ud800"}, "#/name", "string_unicode"),
    ({**_site(), "name": "a\x00b"}, "#/name", "control_char"),
    (
        {**_site(), "game_approval_no": "国新出审〔2021〕1号"},
        "#/game_approval_no",
        "not_applicable",
    ),
    ({**_site(), "organisation_id": 4242}, "#/organisation_id", "unknown_organisation"),
]


def test_bad_bodies_are_422_with_a_pointer(api, officer) -> None:
    # json.dumps escapes a lone surrogate as \ud800, which the server must refuse cleanly.
    headers = {**officer.headers, "Content-Type": "application/json"}
    for body, pointer, error_type in BAD_BODIES:
        problem = _problem(api.post(SUBJECTS, content=json.dumps(body), headers=headers), 422)
        found = {(e["pointer"], e["type"]) for e in problem["errors"]}
        assert (pointer, error_type) in found, (body, found)
        assert all(e["detail"] for e in problem["errors"])


def test_domain_conflict_and_bad_patches(api, officer) -> None:
    first = _post(api, officer, _site())
    r = api.post(SUBJECTS, json=_site("另一个", domains=["Example.CN"]), headers=officer.headers)
    assert _problem(r, 409)["code"] == "domain_taken"
    url = f"{SUBJECTS}/{first['id']}"
    for body in ({"risk_level": "high"}, {"version": 0}, {"version": 1, "kind": "club"}):
        assert api.patch(url, json=body, headers=officer.headers).status_code == 422
    r = api.patch(url, json={"version": 1, "kind": "account"}, headers=officer.headers)
    problem = _problem(r, 422)
    assert {e["pointer"] for e in problem["errors"]} == {"#/domains", "#/platform_url"}


def test_path_ids_are_bounded(api, officer) -> None:
    for subject_id, (method, suffix) in itertools.product(
        ("0", "-1", str(2**31), "abc", "1.5"),
        (("get", ""), ("get", "/history"), ("patch", ""), ("post", "/deactivate")),
    ):
        r = api.request(
            method, f"{SUBJECTS}/{subject_id}{suffix}", json={"version": 1}, headers=officer.headers
        )
        assert r.status_code == 422, (subject_id, method, suffix, r.text)
    assert api.get(f"{SUBJECTS}/{2**31 - 1}", headers=officer.headers).status_code == 404


def test_lookup_and_meta(api, people, officer) -> None:
    site = _post(api, officer, _site(icp_filing="沪ICP备12345678号-1"))
    r = api.get(
        f"{SUBJECTS}/lookup", params={"domain": "https://www.example.cn/x"}, headers=officer.headers
    )
    assert r.status_code == 200 and r.json()["id"] == site["id"]
    r = api.get(f"{SUBJECTS}/lookup", params={"icp": "沪ICP备12345678号"}, headers=officer.headers)
    assert r.json()["id"] == site["id"]
    assert (
        api.get(f"{SUBJECTS}/lookup", params={"name": "无"}, headers=officer.headers).status_code
        == 404
    )
    assert api.get(f"{SUBJECTS}/lookup", headers=officer.headers).status_code == 422
    outsider = people.make("officer", department="police", jurisdiction="110000")
    r = api.get(f"{SUBJECTS}/lookup", params={"domain": "example.cn"}, headers=outsider.headers)
    assert r.status_code == 404  # not visible: the lookup does not reveal it

    meta = api.get(f"{SUBJECTS}/meta", headers=officer.headers).json()
    assert {k["code"] for k in meta["kinds"]} == {
        "website",
        "app",
        "game",
        "live_video",
        "account",
        "group",
    }
    assert {"code": "compliant", "label": "已落实"} in meta["enums"]["youth_mode"]
    assert {"code": "uscc", "header_zh": "统一社会信用代码"}.items() <= meta["columns"][5].items()


# ---------------------------------------------------------------- import and export


def _upload(api, person, data: bytes, name: str = "ledger.csv", media: str = "text/csv", **params):
    return api.post(
        f"{SUBJECTS}/import",
        params=params,
        files={"file": (name, data, media)},
        headers=person.headers,
    )


MIXED = (
    "类型,名称,地区代码,域名,统一社会信用代码\n"
    "网站,好网站,310000,good.cn,\n"
    "网站,坏网站,310000,bad.cn,123\n"
    "网站,抢域名,310000,example.cn,\n"
    "群组,某群,310000,,\n"
)


def test_import_mixed_rows_dry_run_then_for_real(api, officer) -> None:
    _post(api, officer, _site())
    dry = _upload(api, officer, MIXED.encode("gbk"), dry_run="true")
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert report["dry_run"] is True and report["encoding"] == "gb18030"
    assert (report["rows"], report["created"], report["failed"]) == (4, 2, 2)
    assert api.get(SUBJECTS, headers=officer.headers).json()["total"] == 1

    real = _upload(api, officer, MIXED.encode("gbk")).json()
    assert (real["created"], real["failed"]) == (2, 2)
    assert [(e["row"], e["column"], e["header"]) for e in real["errors"]] == [
        (3, "uscc", "统一社会信用代码"),
        (4, "domains", "域名"),
    ]
    assert "统一社会信用代码" in real["errors"][0]["message"]
    assert len(real["digest"]) == 64
    assert api.get(SUBJECTS, headers=officer.headers).json()["total"] == 3


def test_raw_body_upload(api, officer) -> None:
    r = api.post(
        f"{SUBJECTS}/import",
        content=b"kind,name,region\ngroup,raw,310000\n",
        headers={**officer.headers, "Content-Type": "text/csv"},
    )
    assert r.status_code == 200 and r.json()["created"] == 1


def test_xlsx_round_trip_over_http(api, officer) -> None:
    _post(api, officer, _site("=1+1", notes="@备注", youth_mode="partial"))
    r = api.get(f"{SUBJECTS}/export", params={"format": "xlsx"}, headers=officer.headers)
    assert r.status_code == 200
    assert r.headers["content-type"] == ledger_io.XLSX_MEDIA_TYPE
    assert r.headers["content-disposition"].startswith('attachment; filename="qinglang-ledger-')
    assert r.headers["x-total-count"] == "1"
    sheet = load_workbook(io.BytesIO(r.content)).worksheets[0]
    header = [c.value for c in sheet[1]]
    name = sheet.cell(row=2, column=header.index("名称") + 1)
    assert name.value == "'=1+1" and name.data_type == "s"

    sheet.cell(row=2, column=header.index("风险等级") + 1).value = "高"
    edited = io.BytesIO()
    sheet.parent.save(edited)
    report = _upload(api, officer, edited.getvalue(), "台账.xlsx", ledger_io.XLSX_MEDIA_TYPE)
    assert report.status_code == 200, report.text
    assert (report.json()["updated"], report.json()["failed"]) == (1, 0)
    (subject,) = api.get(SUBJECTS, headers=officer.headers).json()["items"]
    assert (subject["name"], subject["notes"], subject["risk_level"]) == ("=1+1", "@备注", "high")


def test_csv_export_escapes_formulas(api, officer) -> None:
    _post(api, officer, _site("-2+3", notes="=cmd|' /C calc'!A0"))
    r = api.get(
        f"{SUBJECTS}/export", params={"format": "csv", "header": "en"}, headers=officer.headers
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0]["name"] == "'-2+3"
    assert rows[0]["notes"] == "'=cmd|' /C calc'!A0"
    assert (
        api.get(f"{SUBJECTS}/export", params={"format": "pdf"}, headers=officer.headers).status_code
        == 422
    )


BAD_FILES = [
    (b"\x89PNG\r\n\x1a\n" + bytes(64), "a.png", "image/png", 415),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), "a.xls", "application/vnd.ms-excel", 415),
    (b"PK\x03\x04" + bytes(64), "a.xlsx", ledger_io.XLSX_MEDIA_TYPE, 422),
    (b"not,a,ledger\n1,2,3\n", "a.csv", "text/csv", 422),
    (b"", "a.csv", "text/csv", 422),
    (bytes(range(256)) * 4, "a.csv", "text/csv", 415),
]


def test_bad_files_get_4xx(api, officer) -> None:
    for data, name, media, status in BAD_FILES:
        problem = _problem(_upload(api, officer, data, name, media), status)
        assert problem["code"], name


def test_bad_uploads_get_4xx(api, officer) -> None:
    url = f"{SUBJECTS}/import"
    r = api.post(url, json={"kind": "website"}, headers=officer.headers)
    _problem(r, 415)
    r = api.post(
        url, data={"other": "x"}, files={"x": ("a.csv", b"a", "text/csv")}, headers=officer.headers
    )
    assert _problem(r, 422)["code"] == "bad_upload"
    r = api.post(
        url,
        content=b"--broken",
        headers={**officer.headers, "Content-Type": "multipart/form-data; boundary=zzz"},
    )
    assert r.status_code in (400, 422)
    assert api.post(url, files={"file": ("a.csv", b"x", "text/csv")}).status_code == 401


def test_oversize_files_are_413(database, people, tmp_path: Path) -> None:
    from qinglang.settings import Settings
    from qinglang.web.app import create_app

    officer = people.make("officer", department="cyberspace", jurisdiction="310000")
    big = b"kind,name,region\n" + b"group,g,310000\n" * (ledger_io.MAX_FILE_BYTES // 15 + 1)
    settings = Settings(
        blob_dir=tmp_path / "b",
        rate_limit_per_minute=0,
        report_rate_limit_per_hour=0,
        max_body_bytes=8 * 1024 * 1024,
    )
    roomy = TestClient(create_app(settings, database), raise_server_exceptions=False)
    assert _problem(_upload(roomy, officer, big), 413)["code"] == "file_too_large"
    # With the default body limit the middleware refuses it before the router reads it.
    default = TestClient(
        create_app(
            Settings(
                blob_dir=tmp_path / "c", rate_limit_per_minute=0, report_rate_limit_per_hour=0
            ),
            database,
        ),
        raise_server_exceptions=False,
    )
    assert _upload(default, officer, big).status_code == 413


def test_export_scope_for_operators(api, people, officer) -> None:
    org = people.organisation()
    operator = people.make("operator", jurisdiction="310000", organisation_id=org)
    _post(api, officer, _site("本单位", organisation_id=org))
    _post(api, officer, _site("别人", domains=["else.cn"]))
    r = api.get(f"{SUBJECTS}/export", params={"format": "csv"}, headers=operator.headers)
    text = r.content.decode("utf-8-sig")
    assert "本单位" in text and "别人" not in text
