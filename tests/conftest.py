"""Shared fixtures: a migrated ledger database on SQLite and (when ``EVERYCLAIM_TEST_DB`` is set)
PostgreSQL, plus small builders for hand-written ledger records (money as Decimal strings)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from everyclaim.ledger import schema as t
from everyclaim.ledger.db import make_engine, upgrade
from everyclaim.ledger.records import (
    Adjustment,
    Claim,
    ClaimPayment,
    Party,
    ProviderAdjustment,
    Remittance,
    ServiceLine,
    ServicePayment,
    Source,
)
from everyclaim.work import schema as _work_schema  # noqa: F401  (work tables join t.metadata: truncated too)

PG_ENV = "EVERYCLAIM_TEST_DB"
SEEDED = {"roles"}  # reference rows the migrations insert: kept between tests


def _db_params() -> list[object]:
    pg = os.environ.get(PG_ENV)
    skip = pytest.mark.skip(reason=f"{PG_ENV} is not set")
    return ["sqlite", pytest.param("postgresql", marks=[] if pg else [skip])]


def _pg_engine(base_url: str, migrate: bool = False) -> Iterator[sa.Engine]:
    """A fresh, uniquely named PostgreSQL schema (through search_path), dropped afterwards."""
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = make_engine(base_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = sa.make_url(admin.url).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        if migrate:
            upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(params=_db_params())
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """An engine on an empty database (not migrated)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path}/t.db")
        yield engine
        engine.dispose()
    else:
        yield from _pg_engine(os.environ[PG_ENV])


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session; each test gets a copy."""
    path = tmp_path_factory.mktemp("ledger") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _pg_session() -> Iterator[sa.Engine]:
    """A PostgreSQL schema migrated once per session (dropped at the end)."""
    yield from _pg_engine(os.environ[PG_ENV], migrate=True)


@pytest.fixture(params=_db_params())
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """An empty ledger at the Alembic head: a copy of the migrated SQLite file, or the session's
    migrated PostgreSQL schema with every table truncated (identities restarted)."""
    if request.param == "sqlite":
        db = tmp_path / "t.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), db)
        engine = make_engine(f"sqlite:///{db}")
        yield engine
        engine.dispose()
        return
    engine = request.getfixturevalue("_pg_session")
    names = ", ".join(f'"{tb.name}"' for tb in t.metadata.sorted_tables if tb.name not in SEEDED)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    yield engine


# ------------------------------------------------------------------------------------------------
# Builders for hand-written ledger records
# ------------------------------------------------------------------------------------------------
D = Decimal
PAYER = Party("PR", "ACME HEALTH", id="ACME1")
BILLING = Party("85", "GOOD CLINIC", id="1234567893")


def src(sha: str = "f" * 64, seg: int = 1, st02: str = "0001") -> Source:
    return Source(sha, "000000001", "1", st02, seg, "test.x12")


def claim(pcn: str, charge: str, *lines: str, payer: Party = PAYER, frequency: str = "1",
          sha: str = "a" * 64, seg: int = 10, submitted: date | None = date(2026, 1, 5)) -> Claim:
    """A billed claim; ``lines`` are line charges (default: one line of the whole charge)."""
    charges = lines or (charge,)
    svc = tuple(
        ServiceLine(i + 1, "HC", "99213", (), D(c), D(1), "UN", date(2026, 1, 2), seg_index=seg + 1 + i)
        for i, c in enumerate(charges)
    )
    return Claim(
        source=src(sha, seg), kind="837P", pcn=pcn, charge=D(charge), place_of_service="11",
        facility_qualifier="B", frequency=frequency, billing_provider=BILLING,
        subscriber=Party("IL", "DOE", "JANE", "MI", "W123"), payer=payer, service_from=date(2026, 1, 2),
        service_to=date(2026, 1, 2), diagnoses=("J209",), lines=svc, submitted=submitted,
    )


def cas(group: str, carc: str, amount: str) -> Adjustment:
    return Adjustment(group, carc, D(amount))


def payment(pcn: str, charge: str, paid: str, *adjs: Adjustment, status: str = "1", sha: str = "b" * 64,
            seg: int = 20, control: str = "PCC1", lines: tuple[ServicePayment, ...] = (),
            st02: str = "0001") -> ClaimPayment:
    pr = sum((a.amount for a in adjs if a.group == "PR"), D("0"))
    return ClaimPayment(
        source=src(sha, seg, st02), pcn=pcn, status=status, charge=D(charge), paid=D(paid),
        patient_responsibility=pr, claim_filing="CI", payer_claim_control=control, adjustments=adjs,
        lines=lines,
    )


def remittance(amount: str, trace: str = "CHK1", sha: str = "b" * 64, seg: int = 3, st02: str = "0001",
               payer: Party = PAYER) -> Remittance:
    return Remittance(
        source=src(sha, seg, st02), handling="I", amount=D(amount), credit_debit="C", method="CHK",
        payment_date=date(2026, 2, 1), trace_number=trace, payer_trn_id="1" + payer.id, payer=payer,
        payee=Party("PE", "GOOD CLINIC", id="1234567893"),
    )


def plb(amount: str, reason: str = "WO", reference: str = "", sha: str = "b" * 64, seg: int = 90,
        st02: str = "0001") -> ProviderAdjustment:
    return ProviderAdjustment(src(sha, seg, st02), "1234567893", date(2026, 12, 31), reason, reference, D(amount))
