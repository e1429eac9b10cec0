"""Ledger service and import/export on SQLite and PostgreSQL: scope, history, locking, files."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import Workbook, load_workbook

from dbfixtures import T0
from qinglang.services import ledger as svc
from qinglang.services import ledger_io
from qinglang.services.errors import ServiceError
from qinglang.services.users import create_organisation
from qinglang.store import audit_log
from qinglang.store.models import Subject

T1 = T0 + timedelta(hours=1)
USCC = "91310000MA1FL0001R"
USCC_BJ = "91110108551385082Q"


def _site(name: str = "示例学习网", region: str = "310000", **fields) -> dict:
    return {"kind": "website", "name": name, "region": region, "domains": ["example.cn"]} | fields


@pytest.fixture
def officer(people):
    return people.make("officer", department="cyberspace", jurisdiction="310000").principal


def _create(database, principal, fields, at=T0):
    with database.write() as session:
        return svc.create_subject(session, principal, fields, at=at)


def _refused(database, call) -> ServiceError:
    with pytest.raises(ServiceError) as info, database.write() as session:
        call(session)
    return info.value


# ---------------------------------------------------------------- commands and history


def test_create_update_history(database, officer) -> None:
    created = _create(database, officer, _site(uscc=USCC.lower(), domains=["WWW.Example.CN"]))
    assert created.version == 1 and created.uscc == USCC
    assert created.domains == ["www.example.cn"]
    with database.write() as session:
        updated, diff = svc.update_subject(
            session,
            officer,
            created.id,
            {"risk_level": "高", "domains": ["www.example.cn", "例子.中国"]},
            version=1,
            at=T1,
        )
    assert updated.version == 2 and updated.risk_level == "high"
    assert updated.domains_unicode == ["www.example.cn", "例子.中国"]
    assert diff["risk_level"] == {"old": "unknown", "new": "high"}
    with database.read() as session:
        entries = svc.history(session, officer, created.id)
        assert audit_log.verify_log(session).ok
    assert [e.kind for e in entries] == ["ledger.subject_created", "ledger.subject_updated"]
    assert entries[0].payload["fields"]["uscc"] == USCC
    assert entries[0].payload["subject_type"] == "website"
    assert entries[1].payload["changes"] == {
        "domains": {"old": ["www.example.cn"], "new": ["www.example.cn", "xn--fsqu00a.xn--fiqs8s"]},
        "risk_level": {"old": "unknown", "new": "high"},
    }
    assert entries[1].actor == officer.actor_id and entries[1].at == T1


def test_stale_version_is_a_conflict_and_a_noop_update_moves_nothing(database, officer) -> None:
    created = _create(database, officer, _site())
    with database.write() as session:
        svc.update_subject(session, officer, created.id, {"notes": "一"}, version=1, at=T1)
    err = _refused(
        database,
        lambda s: svc.update_subject(s, officer, created.id, {"notes": "二"}, version=1, at=T1),
    )
    assert err.status == 409 and err.code == "stale_version"
    assert err.extra["current_version"] == 2
    with database.write() as session:
        same, diff = svc.update_subject(
            session, officer, created.id, {"notes": " 一 "}, version=2, at=T1
        )
    assert diff == {} and same.version == 2 and same.notes == "一"
    with database.read() as session:
        assert len(svc.history(session, officer, created.id)) == 2


def test_validation_errors_name_each_field(database, officer) -> None:
    err = _refused(
        database,
        lambda s: svc.create_subject(
            s, officer, _site(uscc="91310000MA1FL00010", game_approval_no="x"), at=T0
        ),
    )
    assert err.status == 422 and err.code == "invalid_subject"
    pointers = {e["pointer"]: e["type"] for e in err.extra["errors"]}
    assert pointers == {"#/uscc": "uscc_check", "#/game_approval_no": "bad_format"}


def test_a_domain_has_one_owner(database, officer) -> None:
    first = _create(database, officer, _site())
    err = _refused(
        database,
        lambda s: svc.create_subject(s, officer, _site("另一个", domains=["EXAMPLE.cn"]), at=T0),
    )
    assert err.status == 409 and err.code == "domain_taken"
    assert err.extra["subject_id"] == first.id
    second = _create(database, officer, _site("另一个", domains=["other.cn"]))
    err = _refused(
        database,
        lambda s: svc.update_subject(
            s, officer, second.id, {"domains": ["other.cn", "example.cn"]}, version=1, at=T1
        ),
    )
    assert err.code == "domain_taken"
    # Giving a domain up frees it for another subject.
    with database.write() as session:
        svc.update_subject(session, officer, first.id, {"domains": ["new.cn"]}, version=1, at=T1)
        svc.update_subject(
            session, officer, second.id, {"domains": ["example.cn"]}, version=1, at=T1
        )
    with database.read() as session:
        assert svc.find_subject(session, domain="example.cn").id == second.id


def test_subject_links_to_its_organisation_by_uscc(database, people, officer) -> None:
    with database.write() as session:
        org = create_organisation(
            session, name="上海示例网络科技有限公司", uscc=USCC, region="310000", by="t", at=T0
        )
    linked = _create(database, officer, _site(uscc=USCC))
    assert linked.organisation_id == org.id
    assert linked.operator_name == "上海示例网络科技有限公司"
    err = _refused(
        database,
        lambda s: svc.create_subject(
            s, officer, _site("x", domains=["x.cn"], organisation_id=org.id, uscc=USCC_BJ), at=T0
        ),
    )
    assert err.code == "uscc_mismatch"
    err = _refused(
        database,
        lambda s: svc.create_subject(
            s, officer, _site("y", domains=["y.cn"], organisation_id=9999), at=T0
        ),
    )
    assert err.status == 422 and err.code == "unknown_organisation"


def test_deactivate_and_reactivate(database, officer) -> None:
    created = _create(database, officer, _site())
    with database.write() as session:
        gone = svc.set_active(
            session, officer, created.id, active=False, version=1, reason="网站已关停", at=T1
        )
    assert not gone.active and gone.version == 2
    err = _refused(
        database,
        lambda s: svc.set_active(
            s, officer, created.id, active=False, version=2, reason=None, at=T1
        ),
    )
    assert err.code == "already_inactive"
    with database.read() as session:
        assert svc.list_subjects(session, officer, svc.SubjectFilter()).total == 0
        assert svc.list_subjects(session, officer, svc.SubjectFilter(status="inactive")).total == 1
        # An inactive subject still owns its domains and is still found (re-access is news).
        assert svc.find_subject(session, domain="example.cn").id == created.id
    with database.write() as session:
        back = svc.set_active(
            session, officer, created.id, active=True, version=2, reason=None, at=T1
        )
    assert back.active and back.version == 3
    with database.read() as session:
        kinds = [e.kind for e in svc.history(session, officer, created.id)]
    assert kinds == [
        "ledger.subject_created",
        "ledger.subject_deactivated",
        "ledger.subject_reactivated",
    ]


# ---------------------------------------------------------------- scope, role by role


def test_scope_role_by_role(database, people) -> None:
    org = people.organisation("上海示例网络科技有限公司", "310000")
    other_org = people.organisation("另一家公司", "310000")
    admin_sh = people.make("admin", jurisdiction="310000").principal
    analyst_sh = people.make("analyst", department="cyberspace", jurisdiction="310100").principal
    officer_bj = people.make("officer", department="cyberspace", jurisdiction="110000").principal
    leader_sh = people.make("leader", department="cyberspace", jurisdiction="310000").principal
    operator = people.make("operator", jurisdiction="310000", organisation_id=org).principal

    own = _create(database, admin_sh, _site("本单位网站", organisation_id=org))
    city = _create(database, analyst_sh, _site("浦东网站", region="310115", domains=["pd.cn"]))
    _create(database, admin_sh, _site("他人网站", domains=["o.cn"], organisation_id=other_org))
    bj = _create(database, officer_bj, _site("北京网站", region="110000", domains=["bj-site.cn"]))

    def names(principal, **filters) -> list[str]:
        with database.read() as session:
            page = svc.list_subjects(session, principal, svc.SubjectFilter(**filters))
            return sorted(v.name for v in page.items)

    assert names(admin_sh) == ["他人网站", "本单位网站", "浦东网站"]
    assert names(leader_sh) == names(admin_sh)
    assert names(analyst_sh) == ["浦东网站"]  # a city sees its districts, not the province row
    assert names(officer_bj) == ["北京网站"]
    assert names(operator) == ["本单位网站"]

    # Reading one subject outside the scope: 403, with a reason per kind of user.
    for principal, subject, code in (
        (officer_bj, own, "out_of_jurisdiction"),
        (analyst_sh, own, "out_of_jurisdiction"),
        (admin_sh, bj, "out_of_jurisdiction"),
        (operator, city, "not_own_subject"),
    ):
        with database.read() as session, pytest.raises(ServiceError) as info:
            svc.get_subject(session, principal, subject.id)
        assert (info.value.status, info.value.code) == (403, code)
    with database.read() as session:
        assert svc.get_subject(session, operator, own.id).name == "本单位网站"
        assert len(svc.history(session, operator, own.id)) == 1

    # Editing: admin, officer, analyst within their jurisdiction; never leaders or operators.
    for principal, code in ((leader_sh, "forbidden_role"), (operator, "operator_read_only")):
        err = _refused(
            database,
            lambda s, p=principal: svc.update_subject(
                s, p, own.id, {"notes": "x"}, version=1, at=T1
            ),
        )
        assert (err.status, err.code) == (403, code)
        err = _refused(
            database,
            lambda s, p=principal: svc.create_subject(s, p, _site("z", domains=["z.cn"]), at=T0),
        )
        assert err.status == 403
    err = _refused(
        database,
        lambda s: svc.create_subject(s, officer_bj, _site("沪", domains=["hu.cn"]), at=T0),
    )
    assert err.code == "out_of_jurisdiction"
    # Moving a subject out of one's jurisdiction is refused too.
    err = _refused(
        database,
        lambda s: svc.update_subject(
            s, analyst_sh, city.id, {"region": "310000"}, version=1, at=T1
        ),
    )
    assert err.code == "out_of_jurisdiction"
    with database.write() as session:
        svc.update_subject(session, analyst_sh, city.id, {"region": "310104"}, version=1, at=T1)

    # A region filter outside the jurisdiction is refused; a wider one is narrowed to it.
    with database.read() as session, pytest.raises(ServiceError) as info:
        svc.list_subjects(session, officer_bj, svc.SubjectFilter(region="310000"))
    assert info.value.code == "out_of_jurisdiction"
    assert names(analyst_sh, region="310000") == ["浦东网站"]
    assert names(admin_sh, region="310100") == ["浦东网站"]


# ---------------------------------------------------------------- lists and lookups


def test_filters_search_and_pagination(database, officer) -> None:
    _create(database, officer, _site("示例学习网", domains=["例子.中国"], risk_level="high"))
    _create(
        database,
        officer,
        {
            "kind": "app",
            "name": "作业帮手",
            "region": "310104",
            "education_app": True,
            "school_cooperation": True,
            "youth_mode": "compliant",
            "icp_filing": "沪ICP备12345678号-2A",
        },
    )
    for i in range(5):
        _create(database, officer, _site(f"站点{i}", domains=[f"s{i}.example.cn"]))

    def total(**filters) -> int:
        with database.read() as session:
            return svc.list_subjects(session, officer, svc.SubjectFilter(**filters)).total

    assert total() == 7
    assert total(kind="app") == total(kind="应用程序（App）") == 1
    assert total(education_app=True, school_cooperation=True) == 1
    assert total(youth_mode="已落实") == 1
    assert total(risk_level="high") == 1
    assert total(region="310104") == 1
    assert total(q="例子") == total(q="xn--fsqu00a") == total(q="学习") == 1
    assert total(q="s3.example") == 1
    assert total(q="12345678") == 1  # ICP number
    assert total(q="100%_") == 0  # LIKE wildcards are literal
    with database.read() as session, pytest.raises(ServiceError) as info:
        svc.list_subjects(session, officer, svc.SubjectFilter(risk_level="severe"))
    assert info.value.status == 422

    with database.read() as session:
        seen: list[int] = []
        cursor = None
        while True:
            page = svc.list_subjects(session, officer, svc.SubjectFilter(), limit=3, cursor=cursor)
            assert page.total == 7
            seen += [v.id for v in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert seen == sorted(seen) and len(set(seen)) == 7
        by_offset = svc.list_subjects(session, officer, svc.SubjectFilter(), limit=3, offset=6)
        assert [v.id for v in by_offset.items] == seen[6:] and by_offset.next_cursor is None
        for kwargs in ({"limit": 0}, {"limit": 201}, {"cursor": "bm9wZQ"}, {"offset": -1}):
            with pytest.raises(ServiceError) as info:
                svc.list_subjects(session, officer, svc.SubjectFilter(), **kwargs)
            assert info.value.status == 422


def test_find_subject_for_intake(database, officer) -> None:
    site = _create(database, officer, _site(icp_filing="沪ICP备12345678号-1"))
    app = _create(
        database,
        officer,
        {"kind": "app", "name": "示例App", "region": "310000", "icp_filing": "沪ICP备87654321号"},
    )
    _create(database, officer, _site("同名", domains=["a.cn"]))
    _create(database, officer, _site("同名", domains=["b.cn"]))
    with database.read() as session:

        def found(**keys) -> int | None:
            subject = svc.find_subject(session, **keys)
            return subject.id if subject else None

        assert found(domain="example.cn") == site.id
        assert found(domain="https://m.news.EXAMPLE.cn/a?b=1") == site.id
        assert found(domain="example.com") is None
        assert found(icp="沪ICP备12345678号-1") == site.id
        assert found(icp="沪 ICP 备 12345678 号") == site.id  # the filer's main number
        assert found(icp="沪ICP备87654321号-3") == app.id  # another site of a main filing
        assert found(name="示例App") == app.id
        assert found(name="同名") is None  # ambiguous: no guess
        assert found(domain="nothing.cn", icp="垃圾", name="示例App") == app.id
        for junk in ("", "http://", "\x00", "a" * 5000, "com.cn"):
            assert found(domain=junk, icp=junk, name=junk) is None


# ---------------------------------------------------------------- import and export


def _csv(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


HEADER_ZH = ["类型", "名称", "地区代码", "域名", "统一社会信用代码", "风险等级"]


def _import(database, principal, data, **kwargs) -> ledger_io.ImportReport:
    with database.write() as session:
        return ledger_io.import_subjects(session, principal, data, at=T1, **kwargs)


def _count(database) -> int:
    with database.read() as session:
        return session.query(Subject).count()


def test_import_keeps_good_rows_and_reports_bad_ones(database, officer) -> None:
    _create(database, officer, _site("已有", domains=["taken.cn"]))
    data = _csv(
        [
            HEADER_ZH,
            ["网站", "好网站", "310000", "good.cn、www.good.cn", USCC, "高"],
            ["网站", "坏信用代码", "310000", "bad1.cn", "91310000MA1FL00010", ""],
            ["", "", "", "", "", ""],
            ["论坛", "", "310000", "bad2.cn", "", "extreme"],
            ["网站", "抢域名", "310000", "TAKEN.cn", "", ""],
            ["网站", "外地", "110000", "bj.example.cn", "", ""],
            ["应用程序", "好App", "310101", "", "", "低"],
        ]
    )
    with database.read() as session:
        logged = len(list(audit_log.iter_records(session)))
    dry = _import(database, officer, data, dry_run=True)
    assert (dry.rows, dry.created, dry.failed) == (6, 2, 4)
    assert all(r.subject_id is None for r in dry.results)
    assert _count(database) == 1
    with database.read() as session:
        assert len(list(audit_log.iter_records(session))) == logged  # the dry run logged nothing

    report = _import(database, officer, data, filename="台账.csv")
    assert (report.rows, report.created, report.updated, report.failed) == (6, 2, 0, 4)
    assert report.format == "csv" and report.encoding == "utf-8"
    assert [(r.row, r.action) for r in report.results] == [(2, "created"), (8, "created")]
    errors = {(e.row, e.column, e.code) for e in report.errors}
    assert errors == {
        (3, "uscc", "uscc_check"),
        (5, "kind", "unknown_value"),
        (5, "name", "required"),
        (5, "risk_level", "unknown_value"),
        (6, "domains", "domain_taken"),
        (7, "region", "out_of_jurisdiction"),
    }
    by_row = {e.row: e for e in report.errors}
    assert by_row[3].header == "统一社会信用代码" and "校验位" in by_row[3].message
    assert _count(database) == 3
    with database.read() as session:
        records = list(audit_log.iter_records(session))
        assert audit_log.verify_log(session).ok
    assert [r.kind for r in records[-3:]] == [
        "ledger.subject_created",
        "ledger.subject_created",
        "ledger.imported",
    ]
    assert records[-1].payload["digest"] == report.digest
    assert records[-1].payload["failed"] == 4


def test_import_gbk_csv_with_title_row_and_serial_column(database, officer) -> None:
    rows = [
        ["上海市网站台账（2020年）", "", "", ""],
        ["序号", "主体类型*", "主体名称", "行政区划代码", "网站域名"],
        ["1", "网站", "中文编码网站", "310000", "gbk.cn"],
    ]
    report = _import(database, officer, _csv(rows, "gbk"))
    assert report.encoding == "gb18030" and report.header_row == 2
    assert report.created == 1 and report.failed == 0
    with database.read() as session:
        assert svc.find_subject(session, domain="gbk.cn").name == "中文编码网站"


def test_import_bom_and_semicolons(database, officer) -> None:
    data = "\ufeffkind;name;region;domains\nwebsite;BOM网站;310000;bom.cn\n".encode()
    report = _import(database, officer, data)
    assert report.created == 1 and report.encoding == "utf-8-sig"


def test_import_updates_need_the_exported_version(database, officer) -> None:
    site = _create(database, officer, _site())
    data = _csv(
        [
            ["编号", "版本", "风险等级"],
            [str(site.id), "1", "中"],
            [str(site.id), "1", "高"],  # the same row again: the first update moved the version
            ["99999", "1", "高"],
            [str(site.id), "", "高"],
        ]
    )
    report = _import(database, officer, data)
    assert report.updated == 1 and report.failed == 3
    assert {(e.row, e.column, e.code) for e in report.errors} == {
        (3, "version", "stale_version"),
        (4, "id", "subject_not_found"),
        (5, "version", "required"),
    }
    with database.read() as session:
        subject = svc.get_subject(session, officer, site.id)
    # Columns absent from the file were left alone.
    assert (subject.risk_level, subject.domains, subject.version) == ("medium", ["example.cn"], 2)


def test_xlsx_export_import_round_trip(database, officer) -> None:
    _create(
        database,
        officer,
        _site(
            '=HYPERLINK("http://evil.cn","点我")',
            domains=["例子.中国", "example.cn"],
            notes="-1+2",
            uscc=USCC,
            youth_mode="partial",
        ),
    )
    _create(
        database,
        officer,
        {
            "kind": "game",
            "name": "@游戏",
            "region": "310000",
            "game_approval_no": "国新出审[2021]1234号",
        },
    )
    with database.read() as session:
        exported = ledger_io.export_subjects(
            session, officer, svc.SubjectFilter(), fmt="xlsx", lang="zh", at=T1
        )
    assert exported.rows == 2 and exported.filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(exported.content)).worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["编号", "版本", "类型", "名称"]
    name_cell = sheet.cell(row=2, column=4)
    assert name_cell.value == '\'=HYPERLINK("http://evil.cn","点我")'
    assert name_cell.data_type == "s"  # text, not a formula
    assert sheet.cell(row=3, column=4).value == "'@游戏"
    assert sheet.cell(row=2, column=header.index("备注") + 1).value == "'-1+2"
    assert sheet.cell(row=2, column=header.index("青少年模式") + 1).value == "部分落实"

    # Re-importing the untouched export changes nothing; edit one cell and it updates one row.
    report = _import(database, officer, exported.content)
    assert (report.unchanged, report.updated, report.failed) == (2, 0, 0), report.errors
    sheet.cell(row=3, column=header.index("风险等级") + 1).value = "高"
    edited = io.BytesIO()
    sheet.parent.save(edited)
    report = _import(database, officer, edited.getvalue())
    assert (report.unchanged, report.updated) == (1, 1)
    with database.read() as session:
        first = svc.list_subjects(session, officer, svc.SubjectFilter()).items
    assert first[0].name.startswith("=HYPERLINK")  # the escape was removed on import
    assert first[0].notes == "-1+2"
    assert first[1].risk_level == "high"


def test_csv_export_is_utf8_with_bom_and_escaped(database, officer) -> None:
    _create(database, officer, _site("+cmd|' /C calc'!A0", notes="@隐藏"))
    with database.read() as session:
        exported = ledger_io.export_subjects(
            session, officer, svc.SubjectFilter(), fmt="csv", lang="en", at=T1
        )
    assert exported.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    header = rows[0]
    assert header[:4] == ["id", "version", "kind", "name"]
    row = dict(zip(header, rows[1], strict=True))
    assert row["name"] == "'+cmd|' /C calc'!A0"
    assert row["notes"] == "'@隐藏"
    assert row["kind"] == "website" and row["education_app"] == "false"
    assert row["active"] == "active" and row["updated_at"].endswith("Z")
    # And back: the English CSV imports as an unchanged row.
    report = _import(database, officer, exported.content)
    assert report.unchanged == 1 and not report.errors


def test_operators_export_only_their_own(database, people, officer) -> None:
    org = people.organisation()
    operator = people.make("operator", jurisdiction="310000", organisation_id=org).principal
    _create(database, officer, _site("本单位", organisation_id=org))
    _create(database, officer, _site("别人", domains=["else.cn"]))
    with database.read() as session:
        exported = ledger_io.export_subjects(
            session, operator, svc.SubjectFilter(), fmt="csv", lang="zh", at=T1
        )
    text = exported.content.decode("utf-8-sig")
    assert "本单位" in text and "别人" not in text
    with pytest.raises(ServiceError) as info, database.write() as session:
        ledger_io.import_subjects(session, operator, _csv([HEADER_ZH]), at=T1)
    assert info.value.status == 403


# ---------------------------------------------------------------- files refused as a whole


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


BAD_FILES = [
    (b"", "validation-error", "empty_file"),
    (b"\x89PNG\r\n\x1a\n" + bytes(100), "unsupported-media-type", "unsupported_file"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "unsupported-media-type", "legacy_xls"),
    (b"PK\x03\x04garbage", "validation-error", "bad_xlsx"),
    (b"\xff\xfe\xfd\x80\x81", "unsupported-media-type", "unknown_encoding"),
    (b"kind,name\x00,region\n", "unsupported-media-type", "binary_file"),
    ("颜色,名称\n".encode(), "validation-error", "no_header"),
    ("颜色,名称,地区代码,类型\n".encode(), "validation-error", "unknown_column"),
    ("name,名称,region,kind\n".encode(), "validation-error", "duplicate_column"),
    ("名称,域名\nx,y\n".encode(), "validation-error", "missing_column"),
    ("名称,地区代码,类型\n".encode(), "validation-error", "no_rows"),
    (b'kind,name,region\n"open quote,x\n', "validation-error", "bad_csv"),
    (b"kind," * 70 + b"\n", "validation-error", "too_many_columns"),
    (b"x" * (ledger_io.MAX_FILE_BYTES + 1), "body-too-large", "file_too_large"),
]


def test_bad_files_are_refused_whole(sqlite_database) -> None:
    from dbfixtures import People

    principal = People(sqlite_database).make("officer", department="police", jurisdiction="310000")
    for data, slug, code in BAD_FILES:
        with pytest.raises(ledger_io.ImportFileError) as info, sqlite_database.write() as session:
            ledger_io.import_subjects(session, principal.principal, data, at=T1)
        assert (info.value.slug, info.value.code) == (slug, code), data[:40]
        assert info.value.message_zh
    with sqlite_database.read() as session:
        assert session.query(Subject).count() == 0


def test_row_and_xlsx_limits(sqlite_database, monkeypatch) -> None:
    from dbfixtures import People

    principal = People(sqlite_database).make("admin", jurisdiction="310000").principal
    monkeypatch.setattr(ledger_io, "MAX_ROWS", 3)
    rows = [["kind", "name", "region"]] + [["group", f"群{i}", "310000"] for i in range(4)]
    for data in (_csv(rows), _xlsx(rows)):
        with pytest.raises(ledger_io.ImportFileError) as info, sqlite_database.write() as session:
            ledger_io.import_subjects(session, principal, data, at=T1)
        assert info.value.code == "too_many_rows" and info.value.status == 413
    # Three data rows pass, however many blank rows lie around them.
    spaced = [rows[0], *([[None]] * 50), rows[1], *([[None, ""]] * 50), rows[2], rows[3]]
    with sqlite_database.write() as session:
        report = ledger_io.import_subjects(session, principal, _xlsx(spaced), at=T1)
    assert report.created == 3 and [r.row for r in report.results] == [52, 103, 104]
    monkeypatch.setattr(ledger_io, "MAX_SCANNED_ROWS", 100)
    with pytest.raises(ledger_io.ImportFileError) as info:
        ledger_io.read_sheet(_csv(spaced))
    assert info.value.code == "too_many_rows"
    monkeypatch.setattr(ledger_io, "MAX_XLSX_UNPACKED", 1000)
    with pytest.raises(ledger_io.ImportFileError) as info:
        ledger_io.read_sheet(_xlsx(rows))
    assert info.value.code == "xlsx_too_large"


def test_xlsx_with_a_doctype_is_refused() -> None:
    import zipfile

    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(_xlsx([["kind", "name"]]))) as src,
        zipfile.ZipFile(buffer, "w") as dst,
    ):
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/workbook.xml":
                data = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaa">]>' + data
            dst.writestr(info, data)
    with pytest.raises(ledger_io.ImportFileError) as info:
        ledger_io.read_sheet(buffer.getvalue())
    assert info.value.code == "xlsx_doctype"


def test_xlsx_cells_of_every_type_read_as_text() -> None:
    sheet = ledger_io.read_sheet(
        _xlsx([["kind", "region", "organisation_id"], ["website", 310000, 12.0], [None, True, 1.5]])
    )
    assert sheet.rows[1] == (2, ["website", "310000", "12"])
    assert sheet.rows[2] == (3, [None, "true", "1.5"])


def test_cells_under_no_header_are_reported(database, officer) -> None:
    data = _csv([["kind", "name", "region", ""], ["group", "群", "310000", "多余"]])
    report = _import(database, officer, data)
    assert report.failed == 1 and report.errors[0].code == "cell_without_header"


@pytest.mark.parametrize(
    "value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "'=x", "''-x", "'普通", "普通", ""]
)
def test_escape_round_trip(value: str) -> None:
    escaped = ledger_io.escape_cell(value)
    assert not escaped.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert ledger_io.unescape_cell(escaped) == value
    assert (escaped != value) == value.lstrip("'").startswith(("=", "+", "-", "@", "\t", "\r"))
