"""Stage 4 of triage: automated actions become files a billing system or clearinghouse takes.

    with engine.begin() as conn:                       # the caller owns the transaction
        result = export_actions(conn, run_id, Path("out/"), ExportOptions(today=date.today()))

Only claims the run *automated* are exported (tier ``no_opportunity`` or ``simple_fix``, rule mode
``auto``); hinted and manual claims stay with staff. Per action:

==================== ================================ =============================================
action               file                             what it holds
==================== ================================ =============================================
write_off            ``write-offs.csv``               claim, payer, amount, adjustment code, reason
transfer_to_patient  ``transfers.csv``                claim, from payer, to ``patient``, amount
rebill_corrected     ``replacements-837P/I.x12``      frequency 7 with REF*F8 (the payer's claim
                                                      control number); a claim the payer never took
                                                      (no control number) goes again as frequency 1
bill_secondary       ``secondary-837P/I.x12``         the claim to the next payer, with the primary's
                                                      adjudication in 2320/2330B and 2430
rebill_other_payer   ``other-payer-837P/I.x12``       the claim to the payer the 835 named primary
                                                      (2100 NM1*PR)
status_inquiry       ``status-276.x12``               276 claim status inquiries (005010X212)
==================== ================================ =============================================

plus ``manifest.json`` (the batch, each file's records, dollars and sha256, what was skipped and why).

Exporting is idempotent: ``action_exports`` records each exported (claim, payer, action, balance), and
an export never writes the same one twice; a batch with nothing new writes no file. A claim that
cannot be exported (not in the ledger as billed, no secondary coverage, no adjudication to report, a
write-off of a credit balance) is skipped with its reason, not guessed at.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from everyclaim.ledger import schema as t
from everyclaim.ledger.balances import from_cents
from everyclaim.ledger.rebuild import Adjudication, billed_claims, last_adjudications
from everyclaim.ledger.records import Claim, OtherPayer, Party, ServiceLine
from everyclaim.triage.engine import results, runs
from everyclaim.triage.rules import AUTOMATIC_TIERS
from everyclaim.x12.write276 import StatusInquiry, write_276
from everyclaim.x12.write837 import write_837

CSV_ACTIONS = ("write_off", "transfer_to_patient")
CLAIM_ACTIONS = {"rebill_corrected": "replacements", "bill_secondary": "secondary", "rebill_other_payer": "other-payer"}
EXPORTED = (*CSV_ACTIONS, *CLAIM_ACTIONS, "status_inquiry")
WRITE_OFF_COLUMNS = ("claim_id", "payer_id", "amount", "adjustment_code", "root_cause", "reason", "rule_id")
TRANSFER_COLUMNS = ("claim_id", "from_payer_id", "to", "amount", "root_cause", "reason", "rule_id")


@dataclass(frozen=True, slots=True)
class ExportOptions:
    today: date
    sender_id: str = "EVERYCLAIM"  # ISA06 / GS02, NM1*41 (the submitter)
    receiver_id: str = "CLEARINGHOUSE"  # ISA08 / GS03, NM1*40
    test: bool = False  # ISA15 T instead of P


@dataclass(frozen=True, slots=True)
class ExportedFile:
    name: str
    kind: str  # csv | 837P | 837I | 276
    action: str
    records: int
    cents: int
    sha256: str


@dataclass(slots=True)
class ExportResult:
    batch: int
    run_id: int
    as_of: date
    files: list[ExportedFile] = field(default_factory=list)
    already_exported: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)  # claim_id, action, reason

    @property
    def exported(self) -> int:
        return sum(f.records for f in self.files)

    def as_json(self) -> dict[str, Any]:
        return {
            "batch": self.batch, "run_id": self.run_id, "as_of": self.as_of.isoformat(), "exported": self.exported,
            "already_exported": self.already_exported,
            "files": [{"name": f.name, "kind": f.kind, "action": f.action, "records": f.records,
                       "dollars": f"{from_cents(f.cents)}", "sha256": f.sha256} for f in self.files],
            "skipped": self.skipped,
        }  # fmt: skip


def latest_run_for(conn: sa.Connection, as_of: date | None) -> tuple[int, date] | None:
    """The latest triage run (on ``as_of`` when given): ``(run id, as of)``."""
    stmt = sa.select(runs.c.id, runs.c.as_of).order_by(runs.c.id.desc()).limit(1)
    if as_of is not None:
        stmt = stmt.where(runs.c.as_of == as_of)
    row = conn.execute(stmt).first()
    return (int(row[0]), row[1]) if row else None


def _pending(run_id: int) -> sa.Select[Any]:
    """The run's automated, exportable claims not exported before (same claim, payer, action, balance)."""
    r, x = results.c, t.action_exports.c
    done = sa.exists().where(x.pcn == r.pcn, x.payer_id == r.payer_id, x.action == r.action,
                             x.balance_cents == r.balance_cents)  # fmt: skip
    return sa.select(results).where(r.run_id == run_id, r.tier.in_(AUTOMATIC_TIERS), r.mode == "auto",
                                    r.action.in_(EXPORTED), ~done)  # fmt: skip


def _count_automated(conn: sa.Connection, run_id: int) -> int:
    r = results.c
    stmt = sa.select(sa.func.count()).where(r.run_id == run_id, r.tier.in_(AUTOMATIC_TIERS), r.mode == "auto",
                                            r.action.in_(EXPORTED))  # fmt: skip
    return int(conn.execute(stmt).scalar_one())


def export_actions(conn: sa.Connection, run_id: int, out: Path, opts: ExportOptions) -> ExportResult:
    """Write the run's automated actions not exported yet into ``out`` (see the module doc). Never commits."""
    as_of = conn.execute(sa.select(runs.c.as_of).where(runs.c.id == run_id)).scalar_one()
    batch = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(t.action_exports.c.batch), 0))).scalar_one()) + 1
    res = ExportResult(batch, run_id, as_of)
    pending = _pending(run_id).subquery("pending")
    n_pending = int(conn.execute(sa.select(sa.func.count()).select_from(pending)).scalar_one())
    res.already_exported = _count_automated(conn, run_id) - n_pending
    if n_pending == 0:
        return res
    w = _Writer(conn, out, opts, res, pending)
    w.csv_files()
    w.claim_files()
    w.status_file()
    w.record()
    if res.files:
        _write_manifest(out / "manifest.json", res, opts)
    return res


class _Writer:
    def __init__(self, conn: sa.Connection, out: Path, opts: ExportOptions, res: ExportResult,
                 pending: sa.Subquery) -> None:  # fmt: skip
        self.conn, self.out, self.opts, self.res, self.p = conn, out, opts, res, pending
        self.exported: list[dict[str, Any]] = []  # action_exports rows
        self.sender = Party("41", opts.sender_id, "", "46", opts.sender_id)
        self.receiver = Party("40", opts.receiver_id, "", "46", opts.receiver_id)
        self.files = 0
        out.mkdir(parents=True, exist_ok=True)

    # -- bookkeeping --------------------------------------------------------------------------------
    def _done(self, row: Any, name: str) -> None:
        self.exported.append({"batch": self.res.batch, "run_id": self.res.run_id, "pcn": row.pcn,
                              "payer_id": row.payer_id, "action": row.action, "balance_cents": row.balance_cents,
                              "file": name})  # fmt: skip

    def _skip(self, row: Any, reason: str) -> None:
        self.res.skipped.append({"claim_id": row.pcn, "action": row.action, "reason": reason})

    def _file(self, name: str, kind: str, action: str, records: int, cents: int) -> None:
        digest = hashlib.sha256((self.out / name).read_bytes()).hexdigest()
        self.res.files.append(ExportedFile(name, kind, action, records, cents, digest))

    def _control(self) -> int:
        self.files += 1
        return (self.res.batch * 100 + self.files) % 1_000_000_000

    def record(self) -> None:
        now = datetime.now(UTC)
        if self.exported:
            self.conn.execute(sa.insert(t.action_exports), [e | {"exported_at": now} for e in self.exported])

    def _rows(self, action: str) -> list[Any]:
        p = self.p.c
        return list(self.conn.execute(sa.select(self.p).where(p.action == action).order_by(p.pcn, p.payer_id)))

    # -- CSV ----------------------------------------------------------------------------------------
    def csv_files(self) -> None:
        for action, name, columns in (("write_off", "write-offs.csv", WRITE_OFF_COLUMNS),
                                      ("transfer_to_patient", "transfers.csv", TRANSFER_COLUMNS)):  # fmt: skip
            rows, cents = [], 0
            for row in self._rows(action):
                if row.balance_cents <= 0:  # a credit balance is never written off (nor moved)
                    self._skip(row, "credit or zero balance: never written off or transferred")
                    continue
                reason = f"{row.root_cause}: triage rule {row.rule_id}"
                amount = f"{from_cents(row.balance_cents)}"
                if action == "write_off":
                    rows.append((row.pcn, row.payer_id, amount, row.adjustment_code, row.root_cause, reason, row.rule_id))
                else:
                    rows.append((row.pcn, row.payer_id, "patient", amount, row.root_cause, reason, row.rule_id))
                cents += row.balance_cents
                self._done(row, name)
            if rows:
                with (self.out / name).open("w", newline="", encoding="utf-8") as f:
                    w = csv.writer(f, lineterminator="\n")
                    w.writerow(columns)
                    w.writerows(rows)
                self._file(name, "csv", action, len(rows), cents)

    # -- 837 ----------------------------------------------------------------------------------------
    def _ledger(self, action: str) -> tuple[list[Any], dict[int, Claim], dict[int, Adjudication]]:
        rows = self._rows(action)
        ids = sa.select(self.p.c.claim_id).where(self.p.c.action == action, self.p.c.claim_id.is_not(None))
        if not rows:
            return rows, {}, {}
        return rows, billed_claims(self.conn, ids), last_adjudications(self.conn, ids)

    def claim_files(self) -> None:
        for action, stem in CLAIM_ACTIONS.items():
            rows, claims, adjudicated = self._ledger(action)
            out: dict[str, list[tuple[Any, Claim]]] = {"837P": [], "837I": []}
            for row in rows:
                claim = claims.get(row.claim_id) if row.claim_id is not None else None
                if claim is None:
                    self._skip(row, "not in the ledger as billed (no 837): nothing to rebuild")
                    continue
                made = _follow_up(action, claim, adjudicated.get(row.claim_id))
                if isinstance(made, str):
                    self._skip(row, made)
                else:
                    out[made.kind].append((row, made))
            for kind, items in out.items():
                if items:
                    self._write_837(f"{stem}-{kind}.x12", kind, action, items)

    def _write_837(self, name: str, kind: str, action: str, items: list[tuple[Any, Claim]]) -> None:
        items.sort(key=lambda it: (it[1].billing_provider.id, it[1].pcn))
        with (self.out / name).open("w", encoding="ascii", errors="replace", newline="") as f:
            write_837((c for _, c in items), f, kind=kind, sender=self.sender, receiver=self.receiver,
                      control=self._control(), date=self.opts.today, usage="T" if self.opts.test else "P",
                      line_break=True)  # fmt: skip
        for row, _ in items:
            self._done(row, name)
        self._file(name, kind, action, len(items), sum(row.balance_cents for row, _ in items))

    # -- 276 ----------------------------------------------------------------------------------------
    def status_file(self) -> None:
        rows, claims, adjudicated = self._ledger("status_inquiry")
        items: list[tuple[Any, StatusInquiry]] = []
        for row in rows:
            claim = claims.get(row.claim_id) if row.claim_id is not None else None
            if claim is None or claim.service_from is None:
                self._skip(row, "not in the ledger as billed (no 837): ask the payer by phone or portal")
                continue
            items.append((row, _inquiry(claim, adjudicated.get(row.claim_id))))
        if not items:
            return
        items.sort(key=lambda it: (it[1].payer.id, it[1].provider.id, it[1].pcn))
        name = "status-276.x12"
        with (self.out / name).open("w", encoding="ascii", errors="replace", newline="") as f:
            write_276((q for _, q in items), f, sender=self.sender, receiver=self.receiver, control=self._control(),
                      date=self.opts.today, usage="T" if self.opts.test else "P", line_break=True)  # fmt: skip
        for row, _ in items:
            self._done(row, name)
        self._file(name, "276", "status_inquiry", len(items), sum(row.balance_cents for row, _ in items))


# --------------------------------------------------------------------------------------------------
# One claim's follow-up (pure functions: records in, records out)
# --------------------------------------------------------------------------------------------------
def _follow_up(action: str, claim: Claim, adj: Adjudication | None) -> Claim | str:
    """The 837 claim for ``action``, or the reason it cannot be made."""
    if action == "rebill_corrected":
        return replacement(claim, adj)
    if action == "bill_secondary":
        return secondary(claim, adj)
    return to_priority_payer(claim, adj)


def replacement(claim: Claim, adj: Adjudication | None) -> Claim:
    """Frequency 7 with the payer's claim control number (REF*F8); frequency 1 when the payer has none
    (a claim rejected up front or never received is sent again as an original)."""
    control = (adj.payer_claim_control if adj else "") or claim.payer_claim_control
    return replace(claim, frequency="7" if control else "1", payer_claim_control=control)


def secondary(claim: Claim, adj: Adjudication | None) -> Claim | str:
    """The claim to the next payer (2320 of the 837), with the primary's adjudication in 2320/2330B/2430."""
    nxt = next((o for o in claim.other_payers if o.responsibility in ("S", "T")), None)
    if nxt is None:
        return "no secondary coverage on the claim (2320): cannot name the next payer"
    if adj is None:
        return "no adjudication by the primary payer to report"
    subscriber = replace(claim.subscriber, id=nxt.subscriber.id if nxt.subscriber and nxt.subscriber.id
                         else claim.subscriber.id)  # fmt: skip
    primary = OtherPayer(
        responsibility=claim.responsibility or "P", payer=claim.payer, subscriber=claim.subscriber, paid=adj.paid,
        adjudication_date=adj.payment_date, adjustments=adj.adjustments, claim_filing=claim.claim_filing,
    )  # fmt: skip
    return replace(claim, payer=nxt.payer, responsibility=nxt.responsibility, subscriber=subscriber,
                   claim_filing=nxt.claim_filing or claim.claim_filing, frequency="1", payer_claim_control="",
                   other_payers=(primary,), lines=_with_line_adjudication(claim, adj))  # fmt: skip


def _with_line_adjudication(claim: Claim, adj: Adjudication) -> tuple[ServiceLine, ...]:
    """Each billed line with the primary's 2430 (matched by line control number, else by position)."""
    by_control = {la.line_control: la for la in adj.lines if la.line_control}
    out = []
    for i, ln in enumerate(claim.lines):
        la = by_control.get(ln.line_control) if ln.line_control else None
        if la is None and i < len(adj.lines) and not adj.lines[i].line_control:
            la = adj.lines[i]
        out.append(replace(ln, other_payer_paid=((claim.payer.id, la.paid, la.adjustments),)) if la else ln)
    return tuple(out)


def to_priority_payer(claim: Claim, adj: Adjudication | None) -> Claim | str:
    """The claim as an original to the payer the 835 says is primary (2100 NM1*PR)."""
    if adj is None or adj.priority_payer is None:
        return "the 835 names no primary payer (NM1*PR): find the right payer first"
    return replace(claim, payer=adj.priority_payer, responsibility="P", frequency="1", payer_claim_control="",
                   other_payers=())  # fmt: skip


def _inquiry(claim: Claim, adj: Adjudication | None) -> StatusInquiry:
    assert claim.service_from is not None
    control = (adj.payer_claim_control if adj else "") or claim.payer_claim_control
    bill_type = claim.place_of_service + (claim.frequency or "1") if claim.kind == "837I" else ""
    return StatusInquiry(
        trace=claim.pcn, payer=claim.payer, provider=claim.billing_provider, subscriber=claim.subscriber,
        pcn=claim.pcn, charge=claim.charge, service_from=claim.service_from, service_to=claim.service_to,
        patient=claim.patient, payer_claim_control=control, bill_type=bill_type,
    )  # fmt: skip


def _write_manifest(path: Path, res: ExportResult, opts: ExportOptions) -> None:
    doc = res.as_json() | {"created": opts.today.isoformat(), "sender_id": opts.sender_id,
                           "receiver_id": opts.receiver_id, "usage": "T" if opts.test else "P"}  # fmt: skip
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")

