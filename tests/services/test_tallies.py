"""Statistics tallies kept through the real services: a seeded random walk of case work (new
cases by hand and by intake, transitions, dispositions proposed and decided, cases moved between
campaigns, transactions rolled back) leaves tallies that agree with a recomputation, with the
contributions of `qinglang.govern.tallies` summed over every case, and statistics read from them
equal to the scan of the cases (SQLite and PostgreSQL). Plus the backfill of migration 0004."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from dbfixtures import PG_ENV
from qinglang.govern import campaigns as core
from qinglang.govern.actors import Role
from qinglang.govern.case_dispositions import DISPOSITION_OPS
from qinglang.govern.cases import TRANSITIONS
from qinglang.govern.dispositions import ParamKind, registered
from qinglang.govern.tallies import Approved, Deltas, contribution
from qinglang.services import cases, intake, ledger, tallies
from qinglang.services.campaigns import create_campaign, set_case_campaign
from qinglang.services.errors import ServiceError
from qinglang.services.principal import Principal
from qinglang.services.statistics import campaign_statistics, jurisdiction_statistics
from qinglang.settings import Settings
from qinglang.store import migrate
from qinglang.store.blobs import BlobStore
from qinglang.store.db import Database, schema_url
from qinglang.store.models import Campaign, Case, CaseDispositionRow
from qinglang.taxonomy import get_taxonomy

START = datetime(2020, 7, 20, 1, 0, tzinfo=UTC)
AS_OF = datetime(2020, 12, 1, 4, 0, tzinfo=UTC)
GROUNDS = ["gambling", "porn_vulgar", "fan_circle", "unfiled_site", "game_ad", "no_real_name"]
PLACES = ["310100", "310105", "310000", "410100", "410000", "440300", "100000"]
SOURCES = ["patrol", "patrol", "handoff"]  # by hand; tips come through intake
ENDINGS = ("dismiss", "transfer")  # taken now and then: most cases go the whole way
READERS = ["100000", "310000", "410000", "440000", "310100"]


def P(uid: int, roles: set[str], department: str | None, jurisdiction: str = "100000"):
    return Principal(uid, f"u{uid}", frozenset(Role(r) for r in roles), department, jurisdiction)


def _params(rng: random.Random, code: str, at: datetime) -> dict[str, object]:
    out: dict[str, object] = {}
    for p in registered()[code].params:
        if p.kind is ParamKind.count:
            out[p.name] = rng.randint(1, 500)
        elif p.kind is ParamKind.amount:
            out[p.name] = f"{rng.randint(1, 99999)}.{rng.randint(0, 99):02d}"
        else:
            out[p.name] = (at + timedelta(days=30)).date().isoformat()
    return out


class Walk:
    """Random case work through the services, one write transaction per step."""

    def __init__(self, db: Database, seed: int, detector=None, tmp: Path | None = None) -> None:
        self.db = db
        self.rng = random.Random(seed)
        self.at = START
        self.cases: list[int] = []
        self.detector = detector
        self.tmp = tmp
        leader = P(1, {"leader"}, "cyberspace")
        editor = P(2, {"officer"}, "cyberspace")
        with db.write() as s:
            self.subjects = [
                ledger.create_subject(
                    s,
                    editor,
                    {
                        "kind": "website",
                        "name": f"示例网站{i}",
                        "region": region,
                        "domains": [f"site{i}.example.cn"],
                    },
                    at=START - timedelta(days=30),
                ).id
                for i, region in enumerate(("310100", "410100"))
            ]
        with db.write() as s:
            national = create_campaign(s, leader, core.instantiate("national-2020"), at=START)
            local = create_campaign(
                s,
                leader,
                core.instantiate("national-2020", jurisdiction="310000", name="上海专项"),
                at=START,
            )
            self.campaigns = [national.id, local.id]

    def tick(self) -> datetime:
        self.at += timedelta(minutes=self.rng.randint(1, 600))
        return self.at

    def worker(self, department: str) -> Principal:
        return P(10, {"officer", "analyst"}, department)

    def leader(self, department: str) -> Principal:
        return P(11, {"leader", "officer"}, department)

    def write(self, fn) -> None:
        try:
            with self.db.write() as s:
                fn(s, self.tick())
        except ServiceError:
            pass

    def lead_of(self, case_id: int) -> str:
        with self.db.read() as s:
            return s.get(Case, case_id).lead_department

    def new_case(self) -> None:
        rng = self.rng

        ground = rng.choice(GROUNDS)
        tax = get_taxonomy()
        lead = (tax.categories.get(ground) or tax.violations[ground]).lead

        def go(s, at):
            detail = cases.create_case(
                s,
                self.worker(lead),
                grounds=[ground],
                jurisdiction=rng.choice(PLACES),
                at=at,
                subject_id=rng.choice([None, *self.subjects]),
                source=rng.choice(SOURCES),
            )
            self.cases.append(detail.case.id)

        self.write(go)

    def tip(self) -> None:
        settings = Settings(blob_dir=self.tmp / "blobs")
        prepared = intake.prepare(
            self.detector,
            settings,
            source="public_tip",
            principal=None,
            at=self.tick(),
            text="有网站推广网络赌博，首充送彩金",
            urls=[f"https://bet{len(self.cases)}.example.cn/a"],
            category="gambling",
            jurisdiction=self.rng.choice(PLACES),
        )
        receipt = intake.commit(self.db, BlobStore(settings.blob_dir), prepared)
        if receipt.case_id not in self.cases:
            self.cases.append(receipt.case_id)

    def act(self, case_id: int) -> None:
        with self.db.read() as s:
            row = s.get(Case, case_id)
            dept, state = row.lead_department, row.state
        actions = sorted({t.action for t in TRANSITIONS if t.source.value == state})
        if not actions:
            return  # ended
        forward = [a for a in actions if a not in ENDINGS]
        if forward and self.rng.random() < 0.9:
            actions = forward
        action = self.rng.choice(actions)
        for who in (self.worker(dept), self.leader(dept)):
            try:
                with self.db.write() as s:
                    cases.act(
                        s,
                        who,
                        case_id,
                        action,
                        at=self.tick(),
                        reason="理由",
                        target="公安机关" if action == "transfer" else None,
                        public_result="已依法处理。" if action == "close" else None,
                    )
                return
            except ServiceError:
                continue

    def propose(self, case_id: int) -> None:
        code = self.rng.choice(list(registered()))
        dept = self.lead_of(case_id)
        at = self.tick()
        params = _params(self.rng, code, at)
        self.write(lambda s, at: cases.propose(s, self.worker(dept), case_id, code, params, at=at))

    def decide(self, case_id: int) -> None:
        with self.db.read() as s:
            ns = list(
                s.scalars(
                    select(CaseDispositionRow.n).where(
                        CaseDispositionRow.case_id == case_id,
                        CaseDispositionRow.status == "proposed",
                    )
                )
            )
        if not ns:
            return
        dept = self.lead_of(case_id)
        n = self.rng.choice(ns)
        decision = self.rng.choice(["approve", "approve", "approve", "reject", "withdraw"])
        self.write(
            lambda s, at: cases.decide(
                s, self.leader(dept), case_id, n, decision, at=at, reason="理由"
            )
        )

    def move(self, case_id: int) -> None:
        dept = self.lead_of(case_id)
        campaign = self.rng.choice([*self.campaigns, None])
        task = self.rng.choice(["1", "2", "3", "4", "5", None])
        self.write(
            lambda s, at: set_case_campaign(s, self.worker(dept), case_id, campaign, task, at=at)
        )

    def aborted(self) -> None:
        """A case created and changed in a transaction that then fails: nothing stays."""
        with pytest.raises(RuntimeError), self.db.write() as s:
            detail = cases.create_case(
                s,
                self.worker("cyberspace"),
                grounds=["gambling"],
                jurisdiction="310100",
                at=self.tick(),
                source="patrol",
            )
            cases.act(s, self.worker(detail.case.lead_department), detail.case.id, "open",
                      at=self.tick())  # fmt: skip
            raise RuntimeError("the transaction fails")

    def run(self, steps: int) -> None:
        for _ in range(steps):
            if not self.cases or self.rng.random() < 0.15:
                if self.detector is not None and self.rng.random() < 0.25:
                    self.tip()
                else:
                    self.new_case()
                continue
            self.step(self.rng.choice(self.cases))

    def step(self, case_id: int) -> None:
        """What a case's state invites: decide a proposal, propose a measure, or move on."""
        with self.db.read() as s:
            state = s.get(Case, case_id).state
            proposed = s.scalar(
                select(text("count(*)"))
                .select_from(CaseDispositionRow)
                .where(
                    CaseDispositionRow.case_id == case_id,
                    CaseDispositionRow.status == "proposed",
                )
            )
        r = self.rng.random()
        if r < 0.08:
            self.move(case_id)
        elif proposed and r < 0.7:
            self.decide(case_id)
        elif state in DISPOSITION_OPS["propose"].states and r < 0.55:
            self.propose(case_id)
        else:
            self.act(case_id)


def python_tallies(session) -> Deltas:
    """The contributions of `qinglang.govern.tallies` summed over every case."""
    out = Deltas()
    for row in session.scalars(select(Case)):
        approved = [
            Approved(d.code, d.params)
            for d in session.scalars(
                select(CaseDispositionRow).where(
                    CaseDispositionRow.case_id == row.id, CaseDispositionRow.status == "approved"
                )
            )
        ]
        out.add(contribution(tallies.facts_of(row), approved))
    return out.pruned()


def stored_tallies(session) -> Deltas:
    out = Deltas()
    for c, r, d, v, n in session.execute(select(tallies.CASES)):
        if n:
            out.cases[(c, r, d, v)] = n
    for c, r, k, n, s, f in session.execute(select(tallies.DISPOSITIONS)):
        if n or s or f:
            out.dispositions[(c, r, k)] = (n, s, f)
    for c, r, k, m, n in session.execute(select(tallies.MEMBERS)):
        if n:
            out.members[(c, r, k, m)] = n
    return out


def assert_consistent(db: Database) -> None:
    with db.read() as s:
        assert tallies.verify(s) == []
    with db.read() as s:
        assert stored_tallies(s) == python_tallies(s)
        campaign_ids = list(s.scalars(select(Campaign.id)))
    for campaign_id in campaign_ids:
        for where in READERS:
            reader = P(20, {"analyst"}, "cyberspace", where)
            with db.read() as s:
                try:
                    scan = campaign_statistics(s, reader, campaign_id, at=AS_OF, method="scan")
                except ServiceError as exc:
                    assert exc.status == 404  # a province's campaign, for another province
                    continue
                auto = campaign_statistics(s, reader, campaign_id, at=AS_OF)
                if where != "310100":
                    kept = campaign_statistics(s, reader, campaign_id, at=AS_OF, method="tallies")
                    assert kept == scan, (campaign_id, where)
            assert auto == scan
    for where in READERS[:3]:
        reader = P(20, {"analyst"}, "cyberspace", where)
        with db.read() as s:
            scan = jurisdiction_statistics(s, reader, at=AS_OF, method="scan")
            kept = jurisdiction_statistics(s, reader, at=AS_OF, method="tallies")
        assert kept == scan, where


def test_random_case_work_keeps_the_tallies_exact(database, detector, tmp_path) -> None:
    walk = Walk(database, seed=20201215, detector=detector, tmp=tmp_path)
    for _ in range(3):
        walk.tip()
    walk.aborted()
    walk.run(260)
    with database.read() as s:
        states = set(s.scalars(select(Case.state)))
        approved = s.scalar(
            select(text("count(*)"))
            .select_from(CaseDispositionRow)
            .where(CaseDispositionRow.status == "approved")
        )
    # The walk went far enough to matter.
    assert len(walk.cases) >= 20 and approved >= 5, (len(walk.cases), approved)
    assert {"lead", "opened", "disposing"} <= states and states & {"closed", "rectifying"}
    assert_consistent(database)
    with database.read() as s:
        national = P(20, {"analyst"}, "cyberspace")
        before = campaign_statistics(s, national, walk.campaigns[0], at=AS_OF)
        assert before.total_cases > 0 and before.dispositions_total > 0
    # A rebuild changes nothing.
    with database.write() as s:
        counts = tallies.rebuild(s)
    assert counts["case_tallies"] > 0
    assert_consistent(database)
    with database.read() as s:
        assert campaign_statistics(s, national, walk.campaigns[0], at=AS_OF) == before


def test_verify_reports_a_damaged_tally_and_rebuild_repairs_it(database) -> None:
    walk = Walk(database, seed=7)
    walk.run(30)
    with database.write() as s:
        s.execute(text("UPDATE case_tallies SET n = n + 5 WHERE dimension = 'state'"))
        s.execute(text("DELETE FROM disposition_distinct"))
    with database.read() as s:
        problems = tallies.verify(s)
    assert problems and any("case_tallies" in p and "state" in p for p in problems)
    with database.write() as s:
        tallies.rebuild(s)
    assert_consistent(database)


def test_reads_inside_a_write_transaction_see_its_own_cases(database) -> None:
    walk = Walk(database, seed=3)
    national = P(20, {"analyst"}, "cyberspace")
    with database.write() as s:
        cases.create_case(
            s, walk.worker("police"), grounds=["gambling"], jurisdiction="310100",
            at=walk.tick(), source="patrol",
        )  # fmt: skip
        stats = campaign_statistics(s, national, walk.campaigns[1], at=AS_OF, method="tallies")
        assert stats.total_cases == 1
        assert tallies.verify(s) == []


@pytest.fixture(params=["sqlite", "postgresql"])
def bare_database(request, tmp_path) -> Iterator[Database]:
    """An empty database of its own (not migrated), on each backend."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'm.db'}")
        yield db
        db.dispose()
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    schema = f"qltest_tallies_{os.getpid()}"
    admin = create_engine(Database(base).url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    db = Database(schema_url(base, schema))
    try:
        yield db
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.dispose()


def test_the_migration_backfills_existing_cases(bare_database, monkeypatch) -> None:
    db = bare_database
    migrate.upgrade(db, "0003")
    with monkeypatch.context() as m:
        # Cases written as the 0003 code wrote them: no tallies (their tables do not exist yet).
        m.setattr(tallies, "record", lambda session, deltas: None)
        walk = Walk(db, seed=11)
        walk.run(60)
    with db.read() as s:
        assert s.scalar(select(text("count(*)")).select_from(Case)) > 5
    migrate.upgrade(db)
    assert_consistent(db)


def test_the_commands_verify_and_rebuild(sqlite_database) -> None:
    from typer.testing import CliRunner

    from qinglang.cli.stats import stats_app

    Walk(sqlite_database, seed=2).run(20)
    url = str(sqlite_database.engine.url)
    runner = CliRunner()
    ok = runner.invoke(stats_app, ["verify", "--url", url])
    assert ok.exit_code == 0, ok.output
    with sqlite_database.write() as s:
        s.execute(text("UPDATE case_tallies SET n = n + 1 WHERE dimension = 'ground'"))
    bad = runner.invoke(stats_app, ["verify", "--url", url])
    assert bad.exit_code == 1 and "case_tallies" in bad.output
    fixed = runner.invoke(stats_app, ["rebuild", "--url", url])
    assert fixed.exit_code == 0 and "case_tallies" in fixed.output
    assert runner.invoke(stats_app, ["verify", "--url", url]).exit_code == 0


@pytest.mark.parametrize("method", ["scan", "tallies"])
def test_the_tallies_refuse_what_they_cannot_answer(database, method) -> None:
    walk = Walk(database, seed=5)
    city = P(20, {"analyst"}, "cyberspace", "310100")
    with database.read() as s:
        if method == "tallies":
            with pytest.raises(ValueError):
                campaign_statistics(s, city, walk.campaigns[0], at=AS_OF, method=method)
            with pytest.raises(ValueError):
                jurisdiction_statistics(
                    s, P(21, {"analyst"}, "cyberspace"), at=AS_OF, method=method,
                    start=START.date(),
                )  # fmt: skip
        else:
            assert campaign_statistics(s, city, walk.campaigns[0], at=AS_OF, method=method)
        with pytest.raises(ValueError):
            campaign_statistics(s, city, walk.campaigns[0], at=AS_OF, method="fast")
