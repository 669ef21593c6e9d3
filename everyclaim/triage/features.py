"""Stage 1 of triage: one row of evidence per open claim, computed set-based in SQL.

An *open claim* is a row of the latest A/R snapshot (``atb_rows``) on or before the as-of date whose
balance is not zero, joined to the billed claim it was matched to. For all of them at once,
:func:`build_features` runs one ``INSERT INTO triage_features SELECT ...`` over the ledger: the last
adjudication (835) and its CARC/RARC set and denial categories, ages in days, filing and appeal
deadlines from the payer profile, 277CA acknowledgment evidence, secondary coverage, what the ATB says
against what the 835s say, credit balances, paid twins (duplicates) and reversals.

Every feature is declared once in :data:`FEATURES` with its kind and a sentence of help; the
``triage_features`` table and the rule language's validation are built from that list, so a rule can
only name a feature that exists, and a test fails when a feature has no help text.

Kinds: ``int`` (days, counts), ``money`` (integer cents), ``bool``, ``text``, ``set`` (``,a,b,`` of codes).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from everyclaim.codes import carc_category_rows, load_code_sets
from everyclaim.ledger import schema as t
from everyclaim.triage.sqlfuncs import csv_set, days_since

KINDS = ("int", "money", "bool", "text", "set", "float")


@dataclass(frozen=True, slots=True)
class Feature:
    name: str
    kind: str
    doc: str


def _f(name: str, kind: str, doc: str) -> Feature:
    assert kind in KINDS, kind
    return Feature(name, kind, doc)


FEATURES: tuple[Feature, ...] = (
    # -- the ATB row ------------------------------------------------------------------------------
    _f("balance_cents", "money", "Open balance on the ATB row (negative = credit balance)."),
    _f("is_credit", "bool", "The ATB balance is negative: money to refund, never to write off."),
    _f("atb_responsibility", "text", "Who the billing system says owes the balance (primary, secondary, patient ...)."),
    _f("atb_charge_cents", "money", "Total charge on the ATB row."),
    _f("atb_insurance_paid_cents", "money", "Insurance payments the billing system posted."),
    _f("atb_patient_paid_cents", "money", "Patient payments the billing system posted."),
    _f("atb_adjustments_cents", "money", "Adjustments (contractuals, write-offs) the billing system posted."),
    # -- the billed claim -------------------------------------------------------------------------
    _f("matched", "bool", "The ATB row is matched to a billed claim (837) in the ledger."),
    _f("claim_responsibility", "text", "SBR01 of the billed claim: P primary, S secondary, T tertiary."),
    _f("frequency", "text", "Frequency code of the latest submission (1 original, 7 replacement, 8 void)."),
    _f("submission_count", "int", "How many times the claim was submitted."),
    _f("has_prior_auth", "bool", "The 837 carries a prior authorization number (REF*G1)."),
    _f("has_distinct_modifier", "bool", "A line carries modifier 59, XE, XP, XS or XU (distinct procedural service)."),
    _f("rendering_tenure_days", "int", "Days since the rendering provider's first service date in the ledger (new providers are low)."),
    _f("has_secondary_coverage", "bool", "The 837 names other coverage (2320/2330) that pays after this payer."),
    _f("secondary_billed", "bool", "A claim with the same PCN was billed to a secondary/tertiary payer."),
    # -- dates and deadlines ----------------------------------------------------------------------
    _f("days_since_service", "int", "Days from the service date to the as-of date."),
    _f("days_since_first_billed", "int", "Days from the first submission to the as-of date."),
    _f("days_since_last_billed", "int", "Days from the latest submission to the as-of date."),
    _f("days_service_to_first_billed", "int", "Days from service to the first submission (filing lag)."),
    _f("timely_filing_days", "int", "The payer's timely filing limit in days from service (payer profile)."),
    _f("appeal_days", "int", "The payer's appeal window in days from the denial (payer profile)."),
    _f("days_to_filing_deadline", "int", "timely_filing_days - days_since_service (negative = the limit has passed)."),
    _f("financial_class", "text", "The payer's financial class (medicare, medicaid, commercial, managed_care ...)."),
    # -- acknowledgments (277CA) ------------------------------------------------------------------
    _f("ack_count", "int", "Number of 277CA claim acknowledgments."),
    _f("has_ack_accept", "bool", "A 277CA accepted the claim (A1/A2)."),
    _f("last_ack_rejected", "bool", "The latest 277CA rejected the claim (A3/A6/A7/A8)."),
    _f("last_ack_category", "text", "Category code of the latest 277CA (A1, A2, A7 ...)."),
    _f("days_since_last_ack", "int", "Days from the latest 277CA to the as-of date."),
    _f("days_service_to_first_accept", "int", "Days from service to the first 277CA acceptance (proof of timely filing)."),
    # -- remittances (835) ------------------------------------------------------------------------
    _f("payment_count", "int", "835 claim payments (CLP) matched to the claim, reversals included."),
    _f("reversal_count", "int", "Reversals (CLP02=22) among them."),
    _f("reversal_open", "bool", "The latest 835 event is a reversal: the payer took the payment back, no re-adjudication yet."),
    _f("has_835", "bool", "At least one 835 adjudication that is not reversed."),
    _f("paid_count", "int", "Adjudications that paid money and were not reversed."),
    _f("paid_control_count", "int", "Distinct payer claim control numbers (CLP07) among those paid adjudications."),
    _f("ledger_paid_cents", "money", "Insurance paid according to the 835s (reversals net)."),
    _f("ledger_pr_cents", "money", "Patient responsibility (PR adjustments) according to the 835s."),
    _f("ledger_contractual_cents", "money", "Contractual adjustments (CO-45 ...) according to the 835s."),
    _f("contractual_unposted_cents", "money", "ledger_contractual_cents - atb_adjustments_cents: contractuals the billing system did not post."),
    _f("paid_twin", "bool", "A paid adjudication exists besides the last one, or another claim for the same subscriber, service date and charge was paid."),
    _f("last_status", "text", "CLP02 of the last adjudication (1 primary, 2 secondary, 4 denied ...)."),
    _f("last_paid_cents", "money", "CLP04 of the last adjudication."),
    _f("last_pr_cents", "money", "Patient responsibility of the last adjudication."),
    _f("last_denied_cents", "money", "Denied amount (CAS in a denial category) on the last adjudication."),
    _f("last_carcs", "set", "CARCs on the last adjudication (claim and line level)."),
    _f("last_group_carcs", "set", "Group-CARC pairs on the last adjudication (e.g. CO-16, PR-2)."),
    _f("last_rarcs", "set", "RARCs (MOA and LQ*HE) on the last adjudication."),
    _f("last_categories", "set", "Denial/adjustment categories of the last adjudication's CARCs (codes map)."),
    _f("denial_category", "text", "The denial category with the most dollars on the last adjudication ('' = no denial)."),
    _f("days_since_adjudication", "int", "Days from the last adjudication's check date (BPR16) to the as-of date."),
    _f("days_since_denial", "int", "Days since the last adjudication when it denied money, else NULL."),
    _f("days_to_appeal_deadline", "int", "appeal_days - days_since_denial (negative = the appeal window has closed)."),
    _f("payer_allowed_ratio", "float", "The payer's allowed / charge ratio over its paid claims in the ledger (expected recovery)."),
)
FEATURE_BY_NAME = {f.name: f for f in FEATURES}

_SQL_TYPE = {"int": sa.Integer, "money": sa.BigInteger, "bool": sa.Boolean, "text": sa.Text,
             "set": sa.Text, "float": sa.Float}  # fmt: skip

triage_metadata = sa.MetaData()

triage_features = sa.Table(
    "triage_features",
    triage_metadata,
    sa.Column("atb_row_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("claim_id", sa.BigInteger),
    sa.Column("pcn", sa.Text, nullable=False),
    sa.Column("payer_id", sa.Text, nullable=False),
    sa.Column("as_of", sa.Date, nullable=False),
    *(sa.Column(f.name, _SQL_TYPE[f.kind]) for f in FEATURES),
)

carc_map = sa.Table(
    "triage_carc_map",
    triage_metadata,
    sa.Column("group_code", sa.String(4), nullable=False),
    sa.Column("carc", sa.String(8), nullable=False, index=True),
    sa.Column("rarc", sa.String(16), nullable=False),
    sa.Column("category", sa.String(40), nullable=False),
    sa.Column("is_denial", sa.Boolean, nullable=False),
    sa.Column("specificity", sa.Integer, nullable=False),
)

# The per-claim facts the features need that only change when a file touches the claim (its 835s and
# their adjustments and remarks, its 277CAs, its lines and other payers), kept between runs: a triage
# recomputes them only for the open claims that have none yet or that rows posted since the last run
# touch (see :func:`facts_plan`), so a day's triage costs what the day's files changed, not the A/R.
claim_facts = sa.Table(
    "triage_claim_facts",
    triage_metadata,
    sa.Column("claim_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("payment_count", sa.Integer),
    sa.Column("reversal_count", sa.Integer),
    sa.Column("last_is_reversal", sa.Integer),
    sa.Column("live_count", sa.Integer),
    sa.Column("paid_count", sa.Integer),
    sa.Column("paid_control_count", sa.Integer),
    sa.Column("paid_cents", sa.BigInteger),
    sa.Column("last_status", sa.Text),
    sa.Column("last_paid_cents", sa.BigInteger),
    sa.Column("last_pr_cents", sa.BigInteger),
    sa.Column("last_payment_date", sa.Date),
    sa.Column("pr_cents", sa.BigInteger),
    sa.Column("contractual_cents", sa.BigInteger),
    sa.Column("last_denied_cents", sa.BigInteger),
    sa.Column("carcs", sa.Text),
    sa.Column("group_carcs", sa.Text),
    sa.Column("categories", sa.Text),
    sa.Column("denial_category", sa.Text),
    sa.Column("rarcs", sa.Text),
    sa.Column("ack_count", sa.Integer),
    sa.Column("ack_accepts", sa.Integer),
    sa.Column("ack_first_accept", sa.Date),
    sa.Column("ack_last_date", sa.Date),
    sa.Column("ack_last_category", sa.Text),
    sa.Column("ack_last_rejected", sa.Integer),
    sa.Column("twin", sa.Integer),
    sa.Column("modified", sa.Integer),
    sa.Column("secondary_coverage", sa.Integer),
    sa.Column("secondary_billed", sa.Integer),
)

# Per payer, the sums behind ``payer_allowed_ratio`` (allowed = paid + patient responsibility, over the
# charge, of the primary adjudications that were not reversals) up to the same marks: a payment row never
# changes its amounts, so the next run adds those posted since.
payer_sums = sa.Table(
    "triage_payer_sums",
    triage_metadata,
    sa.Column("payer_id", sa.Text, primary_key=True),
    sa.Column("allowed_cents", sa.BigInteger, nullable=False),
    sa.Column("charge_cents", sa.BigInteger, nullable=False),
)

# What the facts were computed from: per watched ledger table the highest row id and the row count up to
# it; and a digest of the facts' columns and the CARC category map (a new code set recomputes them all).
facts_state = sa.Table(
    "triage_facts_state",
    triage_metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("max_id", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("row_count", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("digest", sa.String(64), nullable=False, server_default=""),
)

DISTINCT_MODIFIERS = ("59", "XE", "XP", "XS", "XU")
# A triage reads and writes a few tables of one row per open claim with their indexes: on SQLite it runs
# with a page cache that holds them (pages are taken as they are used; the ledger's 16 MiB is for ingest)
SQLITE_PRAGMAS = ("PRAGMA cache_size=-262144", "PRAGMA temp.cache_size=-262144")
PAID_STATUSES = ("1", "2", "3", "19", "20", "21")


def ensure_tables(conn: sa.Connection) -> None:
    """Create the triage tables when missing (they live outside the ledger's migrations)."""
    triage_metadata.create_all(conn, checkfirst=True)


def carc_map_rows() -> list[dict[str, Any]]:
    """The rows of ``triage_carc_map``, from the code sets (precedence as ``CodeSets.denial_category``)."""
    kinds = load_code_sets().category_defs
    return [
        {"group_code": g, "carc": c, "rarc": r, "category": cat, "is_denial": kinds[cat].kind == "denial",
         "specificity": (2 if r else 0) + (1 if g else 0)}
        for g, c, r, cat in carc_category_rows()
    ]  # fmt: skip


def load_carc_map(conn: sa.Connection) -> None:
    """Refresh ``triage_carc_map`` from the code sets."""
    conn.execute(sa.delete(carc_map))
    conn.execute(sa.insert(carc_map), carc_map_rows())


def latest_snapshot(conn: sa.Connection, as_of: date) -> tuple[int, date] | None:
    """The latest ATB snapshot on or before ``as_of``: ``(id, as_of)``."""
    s = t.atb_snapshots.c
    row = conn.execute(sa.select(s.id, s.as_of).where(s.as_of <= as_of).order_by(s.as_of.desc(), s.id.desc())
                       .limit(1)).first()  # fmt: skip
    return (row[0], row[1]) if row else None


def build_features(conn: sa.Connection, as_of: date) -> int:
    """Replace ``triage_features`` with one row per open claim on ``as_of``; return the row count.

    The claims' facts are refreshed on the way (see :func:`facts_plan`)."""
    ensure_tables(conn)
    load_carc_map(conn)
    conn.execute(sa.delete(triage_features))
    snap = latest_snapshot(conn, as_of)
    if snap is None:
        return 0
    plan = facts_plan(conn)
    stmt = features_select(snap[0], as_of, plan, stage=lambda name, cte: stage_table(conn, name, cte),
                           store=lambda new, stale: store_facts(conn, plan, [new], stale))  # fmt: skip
    cols = [c.name for c in stmt.selected_columns]
    conn.execute(sa.insert(triage_features).from_select(cols, stmt))
    return int(conn.execute(sa.select(sa.func.count()).select_from(triage_features)).scalar_one())


# --------------------------------------------------------------------------------------------------
# The claims' facts, kept between runs
# --------------------------------------------------------------------------------------------------
FACTS_VERSION = 3
# every fact comes from rows of these; ``files`` also tells a ledger emptied and loaded again from another
WATCHED = ("files", "claims", "submissions", "claim_payments", "claim_acks")


@dataclass(frozen=True, slots=True)
class FactsPlan:
    """What a run does with the stored facts. ``since``: the watched tables' row ids the stored facts were
    computed at, so only the claims touched by later rows are recomputed; ``None``: recompute every open
    claim's facts. ``marks``: (highest id, row count) per watched table now, stored after the run."""

    since: dict[str, int] | None
    marks: dict[str, tuple[int, int]]
    digest: str

    @property
    def cold(self) -> bool:
        return self.since is None


def facts_digest() -> str:
    """Changes when the facts' columns, their version or the CARC category map change."""
    denial = sorted(k for k, v in load_code_sets().category_defs.items() if v.kind == "denial")
    rows = sorted(tuple(sorted(r.items())) for r in carc_map_rows())
    payload = json.dumps([FACTS_VERSION, [c.name for c in claim_facts.c], rows, denial], default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def facts_plan(conn: sa.Connection) -> FactsPlan:
    """Whether the stored facts can be kept (and only the claims touched since refreshed) or must all be
    recomputed: on the first run, after a new code set, and when rows the facts were computed from are
    gone (a row at or below a mark deleted: ids would no longer tell what is new)."""
    digest = facts_digest()
    marks: dict[str, tuple[int, int]] = {}
    for name in WATCHED:
        tbl = t.metadata.tables[name]
        top, n = conn.execute(sa.select(sa.func.coalesce(sa.func.max(tbl.c.id), 0), sa.func.count())
                              .select_from(tbl)).one()  # fmt: skip
        marks[name] = (int(top), int(n))
    exists = conn.dialect.has_table(conn, facts_state.name)
    stored = {r.name: r for r in conn.execute(sa.select(facts_state))} if exists else {}
    keep = "digest" in stored and stored["digest"].digest == digest and all(n in stored for n in WATCHED)
    keep = keep and _file_sha(conn, stored["files"].max_id) == stored["files"].digest
    for name in WATCHED if keep else ():
        tbl, st = t.metadata.tables[name], stored[name]
        if marks[name][0] == st.max_id:
            below = marks[name][1]
        else:
            below = conn.execute(sa.select(sa.func.count()).select_from(tbl).where(tbl.c.id <= st.max_id)).scalar_one()
        if marks[name][0] < st.max_id or below != st.row_count:
            keep = False
            break
    since = {n: int(stored[n].max_id) for n in WATCHED} if keep else None
    return FactsPlan(since, marks, digest)


def _file_sha(conn: sa.Connection, file_id: int) -> str:
    return conn.execute(sa.select(t.files.c.sha256).where(t.files.c.id == file_id)).scalar() or ""


def store_facts(conn: sa.Connection, plan: FactsPlan, new_facts: list[Any], stale: Any = None) -> None:
    """Drop the stale facts (all of them on a cold run), insert the new ones, store the marks. ``stale``:
    the stale claims already staged for this run (else they are selected again)."""
    f = claim_facts
    if plan.since is None:
        conn.execute(sa.delete(f))
    else:
        stale = _stale(plan.since) if stale is None else stale
        conn.execute(sa.delete(f).where(f.c.claim_id.in_(sa.select(stale.c.claim_id))))
    add_facts(conn, new_facts)
    sums = conn.execute(_payer_sums(plan.since)).mappings().all()
    conn.execute(sa.delete(payer_sums))
    if sums:
        conn.execute(sa.insert(payer_sums), [dict(r) for r in sums])
    conn.execute(sa.delete(facts_state))
    conn.execute(sa.insert(facts_state), [
        *({"name": n, "max_id": m, "row_count": c, "digest": _file_sha(conn, m) if n == "files" else ""}
          for n, (m, c) in plan.marks.items()),
        {"name": "digest", "max_id": 0, "row_count": 0, "digest": plan.digest},
    ])  # fmt: skip


def add_facts(conn: sa.Connection, new_facts: list[Any]) -> None:
    """Insert facts computed on other connections (after :func:`store_facts` dropped the stale ones)."""
    cols = [c.name for c in claim_facts.c]
    for table in new_facts:
        conn.execute(sa.insert(claim_facts).from_select(cols, sa.select(*(table.c[c] for c in cols))))


def _stale(since: dict[str, int]) -> sa.CTE:
    """The claims whose stored facts are stale: those rows posted after the marks belong to (a payment, a
    reversal, an acknowledgment, a submission, which also re-matches earlier rows to its claim), and the
    claims sharing a paid-twin key (subscriber, service date, charge) or a PCN (a claim billed to the
    secondary payer) with one of them."""
    cp, ak, sub, c = t.claim_payments, t.claim_acks, t.submissions, t.claims
    touched = sa.union(
        sa.select(cp.c.claim_id.label("claim_id")).where(cp.c.id > since["claim_payments"], cp.c.claim_id.is_not(None)),
        sa.select(ak.c.claim_id).where(ak.c.id > since["claim_acks"], ak.c.claim_id.is_not(None)),
        sa.select(sub.c.claim_id).where(sub.c.id > since["submissions"]),
        sa.select(c.c.id).where(c.c.id > since["claims"]),
    ).subquery("touched")  # fmt: skip
    c1, c2 = t.claims.alias("c1"), t.claims.alias("c2")
    same_key = sa.and_(c2.c.subscriber_id == c1.c.subscriber_id, c2.c.service_from == c1.c.service_from,
                       c2.c.charge_cents == c1.c.charge_cents)  # fmt: skip
    twins = (sa.select(c2.c.id).select_from(c1.join(c2, same_key))
             .where(c1.c.id.in_(sa.select(touched.c.claim_id)), c1.c.subscriber_id != ""))  # fmt: skip
    same_pcn = (sa.select(c2.c.id).select_from(c1.join(c2, c2.c.pcn == c1.c.pcn))
                .where(c1.c.id.in_(sa.select(touched.c.claim_id))))  # fmt: skip
    return sa.union(sa.select(touched.c.claim_id), twins, same_pcn).cte("stale")


def _needed(open_rows: Any, stale: Any) -> sa.CTE:
    """The open claims whose facts are computed now: all of them on a cold run, else those without stored
    facts or with stale ones."""
    ids = sa.select(open_rows.c.claim_id).where(open_rows.c.claim_id.is_not(None))
    if stale is None:
        return ids.distinct().cte("needed")
    f = claim_facts
    have = sa.exists().where(f.c.claim_id == open_rows.c.claim_id)
    return ids.where(sa.or_(~have, open_rows.c.claim_id.in_(sa.select(stale.c.claim_id)))).distinct().cte("needed")


def _facts_select(needed: Any, keep: Any) -> sa.Select[Any]:
    """One ``claim_facts`` row per needed claim (the per-claim steps materialised through ``keep``)."""
    denial_cats = [k for k, v in load_code_sets().category_defs.items() if v.kind == "denial"]
    pay = keep("pay", _payments(needed))
    last = keep("last_adj", _last_adjudication(pay))
    pt = keep("pay_totals", _pay_totals(pay))
    adj = keep("adj_cat", _categorised_adjustments(pay))
    at = keep("adj_totals", _adj_totals(adj, last, denial_cats))
    top = keep("top_denial", _top_denial(adj, last, denial_cats))
    rr = keep("last_rarcs", _rarcs(last))
    ak = keep("acks", _acks(needed))
    tw = keep("twins", _twins(needed))
    md_ = keep("modified", _modified(needed))
    cop, c, c2 = t.claim_other_payers, t.claims, t.claims.alias("c2")
    n, z = needed.c.claim_id, sa.func.coalesce

    def flag(cond: Any) -> Any:
        return sa.case((cond, 1), else_=0)

    cols: dict[str, Any] = {
        "claim_id": n,
        "payment_count": z(pt.c.payment_count, 0), "reversal_count": z(pt.c.reversal_count, 0),
        "last_is_reversal": z(pt.c.last_is_reversal, 0), "live_count": z(pt.c.live, 0),
        "paid_count": z(pt.c.paid_count, 0), "paid_control_count": z(pt.c.paid_control_count, 0),
        "paid_cents": z(pt.c.paid_cents, 0),
        "last_status": last.c.status, "last_paid_cents": last.c.paid_cents, "last_pr_cents": last.c.patient_resp_cents,
        "last_payment_date": last.c.payment_date,
        "pr_cents": z(at.c.pr, 0), "contractual_cents": z(at.c.contractual, 0), "last_denied_cents": z(at.c.last_denied, 0),
        "carcs": z(at.c.carcs, ""), "group_carcs": z(at.c.group_carcs, ""), "categories": z(at.c.categories, ""),
        "denial_category": z(top.c.category, ""), "rarcs": z(rr.c.rarcs, ""),
        "ack_count": z(ak.c.n, 0), "ack_accepts": z(ak.c.n_accept, 0), "ack_first_accept": ak.c.first_accept,
        "ack_last_date": ak.c.last_date, "ack_last_category": z(ak.c.last_category, ""),
        "ack_last_rejected": z(ak.c.last_rejected, 0),
        "twin": flag(tw.c.claim_id.is_not(None)), "modified": flag(md_.c.claim_id.is_not(None)),
        "secondary_coverage": flag(sa.exists().where(cop.c.claim_id == n, cop.c.responsibility.in_(("S", "T")))),
        "secondary_billed": flag(sa.exists().where(c2.c.pcn == c.c.pcn, c2.c.id != n, c2.c.responsibility.in_(("S", "T")))),
    }  # fmt: skip
    return (
        sa.select(*(cols[c.name].label(c.name) for c in claim_facts.c))
        .select_from(
            needed.join(c, c.c.id == n)
            .outerjoin(pt, pt.c.claim_id == n)
            .outerjoin(last, last.c.claim_id == n)
            .outerjoin(at, at.c.claim_id == n)
            .outerjoin(top, top.c.claim_id == n)
            .outerjoin(rr, rr.c.claim_id == n)
            .outerjoin(ak, ak.c.claim_id == n)
            .outerjoin(tw, tw.c.claim_id == n)
            .outerjoin(md_, md_.c.claim_id == n)
        )
    )


def _part_facts(open_rows: Any, needed: Any, new_facts: Any) -> sa.CTE:
    """The facts of every open claim: those computed now and the stored ones still fresh."""
    f = claim_facts
    kept = sa.select(*f.c).where(f.c.claim_id.in_(sa.select(open_rows.c.claim_id)),
                                 f.c.claim_id.not_in(sa.select(needed.c.claim_id)))  # fmt: skip
    return sa.union_all(sa.select(*(new_facts.c[c.name] for c in f.c)), kept).cte("facts")


# --------------------------------------------------------------------------------------------------
# The query, in named CTEs
# --------------------------------------------------------------------------------------------------
def _open_rows(snapshot_id: int, part: tuple[int, int] | None = None) -> sa.CTE:
    """The open ATB rows; ``part=(k, n)`` keeps those whose id is k modulo n (one worker's share)."""
    a = t.atb_rows.c
    cols = (a.id, a.claim_id, a.pcn, a.payer_id, a.responsibility, a.service_date, a.last_billed_date,
            a.total_charge_cents, a.insurance_payments_cents, a.patient_payments_cents, a.adjustments_cents,
            a.balance_cents)  # the ones the features read
    stmt = sa.select(*cols).where(a.snapshot_id == snapshot_id, a.balance_cents != 0)
    if part is not None:
        stmt = stmt.where(a.id % part[1] == part[0])
    return stmt.cte("open_rows")


def _payments(open_rows: sa.CTE) -> sa.CTE:
    """Every 835 claim payment of an open claim, with its check date and whether it was reversed."""
    cp, r = t.claim_payments, t.remittances
    rev = t.claim_payments.alias("rev")
    reversed_ = sa.exists().where(rev.c.reverses_id == cp.c.id)
    return (
        sa.select(
            cp.c.id, cp.c.claim_id, cp.c.status, cp.c.paid_cents, cp.c.patient_resp_cents, cp.c.is_reversal,
            cp.c.payer_claim_control, r.c.payment_date,
            sa.case((reversed_, 1), else_=0).label("reversed"),
            sa.func.row_number().over(partition_by=cp.c.claim_id,
                                      order_by=(r.c.payment_date.desc(), cp.c.id.desc())).label("rn_any"),
        )
        .select_from(cp.join(r, r.c.id == cp.c.remittance_id))
        .where(cp.c.claim_id.in_(sa.select(open_rows.c.claim_id).where(open_rows.c.claim_id.is_not(None))))
        .cte("pay")
    )  # fmt: skip


def _last_adjudication(pay: sa.CTE) -> sa.CTE:
    """The latest adjudication per claim that is neither a reversal nor reversed."""
    live = sa.select(
        pay.c.id, pay.c.claim_id, pay.c.status, pay.c.paid_cents, pay.c.patient_resp_cents, pay.c.payment_date,
        sa.func.row_number().over(partition_by=pay.c.claim_id,
                                  order_by=(pay.c.payment_date.desc(), pay.c.id.desc())).label("rn"),
    ).where(pay.c.is_reversal.is_(False), pay.c.reversed == 0).subquery("live")
    return sa.select(live).where(live.c.rn == 1).cte("last_adj")  # fmt: skip


def _pay_totals(pay: sa.CTE) -> sa.CTE:
    live_paid = (pay.c.is_reversal.is_(False)) & (pay.c.reversed == 0) & (pay.c.paid_cents > 0)
    return sa.select(
        pay.c.claim_id,
        sa.func.count().label("payment_count"),
        sa.func.sum(sa.case((pay.c.is_reversal.is_(True), 1), else_=0)).label("reversal_count"),
        sa.func.max(sa.case((pay.c.rn_any == 1, sa.case((pay.c.is_reversal.is_(True), 1), else_=0)),
                            else_=0)).label("last_is_reversal"),
        sa.func.sum(sa.case((pay.c.is_reversal.is_(False) & (pay.c.reversed == 0), 1), else_=0)).label("live"),
        sa.func.sum(sa.case((live_paid, 1), else_=0)).label("paid_count"),
        sa.func.count(sa.distinct(sa.case((live_paid, pay.c.payer_claim_control)))).label("paid_control_count"),
        sa.func.sum(pay.c.paid_cents).label("paid_cents"),
    ).group_by(pay.c.claim_id).cte("pay_totals")  # fmt: skip


def _categorised_adjustments(pay: sa.CTE) -> sa.CTE:
    """Every adjustment of those payments with its category, the most specific map row winning: a row
    naming a RARC that the same claim payment carries, then group + CARC, then the CARC alone. The map is
    unique on (group, CARC, RARC), so the two plain look-ups are joins; only the rare RARC-specific
    look-up is a correlated subquery (correlated explicitly: an implicit one lost its outer table)."""
    a, m, rk = t.adjustments, carc_map, t.remarks
    by_rarc = (
        sa.select(m.c.category)
        .select_from(rk.join(m, m.c.rarc == rk.c.code))
        .where(rk.c.claim_payment_id == a.c.claim_payment_id, m.c.carc == a.c.carc,
               sa.or_(m.c.group_code == "", m.c.group_code == a.c.group_code))
        .order_by(m.c.specificity.desc()).limit(1)
        .correlate(a).scalar_subquery()
    )  # fmt: skip
    by_group, plain = carc_map.alias("by_group"), carc_map.alias("plain")
    cat = sa.func.coalesce(by_rarc, by_group.c.category, plain.c.category, "other")
    return (
        sa.select(a.c.claim_payment_id, pay.c.claim_id, a.c.group_code, a.c.carc, a.c.amount_cents,
                  cat.label("category"))
        .select_from(
            a.join(pay, pay.c.id == a.c.claim_payment_id)
            .outerjoin(by_group, sa.and_(by_group.c.carc == a.c.carc, by_group.c.group_code == a.c.group_code,
                                         by_group.c.rarc == ""))
            .outerjoin(plain, sa.and_(plain.c.carc == a.c.carc, plain.c.group_code == "", plain.c.rarc == ""))
        )
        .cte("adj_cat")
    )  # fmt: skip


def _adj_totals(adj: sa.CTE, last: sa.CTE, denial_categories: list[str]) -> sa.CTE:
    on_last = adj.c.claim_payment_id == last.c.id
    is_denial = adj.c.category.in_(denial_categories)
    return (
        sa.select(
            adj.c.claim_id,
            sa.func.sum(sa.case((adj.c.group_code == "PR", adj.c.amount_cents), else_=0)).label("pr"),
            sa.func.sum(sa.case((adj.c.category == "contractual", adj.c.amount_cents), else_=0)).label("contractual"),
            sa.func.sum(sa.case((on_last & is_denial, adj.c.amount_cents), else_=0)).label("last_denied"),
            csv_set(sa.case((on_last, adj.c.carc))).label("carcs"),
            csv_set(sa.case((on_last, adj.c.group_code + "-" + adj.c.carc))).label("group_carcs"),
            csv_set(sa.case((on_last, adj.c.category))).label("categories"),
        )
        .select_from(adj.outerjoin(last, last.c.claim_id == adj.c.claim_id))
        .group_by(adj.c.claim_id)
        .cte("adj_totals")
    )  # fmt: skip


def _top_denial(adj: sa.CTE, last: sa.CTE, denial_categories: list[str]) -> sa.CTE:
    per = (
        sa.select(adj.c.claim_id, adj.c.category, sa.func.sum(adj.c.amount_cents).label("amt"))
        .select_from(adj.join(last, last.c.id == adj.c.claim_payment_id))
        .where(adj.c.category.in_(denial_categories))
        .group_by(adj.c.claim_id, adj.c.category)
        .subquery("per_cat")
    )
    ranked = sa.select(per.c.claim_id, per.c.category, per.c.amt, sa.func.row_number().over(
        partition_by=per.c.claim_id, order_by=(per.c.amt.desc(), per.c.category)).label("rn")).subquery("ranked")
    return sa.select(ranked.c.claim_id, ranked.c.category).where(ranked.c.rn == 1, ranked.c.amt > 0).cte("top_denial")


def _rarcs(last: sa.CTE) -> sa.CTE:
    rk = t.remarks
    return (sa.select(last.c.claim_id, csv_set(rk.c.code).label("rarcs"))
            .select_from(rk.join(last, last.c.id == rk.c.claim_payment_id)).group_by(last.c.claim_id)
            .cte("last_rarcs"))  # fmt: skip


def _acks(open_rows: sa.CTE) -> sa.CTE:
    k = t.claim_acks.c
    ranked = sa.select(
        k.claim_id, k.accepted, k.category, k.status_date,
        sa.func.row_number().over(partition_by=k.claim_id, order_by=(k.status_date.desc(), k.id.desc())).label("rn"),
    ).where(k.claim_id.in_(sa.select(open_rows.c.claim_id).where(open_rows.c.claim_id.is_not(None)))).subquery("ak")
    accepted = ranked.c.accepted.is_(True)
    return sa.select(
        ranked.c.claim_id,
        sa.func.count().label("n"),
        sa.func.sum(sa.case((accepted, 1), else_=0)).label("n_accept"),
        sa.func.min(sa.case((accepted, ranked.c.status_date))).label("first_accept"),
        sa.func.max(sa.case((ranked.c.rn == 1, ranked.c.status_date))).label("last_date"),
        sa.func.max(sa.case((ranked.c.rn == 1, ranked.c.category))).label("last_category"),
        sa.func.sum(sa.case(((ranked.c.rn == 1) & ~accepted, 1), else_=0)).label("last_rejected"),
    ).group_by(ranked.c.claim_id).cte("acks")  # fmt: skip


def _open_claim_ids(open_rows: sa.CTE) -> sa.Select[Any]:
    return sa.select(open_rows.c.claim_id).where(open_rows.c.claim_id.is_not(None))


def _twins(open_rows: sa.CTE) -> sa.CTE:
    """Open claims with a paid twin: another claim (another PCN) of the same subscriber, service date and
    charge that a live 835 paid (the ``claims(subscriber_id, service_from)`` index keeps this linear)."""
    c, c2, cp2 = t.claims, t.claims.alias("c2"), t.claim_payments.alias("cp2")
    twin = sa.exists().where(
        c2.c.id != c.c.id, c2.c.pcn != c.c.pcn, c2.c.subscriber_id == c.c.subscriber_id,
        c2.c.service_from == c.c.service_from, c2.c.charge_cents == c.c.charge_cents, c2.c.subscriber_id != "",
        sa.exists().where(cp2.c.claim_id == c2.c.id, cp2.c.paid_cents > 0, cp2.c.is_reversal.is_(False)),
    )  # fmt: skip
    return sa.select(c.c.id.label("claim_id")).where(c.c.id.in_(_open_claim_ids(open_rows)), twin).cte("twins")


def _modified(open_rows: sa.CTE) -> sa.CTE:
    """Open claims with a line carrying a distinct-procedural-service modifier (59, XE, XP, XS, XU)."""
    ln = t.claim_lines
    modifier = sa.or_(*(("," + ln.c.modifiers + ",").like(f"%,{m},%") for m in DISTINCT_MODIFIERS))
    return (sa.select(ln.c.claim_id).distinct()
            .where(ln.c.claim_id.in_(_open_claim_ids(open_rows)), ln.c.modifiers != "", modifier)
            .cte("modified"))  # fmt: skip


def _payer_sums(since: dict[str, int] | None) -> Any:
    """Per payer, the allowed and charged cents of its paid primary adjudications: the stored sums plus
    the payments posted since the marks (``since``), or all of them (``None``)."""
    cp = t.claim_payments.c
    paid = cp.status.in_(PAID_STATUSES[:1]) & cp.is_reversal.is_(False) & (cp.charge_cents > 0)
    rows = sa.select(cp.payer_id, (cp.paid_cents + cp.patient_resp_cents).label("allowed_cents"),
                     cp.charge_cents).where(paid)  # fmt: skip
    if since is not None:
        ps = payer_sums.c
        rows = sa.union_all(sa.select(ps.payer_id, ps.allowed_cents, ps.charge_cents),
                            rows.where(cp.id > since["claim_payments"]))  # fmt: skip
    u = rows.subquery("paid")
    return (sa.select(u.c.payer_id, sa.func.sum(u.c.allowed_cents).label("allowed_cents"),
                      sa.func.sum(u.c.charge_cents).label("charge_cents")).group_by(u.c.payer_id))  # fmt: skip


def _payer_ratio(sums: Any) -> sa.CTE:
    s = sums.subquery("sums")
    ratio = sa.cast(s.c.allowed_cents, sa.Float) / sa.func.nullif(s.c.charge_cents, 0)
    return sa.select(s.c.payer_id, ratio.label("ratio")).cte("payer_ratio")


def _bool(cond: Any) -> sa.ColumnElement[bool]:
    return sa.case((cond, sa.true()), else_=sa.false())


def stage_sql(name: str, cte: sa.CTE, dialect: Any) -> tuple[list[str], Any]:
    """The statements that materialise a per-claim step into an indexed temporary table, and the table
    as a selectable (see :func:`stage_table`)."""
    tmp = f"tmp_triage_{name}"
    sel = cte.element
    sql = str(sel.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    stmts = [f"DROP TABLE IF EXISTS {tmp}", f"CREATE TEMPORARY TABLE {tmp} AS {sql}"]
    keys = [c for c in ("claim_id", "id", "atb_row_id") if c in sel.selected_columns]
    stmts += [f"CREATE INDEX ix_{tmp}_{key} ON {tmp} ({key})" for key in keys]
    return stmts, sa.table(tmp, *(sa.column(c.name, c.type) for c in sel.selected_columns)).alias(name)


def stage_table(conn: sa.Connection, name: str, cte: sa.CTE) -> Any:
    """Materialise a per-claim step into an indexed temporary table (SQLite's planner scans a CTE once
    per outer row in a many-way LEFT JOIN, which is quadratic); return it as a selectable."""
    stmts, table = stage_sql(name, cte, conn.dialect)
    for stmt in stmts:
        conn.exec_driver_sql(stmt)
    return table


def features_select(snapshot_id: int, as_of: date, plan: FactsPlan | None = None, stage: Any = None,
                    part: tuple[int, int] | None = None, store: Any = None) -> sa.Select[Any]:  # fmt: skip
    """The SELECT behind ``triage_features`` (one row per open ATB row of ``snapshot_id``).

    ``plan`` (:func:`facts_plan`) says which claims' facts are computed now; without it all are, and the
    SELECT reads nothing the triage stored before. With ``stage(name, cte)`` the per-claim steps are
    materialised first (see :func:`stage_table`; the claims' new facts are then the step ``new_facts``);
    without it the whole thing is one statement of CTEs (for review and other engines). ``part=(k, n)``
    selects one worker's share of the open rows (:mod:`everyclaim.triage.parallel`).
    ``store(new_facts, stale)``, on the connection that owns the transaction, stores the new facts before
    the SELECT, which then reads them from ``triage_claim_facts`` (a connection that cannot write there
    merges them in instead).
    """
    def keep(name: str, cte: sa.CTE) -> Any:
        return stage(name, cte) if stage else cte

    since = plan.since if plan is not None else None
    o = keep("open_rows", _open_rows(snapshot_id, part))
    stale = keep("stale", _stale(since)) if since is not None else None
    needed = keep("needed", _needed(o, stale))
    new_facts = keep("new_facts", _facts_select(needed, keep).cte("new_facts"))
    if store is not None:
        store(new_facts, stale)  # the facts and the payer sums, stored
        fx: Any = claim_facts
        sums: Any = sa.select(payer_sums)
    else:
        fx = new_facts if since is None else keep("facts", _part_facts(o, needed, new_facts))
        sums = _payer_sums(since)
    ratio = _payer_ratio(sums)
    c, pp = t.claims, t.payer_profiles
    rend = t.claims.alias("rend")

    service = sa.func.coalesce(c.c.service_from, o.c.service_date)
    d_service = days_since(service, as_of)
    d_first = days_since(sa.func.coalesce(c.c.first_billed_date, o.c.last_billed_date), as_of)
    d_adj = days_since(fx.c.last_payment_date, as_of)
    denied = sa.func.coalesce(fx.c.last_denied_cents, 0) > 0
    d_denial = sa.case((denied, d_adj))
    other_paid = sa.func.coalesce(fx.c.paid_count, 0) - sa.case((fx.c.last_paid_cents > 0, 1), else_=0)
    tenure = (sa.select(rend.c.rendering_npi, sa.func.min(rend.c.service_from).label("first_service"))
              .where(rend.c.rendering_npi != "").group_by(rend.c.rendering_npi).cte("tenure"))  # fmt: skip
    contractual = sa.func.coalesce(fx.c.contractual_cents, 0)
    z = sa.func.coalesce
    cols: list[Any] = [
        o.c.id.label("atb_row_id"), o.c.claim_id, o.c.pcn, z(c.c.payer_id, o.c.payer_id).label("payer_id"),
        sa.literal(as_of, sa.Date).label("as_of"),
        o.c.balance_cents, _bool(o.c.balance_cents < 0).label("is_credit"),
        o.c.responsibility.label("atb_responsibility"), o.c.total_charge_cents.label("atb_charge_cents"),
        o.c.insurance_payments_cents.label("atb_insurance_paid_cents"),
        o.c.patient_payments_cents.label("atb_patient_paid_cents"),
        o.c.adjustments_cents.label("atb_adjustments_cents"),
        _bool(c.c.id.is_not(None)).label("matched"),
        c.c.responsibility.label("claim_responsibility"), c.c.frequency, c.c.submission_count,
        _bool(z(c.c.prior_auth, "") != "").label("has_prior_auth"),
        _bool(z(fx.c.modified, 0) > 0).label("has_distinct_modifier"),
        days_since(tenure.c.first_service, as_of).label("rendering_tenure_days"),
        _bool(z(fx.c.secondary_coverage, 0) > 0).label("has_secondary_coverage"),
        _bool(z(fx.c.secondary_billed, 0) > 0).label("secondary_billed"),
        d_service.label("days_since_service"),
        d_first.label("days_since_first_billed"),
        days_since(z(c.c.last_billed_date, o.c.last_billed_date), as_of).label("days_since_last_billed"),
        (d_service - d_first).label("days_service_to_first_billed"),
        pp.c.timely_filing_days, pp.c.appeal_days,
        (pp.c.timely_filing_days - d_service).label("days_to_filing_deadline"),
        pp.c.financial_class,
        z(fx.c.ack_count, 0).label("ack_count"),
        _bool(z(fx.c.ack_accepts, 0) > 0).label("has_ack_accept"),
        _bool(z(fx.c.ack_last_rejected, 0) > 0).label("last_ack_rejected"),
        z(fx.c.ack_last_category, "").label("last_ack_category"),
        days_since(fx.c.ack_last_date, as_of).label("days_since_last_ack"),
        (d_service - days_since(fx.c.ack_first_accept, as_of)).label("days_service_to_first_accept"),
        z(fx.c.payment_count, 0).label("payment_count"),
        z(fx.c.reversal_count, 0).label("reversal_count"),
        _bool(z(fx.c.last_is_reversal, 0) > 0).label("reversal_open"),
        _bool(z(fx.c.live_count, 0) > 0).label("has_835"),
        z(fx.c.paid_count, 0).label("paid_count"),
        z(fx.c.paid_control_count, 0).label("paid_control_count"),
        z(fx.c.paid_cents, 0).label("ledger_paid_cents"),
        z(fx.c.pr_cents, 0).label("ledger_pr_cents"),
        contractual.label("ledger_contractual_cents"),
        (contractual - o.c.adjustments_cents).label("contractual_unposted_cents"),
        _bool((other_paid > 0) | (z(fx.c.twin, 0) > 0)).label("paid_twin"),
        z(fx.c.last_status, "").label("last_status"),
        fx.c.last_paid_cents.label("last_paid_cents"),
        fx.c.last_pr_cents.label("last_pr_cents"),
        z(fx.c.last_denied_cents, 0).label("last_denied_cents"),
        z(fx.c.carcs, "").label("last_carcs"),
        z(fx.c.group_carcs, "").label("last_group_carcs"),
        z(fx.c.rarcs, "").label("last_rarcs"),
        z(fx.c.categories, "").label("last_categories"),
        z(fx.c.denial_category, "").label("denial_category"),
        d_adj.label("days_since_adjudication"),
        d_denial.label("days_since_denial"),
        (pp.c.appeal_days - d_denial).label("days_to_appeal_deadline"),
        ratio.c.ratio.label("payer_allowed_ratio"),
    ]  # fmt: skip
    return (
        sa.select(*cols)
        .select_from(
            o.outerjoin(c, c.c.id == o.c.claim_id)
            .outerjoin(pp, pp.c.payer_id == z(c.c.payer_id, o.c.payer_id))
            .outerjoin(fx, fx.c.claim_id == o.c.claim_id)
            .outerjoin(ratio, ratio.c.payer_id == z(c.c.payer_id, o.c.payer_id))
            .outerjoin(tenure, tenure.c.rendering_npi == c.c.rendering_npi)
        )
    )
