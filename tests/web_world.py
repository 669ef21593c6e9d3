"""A small, seeded billing office for the web tests: a synthetic world ingested into the ledger,
triaged, turned into work items, and one user per role.

Built once per session per database (SQLite: a template file copied per test; PostgreSQL: a schema
shared by the session's web tests, which therefore never rely on an item's state left by another).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from everyclaim.ingest import pipeline
from everyclaim.ledger.db import make_engine, upgrade
from everyclaim.synth.world import generate
from everyclaim.triage import engine as triage_engine
from everyclaim.triage.rules import load_rules
from everyclaim.web.app import WebSettings, create_app
from everyclaim.work import users as work_users
from everyclaim.work.refresh import refresh

AS_OF = date(2026, 11, 2)
CLAIMS = 240
SEED = 7
PASSWORD = "correct horse battery staple"
ROLES = ("admin", "manager", "biller", "auditor")
PG_ENV = "EVERYCLAIM_TEST_DB"
SECRET = "test-secret-key-that-is-long-enough-0123456789"


def build_world(engine: sa.Engine, folder: Path, claims: int = CLAIMS, seed: int = SEED) -> None:
    """Synthesize, ingest, triage, refresh the work queue, and add one user per role."""
    upgrade(engine)
    generate(folder, claims, seed, AS_OF)
    summary = pipeline.ingest_planned(engine, pipeline.plan([folder], {}), pipeline.Options(as_of=AS_OF))
    assert not summary.any_rejected
    with engine.begin() as conn:
        triage_engine.triage(conn, AS_OF, load_rules([])[0])
        refresh(conn)
        for role in ROLES:
            work_users.create_user(conn, None, role, PASSWORD, role, display_name=f"Demo {role}",
                                   skills=("appeals", "coding", "refunds") if role == "biller" else ())


@dataclass
class World:
    url: str
    engine: sa.Engine
    kind: str  # sqlite | postgresql

    def client(self, role: str | None = None, **settings: object) -> TestClient:
        """A client on a fresh app; signed in as ``role`` when given."""
        app = create_app(self.url, WebSettings(secret_key=SECRET, **settings))  # type: ignore[arg-type]
        c = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
        if role:
            login(c, role)
        return c


def csrf(client: TestClient, path: str = "/login") -> str:
    """The CSRF token a page carries (the login page starts an anonymous session)."""
    html = client.get(path).text
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def login(client: TestClient, username: str, password: str = PASSWORD) -> None:
    token = csrf(client)
    r = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert r.status_code == 303, r.text
    client.headers["X-CSRF-Token"] = client.get("/api/me").json()["csrf_token"]


def _pg_world(base_url: str, folder: Path) -> Iterator[World]:
    schema = "w_" + uuid.uuid4().hex[:12]
    admin = make_engine(base_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = sa.make_url(admin.url).update_query_dict({"options": f"-csearch_path={schema}"})
    text = url.render_as_string(hide_password=False)
    engine = make_engine(text)
    try:
        build_world(engine, folder)
        yield World(text, engine, "postgresql")
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def db_params() -> list[object]:
    skip = pytest.mark.skip(reason=f"{PG_ENV} is not set")
    return ["sqlite", pytest.param("postgresql", marks=[] if os.environ.get(PG_ENV) else [skip])]


@pytest.fixture(scope="session")
def _sqlite_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("web_world")
    path = folder / "world.db"
    engine = make_engine(f"sqlite:///{path}")
    build_world(engine, folder / "files")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _pg_world_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from _pg_world(os.environ[PG_ENV], tmp_path_factory.mktemp("web_world_pg"))


@pytest.fixture(params=db_params())
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """The seeded office: a private copy on SQLite, the session's schema on PostgreSQL."""
    if request.param == "sqlite":
        db = tmp_path / "world.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_world"), db)
        url = f"sqlite:///{db}"
        engine = make_engine(url)
        yield World(url, engine, "sqlite")
        engine.dispose()
        return
    yield request.getfixturevalue("_pg_world_fixture")
