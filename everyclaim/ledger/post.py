"""Posting: one file's records into the ledger, set-based, inside the caller's transaction.

The pipeline of :func:`post_file` (each file is its own transaction, owned by the caller)::

    file row -> stream records in batches (multi-row inserts, RETURNING ids in order)
             -> match in SQL (match.py) -> store findings -> counts on the file row

* A file whose problems include an ``error`` (structural corruption) is *rejected whole*: only the
  file row (status ``rejected``) and its findings are stored; nothing from it is posted. Errors that
  the reader reports while it streams roll the posted part back through a SAVEPOINT.
* A file already accepted (same sha256) changes nothing: ``PostResult.duplicate``.
* An 835 transaction already posted from any file (same ``txn_hash``: payer id, TRN02, BPR02, BPR16
  and the claim list) is skipped and counted in ``skipped_transactions``.
* Business mismatches (unbalanced CLP / SVC, BPR vs CLP04 less PLB, ATB row arithmetic) are
  findings with the segment index (CSV line) and a stable id; they never reject the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from everyclaim.ledger import match
from everyclaim.ledger import schema as t
from everyclaim.ledger.balances import from_cents, to_cents
from everyclaim.ledger.db import (
    allocate_ids,
    bulk_insert,
    insert_batches,
    insert_tuples,
    native_connection,
    native_page,
)
from everyclaim.ledger.records import (
    AtbRow,
    Claim,
    ClaimAck,
    ClaimPayment,
    Party,
    PayerProfile,
    Problem,
    ProviderAdjustment,
    Remittance,
    Source,
    TransactionAck,
)

try:  # the optional compiled row builder (setup.py); without it, or with EVERYCLAIM_PURE=1, Python builds them
    from everyclaim.ledger import _rows  # type: ignore[attr-defined]

    _rows.setup(Decimal)
except ImportError:
    _rows = None

PURE_ENV = "EVERYCLAIM_PURE"


def _native_rows() -> bool:
    return _rows is not None and os.environ.get(PURE_ENV, "") in ("", "0")


BATCH = 5000
# 835 claim payments per flush: memory holds at most a few pages, whatever the file size. Small pages keep
# a page's records and rows in the CPU's cache while they are built and written (read + post of the
# 100k-claim bench: 3.1-3.4 s wall with 256, 3.6-4.1 s with 2,048)
PAGE = 256
# PostgreSQL: ids drawn from a table's sequence at a time (one round trip, while the writer waits)
ID_BLOCKS = {"claim_payments": 8192, "line_payments": 16384}


@dataclass(frozen=True, slots=True)
class FileMeta:
    """What the ingest knows about a file before reading it."""

    sha256: str
    name: str = ""
    kind: str = ""  # 837P, 837I, 835, 277CA, 999, atb, payers ...
    size: int = 0


@dataclass(slots=True)
class PostResult:
    """What one :func:`post_file` did. ``duplicate`` = the file was already ingested (nothing done)."""

    file_id: int | None = None
    status: str = "accepted"  # accepted | rejected | duplicate
    duplicate: bool = False
    transactions: int = 0  # 835 transactions posted
    skipped_transactions: int = 0  # 835 transactions already in the ledger
    claims: int = 0  # 837 claims (submissions) posted
    payments: int = 0  # 835 claim payments
    lines: int = 0  # 837 + 835 service lines
    adjustments: int = 0
    provider_adjustments: int = 0
    claim_acks: int = 0
    transaction_acks: int = 0
    atb_rows: int = 0
    payer_profiles: int = 0
    findings: int = 0
    unmatched: int = 0  # this file's claim payments not matched to a billed claim
    problems: list[Problem] = field(default_factory=list)  # business findings found while posting
    kinds: set[str] = field(default_factory=set)  # what the file held: 837P, 837I, 835, 277CA, 999 ...

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if isinstance(v, int) and not isinstance(v, bool)}


def already_ingested(conn: sa.Connection, sha256: str) -> bool:
    """True when a file with this sha256 was accepted before (a rejected file may be retried)."""
    stmt = sa.select(t.files.c.id).where(t.files.c.sha256 == sha256, t.files.c.status == "accepted")
    return conn.execute(stmt).first() is not None


def post_file(
    conn: sa.Connection, meta: FileMeta, records: Iterable[object], findings: list[Problem]
) -> PostResult:
    """Post one file's ``records`` (in file order) with the reader's ``findings``; see the module doc.

    ``findings`` may grow while ``records`` is consumed (a streaming reader); it is read again after.
    The caller owns the transaction (``with engine.begin() as conn``); this never commits.
    """
    if already_ingested(conn, meta.sha256):
        return PostResult(status="duplicate", duplicate=True)
    conn.execute(sa.delete(t.files).where(t.files.c.sha256 == meta.sha256))  # an earlier rejection
    file_id = _insert_file(conn, meta)
    result = PostResult(file_id=file_id)
    if not _has_errors(findings):
        savepoint = conn.begin_nested()
        _Poster(conn, file_id, meta.sha256, result).run(records)
        if _has_errors(findings):
            savepoint.rollback()
            result = PostResult(file_id=file_id)
        else:
            savepoint.commit()
    if _has_errors(findings):
        result.status = "rejected"
    result.findings = store_findings(conn, file_id, meta.sha256, [*findings, *result.problems])
    if result.status == "accepted":
        match.attach_findings(conn, file_id)
    values = {"status": result.status, "counts": json.dumps(result.counts(), sort_keys=True)}
    conn.execute(sa.update(t.files).where(t.files.c.id == file_id).values(**values))
    return result


def record_rejection(conn: sa.Connection, meta: FileMeta, problem: Problem | list[Problem]) -> PostResult:
    """Record that a file was rejected whole: the file row (``rejected``) and its located error(s)."""
    problems = problem if isinstance(problem, list) else [problem]
    if already_ingested(conn, meta.sha256):
        return PostResult(status="duplicate", duplicate=True)
    conn.execute(sa.delete(t.files).where(t.files.c.sha256 == meta.sha256))
    file_id = _insert_file(conn, meta)
    result = PostResult(file_id=file_id, status="rejected")
    result.findings = store_findings(conn, file_id, meta.sha256, problems)
    values = {"status": "rejected", "counts": json.dumps(result.counts(), sort_keys=True)}
    conn.execute(sa.update(t.files).where(t.files.c.id == file_id).values(**values))
    return result


def _has_errors(findings: list[Problem]) -> bool:
    return any(p.severity == "error" for p in findings)


def _insert_file(conn: sa.Connection, meta: FileMeta) -> int:
    row = dict(sha256=meta.sha256, name=meta.name, kind=meta.kind, size=meta.size, status="accepted")
    stmt = sa.insert(t.files).values(ingested_at=datetime.now(UTC), **row).returning(t.files.c.id)
    return int(conn.execute(stmt).scalar_one())


def stable_id(code: str, file_sha256: str, seg_index: int, element: int, extra: str = "") -> str:
    """A finding's stable id: the same problem at the same place always gets the same id."""
    key = f"{code}|{file_sha256}|{seg_index}|{element}|{extra}"
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def store_findings(conn: sa.Connection, file_id: int, sha256: str, problems: list[Problem]) -> int:
    """Insert located findings (deduplicated by stable id); returns how many were stored."""
    now, rows, seen = datetime.now(UTC), [], set()
    for p in problems:
        sid = stable_id(p.code, sha256, p.seg_index, p.element, p.control if not p.seg_index else "")
        if sid in seen:
            continue
        seen.add(sid)
        rows.append(
            dict(stable_id=sid, code=p.code, severity=p.severity, message=p.message, file_id=file_id,
                 seg_index=p.seg_index, seg_id=p.seg_id, element=p.element, ack_code=p.ack_code,
                 control=p.control, created_at=now)
        )
    bulk_insert(conn, t.findings, rows)
    return len(rows)


def _chunks(rows: list[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def insert_with_ids(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]],
                    ids: list[int] | None = None) -> list[int]:
    """Multi-row insert of ``rows`` with reserved ids (``ids``, or drawn now); the ids, in row order."""
    ids = allocate_ids(conn, table, len(rows)) if ids is None else ids
    for row, id_ in zip(rows, ids, strict=True):
        row["id"] = id_
    bulk_insert(conn, table, rows)
    return ids


def _src(s: Source, file_id: int) -> dict[str, Any]:
    return dict(file_id=file_id, isa13=s.isa13, gs06=s.gs06, st02=s.st02, seg_index=s.seg_index)


def _id(p: Party | None) -> str:
    return p.id if p else ""


def _finding(code: str, message: str, s: Source, seg_id: str, seg_index: int = 0) -> Problem:
    return Problem(code, "finding", message, s.file_name, seg_index or s.seg_index, seg_id,
                   control=f"{s.isa13}/{s.gs06}/{s.st02}")


class _Poster:
    """Streams one file's records into batches and flushes them with multi-row inserts."""

    def __init__(self, conn: sa.Connection, file_id: int, sha256: str, result: PostResult) -> None:
        self.conn, self.file_id, self.sha256, self.result = conn, file_id, sha256, result
        self.claims: list[Claim] = []
        self.payments: list[ClaimPayment] = []  # of the open 835 transaction, flushed every PAGE
        self.txn: _Transaction | None = None  # the open 835 transaction
        self.seen_txn: set[str] = set()
        self.acks: list[dict[str, Any]] = []
        self.txn_acks: list[dict[str, Any]] = []
        self.atb: list[dict[str, Any]] = []
        self.snapshots: dict[date, int] = {}
        self.profiles: dict[str, dict[str, Any]] = {}
        # the 835 database work runs in order on a second thread on SQLite with the compiled rows (see
        # _Writer); on PostgreSQL the server does the inserts in its own process, and a second client
        # thread measured no faster (16.5-17.0 s against 16.0-16.7 s for the 100k-claim file)
        self.writer = _Writer(threaded=_native_rows() and conn.dialect.name == "sqlite")
        self.next_id: dict[str, int] = {}  # SQLite: the next free id per table, counted in memory
        self.id_pool: dict[str, list[int]] = {}  # PostgreSQL: ids drawn from the sequence ahead
        self.id_block: dict[str, int] = {}  # PostgreSQL: the last block drawn per table
        self.native: Any = None  # the compiled insert's handle on the connection (False: not available)

    def run(self, records: Iterable[object]) -> None:
        try:
            self._run(records)
        except BaseException:
            self.writer.cancel()
            raise

    def _run(self, records: Iterable[object]) -> None:
        part = self._part_of_remittance
        for rec in records:
            if type(rec) is ClaimPayment or isinstance(rec, ClaimPayment | ProviderAdjustment):
                part(rec)
                continue
            self._end_transaction()
            if isinstance(rec, Remittance):
                self._begin_transaction(rec)
                continue
            self.writer.wait()  # the rest posts on this thread
            if isinstance(rec, Claim):
                self.claims.append(rec)
                if len(self.claims) >= BATCH:
                    self._flush_claims()
            else:
                self._other(rec)
        self._end_transaction()
        self.writer.wait()
        self._flush_all()
        match.match_file(self.conn, self.file_id)
        self.result.unmatched = match.unmatched_count(self.conn, self.file_id)

    def _other(self, rec: object) -> None:
        if isinstance(rec, ClaimAck):
            self.acks.append(_ack_row(rec, self.file_id))
            self.result.kinds.add("277CA")
        elif isinstance(rec, TransactionAck):
            self.txn_acks.append(_txn_ack_row(rec, self.file_id))
            self.result.kinds.add("999")
        elif isinstance(rec, AtbRow):
            self._atb(rec)
        elif isinstance(rec, PayerProfile):
            self.profiles[rec.payer_id] = _profile_row(rec, self.file_id)
        else:
            raise TypeError(f"cannot post a {type(rec).__name__}")
        if max(len(self.acks), len(self.txn_acks), len(self.atb)) >= BATCH:
            self._flush_small()

    def _flush_all(self) -> None:
        self._flush_claims()
        self._flush_small()
        rows = list(self.profiles.values())
        bulk_insert(self.conn, t.payer_profiles, rows, on_conflict=["payer_id"])
        self.result.payer_profiles += len(rows)
        self.profiles.clear()

    def _flush_small(self) -> None:
        for table, rows, counter in (
            (t.claim_acks, self.acks, "claim_acks"),
            (t.transaction_acks, self.txn_acks, "transaction_acks"),
            (t.atb_rows, self.atb, "atb_rows"),
        ):
            bulk_insert(self.conn, table, rows)
            setattr(self.result, counter, getattr(self.result, counter) + len(rows))
            rows.clear()

    # ---------------------------------------------------------------------------------- 835
    # An 835 transaction streams: its remittance row is inserted when it starts (under a provisional
    # txn_hash) inside a SAVEPOINT, its claim payments go to the database every PAGE claims, and its
    # identity (txn_hash, over the whole claim list) is known only at its end. Then it is either kept
    # (the hash is set, its counts and findings are added) or, when the same transaction was already
    # posted, rolled back to the savepoint. Memory holds at most PAGE claims, whatever the file size.
    # On SQLite each step that touches the database (begin, page, end) is a job for the writer thread,
    # run in order; this thread only reads and builds rows, with the ids counted in memory.
    def _begin_transaction(self, remit: Remittance) -> None:
        row = _remit_row(remit, f"pending:{self.file_id}:{remit.source.seg_index}", self.file_id)
        row["id"] = rid = self._ids(t.remittances, 1)[0]
        self.txn = txn = _Transaction(remit, rid)
        self.writer.submit(self._begin_job, txn, row)

    def _begin_job(self, txn: _Transaction, row: dict[str, Any]) -> None:
        txn.savepoint = self.conn.begin_nested()
        bulk_insert(self.conn, t.remittances, [row])

    def _part_of_remittance(self, rec: ClaimPayment | ProviderAdjustment) -> None:
        txn = self.txn
        if txn is None or (rec.source is not txn.source and txn.key != rec.source.transaction_key):
            raise ValueError(f"segment {rec.source.seg_index}: a remittance part outside its transaction")
        txn.source = rec.source  # the claims of a transaction share their Source: the next check is identity
        if type(rec) is ProviderAdjustment:
            txn.plbs.append(rec)
            return
        self.payments.append(rec)  # its part of the identity and of the paid total are added by page
        if len(self.payments) >= PAGE:
            self._flush_payments()

    def _end_transaction(self) -> None:
        txn = self.txn
        if txn is None:
            return
        self._flush_payments()
        self.txn = None
        self.writer.submit(self._end_job, txn, txn.hash.hexdigest())

    def _end_job(self, txn: _Transaction, digest: str) -> None:
        """The transaction's end, after its pages: kept (hash, PLBs, counts) or rolled back as a repeat."""
        assert txn.savepoint is not None
        remit = txn.remit
        if digest in self.seen_txn or match.remittance_exists(self.conn, digest):
            txn.savepoint.rollback()
            self.result.skipped_transactions += 1
            return
        self.seen_txn.add(digest)
        rem = t.remittances
        self.conn.execute(sa.update(rem).where(rem.c.id == txn.rid).values(txn_hash=digest))
        if txn.plbs:
            rows = [_plb_row(p, txn.rid, self.file_id) for p in txn.plbs]
            bulk_insert(self.conn, t.provider_adjustments, rows)
        expected = txn.paid_cents - sum(to_cents(p.amount) for p in txn.plbs)
        if to_cents(remit.amount) != expected:
            msg = f"BPR02 {remit.amount} differs from the sum of CLP04 less PLB ({from_cents(expected)})"
            txn.problems.append(_finding(match.BPR_MISMATCH, msg, remit.source, "BPR"))
        txn.savepoint.commit()
        r, n = self.result, txn.counts
        r.kinds.add("835")
        r.transactions += 1
        r.provider_adjustments += len(txn.plbs)
        r.payments, r.lines, r.adjustments = r.payments + n[0], r.lines + n[1], r.adjustments + n[2]
        r.problems += txn.problems

    def _flush_payments(self) -> None:
        txn = self.txn
        if not self.payments or txn is None:
            return
        batch, self.payments = self.payments, []
        payer = txn.remit.payer.id
        if _native_rows():
            self._flush_payments_native(txn, batch, payer)
            return
        txn.hash.update(b"".join(map(_claim_key, batch)))
        txn.paid_cents += sum(to_cents(cp.paid) for cp in batch)
        rows = [_payment_row(cp, txn.rid, payer, self.file_id) for cp in batch]
        # the ids of _ids, as the compiled path draws them, so both leave the same tables
        ids = insert_with_ids(self.conn, t.claim_payments, rows, self._ids(t.claim_payments, len(rows)))
        lines = [_line_payment_row(sp, cp_id) for cp_id, cp in zip(ids, batch, strict=True) for sp in cp.lines]
        line_ids = iter(insert_with_ids(self.conn, t.line_payments, lines, self._ids(t.line_payments, len(lines)))
                        if lines else ())
        adjs: list[tuple[Any, ...]] = []
        rems: list[tuple[Any, ...]] = []
        for cp_id, cp in zip(ids, batch, strict=True):
            # each amount is converted to cents once: for its row and for the balance checks
            claim_adjs = [(cp_id, None, "claim", a.group, a.carc, to_cents(a.amount), a.quantity) for a in cp.adjustments]
            adjs += claim_adjs
            rems += [(cp_id, None, r.qualifier, r.code) for r in cp.remarks]
            cas = sum(a[5] for a in claim_adjs)
            for sp in cp.lines:
                lp_id = next(line_ids)
                line_adjs = [(cp_id, lp_id, "line", a.group, a.carc, to_cents(a.amount), a.quantity)
                             for a in sp.adjustments]
                adjs += line_adjs
                rems += [(cp_id, lp_id, r.qualifier, r.code) for r in sp.remarks]
                line_cas = sum(a[5] for a in line_adjs)
                cas += line_cas
                if to_cents(sp.charge) - to_cents(sp.paid) != line_cas:
                    txn.problems.append(_line_unbalanced(cp, sp, line_cas))
            if to_cents(cp.charge) - to_cents(cp.paid) != cas:
                txn.problems.append(_claim_unbalanced(cp, cas))
        insert_tuples(self.conn, t.adjustments, ADJUSTMENT_COLS, adjs)
        insert_tuples(self.conn, t.remarks, REMARK_COLS, rems)
        n = txn.counts
        n[0], n[1], n[2] = n[0] + len(ids), n[1] + len(lines), n[2] + len(adjs)

    def _flush_payments_native(self, txn: _Transaction, batch: list[ClaimPayment], payer: str) -> None:
        """:meth:`_flush_payments` with the rows built by the compiled ``_rows`` (the same rows, the same
        findings; tests/test_ledger_native.py)."""
        conn = self.conn
        bound = conn.dialect.name == "sqlite"  # the rows come in SQLite's bound forms (see db.insert_tuples)
        ids = self._ids(t.claim_payments, len(batch))  # before the rows: PostgreSQL draws them inline
        line_ids = self._ids(t.line_payments, sum(len(cp.lines) for cp in batch))
        pays, lines, adjs, rems, bad, keys, paid = _rows.rows_835(batch, ids, line_ids, txn.rid, payer, self.file_id,
                                                                  to_cents, bound)
        txn.hash.update(keys.encode())
        txn.paid_cents += paid
        for i, j, cas in bad:
            cp = batch[i]
            txn.problems.append(_claim_unbalanced(cp, cas) if j < 0 else _line_unbalanced(cp, cp.lines[j], cas))
        batches = [(t.claim_payments, PAYMENT_COLS, pays), (t.line_payments, LINE_COLS, lines),
                   (t.adjustments, ADJUSTMENT_COLS, adjs), (t.remarks, REMARK_COLS, rems)]
        if bound and self.native is None:
            self.writer.wait()
            self.native = native_connection(conn) or False
        if self.native:  # the values are read here; the writer thread only inserts, without the GIL
            self.writer.submit(native_page(batches).insert, self.native)
        else:
            self.writer.submit(insert_batches, conn, batches, bound)
        n = txn.counts
        n[0], n[1], n[2] = n[0] + len(ids), n[1] + len(lines), n[2] + len(adjs)

    def _ids(self, table: sa.Table, n: int) -> list[int]:
        """``n`` new ids of ``table`` while the writer may be busy: on SQLite counted on from ``max(id)``,
        read once per file (whose transaction holds the write lock from its first insert; the ids of a
        repeated transaction rolled back stay unused); on PostgreSQL drawn from the sequence in blocks that
        double from what the first page needs up to ID_BLOCKS (those a file leaves unused are gaps, as
        sequences have)."""
        if self.conn.dialect.name != "sqlite":
            pool = self.id_pool.setdefault(table.name, [])
            if len(pool) < n:  # the sequence is drawn on this thread: only while the writer is idle
                self.writer.wait()
                # blocks double from what is needed up to the table's cap: a small file draws what it uses
                block = self.id_block[table.name] = min(ID_BLOCKS.get(table.name, 1),
                                                        max(n, 2 * self.id_block.get(table.name, 0)))
                pool += allocate_ids(self.conn, table, max(n - len(pool), block))
            ids, self.id_pool[table.name] = pool[:n], pool[n:]
            return ids
        start = self.next_id.get(table.name)
        if start is None:
            self.writer.wait()
            start = allocate_ids(self.conn, table, 1)[0]
        self.next_id[table.name] = start + n
        return list(range(start, start + n))

    # ---------------------------------------------------------------------------------- 837
    def _flush_claims(self) -> None:
        if not self.claims:
            return
        batch, self.claims = self.claims, []
        latest: dict[tuple[str, str], Claim] = {}
        times: dict[tuple[str, str], int] = {}
        for c in batch:
            key = (c.pcn, c.payer.id)
            latest[key], times[key] = c, times.get(key, 0) + 1
        rows = [_claim_row(c, self.file_id, times[k]) for k, c in latest.items()]
        bulk_insert(self.conn, t.claims, rows, on_conflict=["pcn", "payer_id"], updates=CLAIM_UPDATES)
        found = match.claim_ids(self.conn, list(latest))
        ids = {k: cid for k, (cid, _) in found.items()}
        resubmitted = [cid for k, (cid, n) in found.items() if n > times[k]]
        for table in (t.claim_lines, t.claim_other_payers):
            match.delete_children(self.conn, table, resubmitted)
        lines = [_claim_line_row(ln, ids[k]) for k, c in latest.items() for ln in c.lines]
        others = [_other_payer_row(o, ids[k]) for k, c in latest.items() for o in c.other_payers]
        subs = [_submission_row(c, ids[(c.pcn, c.payer.id)], self.file_id) for c in batch]
        for table, rows_ in ((t.claim_lines, lines), (t.claim_other_payers, others), (t.submissions, subs)):
            bulk_insert(self.conn, table, rows_)
        self.result.claims += len(batch)
        self.result.kinds.update(c.kind for c in batch)
        self.result.lines += len(lines)

    # ---------------------------------------------------------------------------------- CSV
    def _atb(self, rec: AtbRow) -> None:
        snap = self.snapshots.get(rec.as_of)
        if snap is None:
            row = dict(as_of=rec.as_of, file_id=self.file_id)
            snap = self.snapshots[rec.as_of] = insert_with_ids(self.conn, t.atb_snapshots, [row])[0]
        self.atb.append(_atb_row(rec, snap))
        expected = rec.total_charge - rec.insurance_payments - rec.patient_payments - rec.adjustments
        if rec.balance != expected:
            msg = f"ATB claim {rec.claim_id}: balance {rec.balance} but charge - payments - adjustments = {expected}"
            self.result.problems.append(_finding(match.ATB_UNBALANCED, msg, rec.source, ""))


class _Writer:
    """The 835 database work of one file, in order, on a second thread (``threaded``) or inline.

    SQLite does its work without the GIL (``_sqlite.Page.insert``), so the next page is read and built while
    the last one is written: two cores. At most two jobs wait; the first error stops the rest and is
    raised to the reader at its next :meth:`submit` or :meth:`wait`. The connection is the reader's
    again only after :meth:`wait`.
    """

    def __init__(self, threaded: bool) -> None:
        self.threaded = threaded
        self.jobs: queue.Queue[tuple[Any, tuple[Any, ...]] | None] = queue.Queue(maxsize=2)
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.cancelled = False

    def submit(self, fn: Any, *args: Any) -> None:
        if not self.threaded:
            fn(*args)
            return
        self._raise()
        if self.thread is None:
            self.thread = threading.Thread(target=self._loop, name="everyclaim-post", daemon=True)
            self.thread.start()
        self.jobs.put((fn, args))

    def _loop(self) -> None:
        while (job := self.jobs.get()) is not None:
            if self.error is None and not self.cancelled:
                try:
                    job[0](*job[1])
                except BaseException as exc:  # noqa: BLE001 - handed to the reader's thread
                    self.error = exc

    def wait(self) -> None:
        """Every job done; the connection is the caller's again."""
        if self.thread is not None:
            self.jobs.put(None)
            self.thread.join()
            self.thread = None
        self._raise()

    def cancel(self) -> None:
        """The reader failed: the jobs not yet started are dropped (the caller rolls the file back)."""
        self.cancelled = True
        try:
            self.wait()
        except BaseException:  # noqa: BLE001 - the reader's own error is the one to raise
            pass

    def _raise(self) -> None:
        if self.error is not None:
            exc, self.error = self.error, None
            raise exc


class _Transaction:
    """The open 835 transaction while its claims stream (see ``_Poster._begin_transaction``)."""

    __slots__ = ("remit", "rid", "key", "source", "savepoint", "hash", "paid_cents", "plbs", "problems", "counts")

    def __init__(self, remit: Remittance, rid: int) -> None:
        self.remit, self.rid = remit, rid
        self.key, self.source = remit.source.transaction_key, remit.source
        self.savepoint: sa.NestedTransaction | None = None  # opened by the writer (_begin_job)
        self.hash = _txn_hasher(remit)
        self.paid_cents = 0
        self.plbs: list[ProviderAdjustment] = []
        self.problems: list[Problem] = []
        self.counts = [0, 0, 0]  # payments, lines, adjustments


def _txn_hasher(remit: Remittance) -> Any:
    head = [remit.payer.id, remit.payer.name, remit.trace_number, str(remit.amount), str(remit.payment_date)]
    return hashlib.sha256("|".join(head).encode())


def _claim_key(c: ClaimPayment) -> bytes:
    return f"|{c.pcn}:{c.status}:{c.charge}:{c.paid}:{c.payer_claim_control}".encode()


def txn_hash(remit: Remittance, cps: list[ClaimPayment]) -> str:
    """Identity of an 835 transaction: payer id, TRN02, BPR02, BPR16 and its claim list (streamed the
    same way by the poster: the head, then ``|claim`` per claim)."""
    h = _txn_hasher(remit)
    for c in cps:
        h.update(_claim_key(c))
    return h.hexdigest()


# A resubmission updates the claim from its latest submission, but keeps when it was first billed.
CLAIM_UPDATES = {
    "first_billed_date": "coalesce(claims.first_billed_date, excluded.first_billed_date)",
    "submission_count": "claims.submission_count + excluded.submission_count",
}


def _claim_row(c: Claim, file_id: int, times: int) -> dict[str, Any]:
    patient = c.patient or c.subscriber
    billed = c.submitted or datetime.now(UTC).date()
    return dict(
        pcn=c.pcn, payer_id=c.payer.id, payer_name=c.payer.name, kind=c.kind, charge_cents=to_cents(c.charge),
        pos=c.place_of_service, facility_qualifier=c.facility_qualifier, frequency=c.frequency,
        billing_npi=c.billing_provider.id, billing_name=c.billing_provider.name,
        rendering_npi=_id(c.rendering_provider), rendering_last=c.rendering_provider.name if c.rendering_provider else "",
        rendering_first=c.rendering_provider.first if c.rendering_provider else "", subscriber_id=c.subscriber.id,
        subscriber_last=c.subscriber.name, subscriber_first=c.subscriber.first, patient_last=patient.name,
        patient_first=patient.first, responsibility=c.responsibility, claim_filing=c.claim_filing,
        service_from=c.service_from, service_to=c.service_to, prior_auth=c.prior_auth, referral=c.referral,
        payer_claim_control=c.payer_claim_control, diagnoses=",".join(c.diagnoses),
        first_billed_date=billed, last_billed_date=billed, submission_count=times, **_src(c.source, file_id),
    )


def _claim_line_row(ln: Any, claim_id: int) -> dict[str, Any]:
    return dict(
        claim_id=claim_id, line_no=ln.line_no, procedure_qualifier=ln.procedure_qualifier,
        procedure=ln.procedure, modifiers=",".join(ln.modifiers), charge_cents=to_cents(ln.charge),
        units=ln.units, unit_basis=ln.unit_basis, service_date=ln.service_date,
        service_date_end=ln.service_date_end, revenue_code=ln.revenue_code, line_control=ln.line_control,
        seg_index=ln.seg_index,
    )


def _other_payer_row(o: Any, claim_id: int) -> dict[str, Any]:
    adjs = ";".join(f"{a.group}-{a.carc}:{a.amount}" for a in o.adjustments)
    return dict(
        claim_id=claim_id, responsibility=o.responsibility, payer_id=o.payer.id, payer_name=o.payer.name,
        subscriber_id=_id(o.subscriber), paid_cents=to_cents(o.paid), adjudication_date=o.adjudication_date,
        claim_filing=o.claim_filing, adjustments=adjs,
    )


def _submission_row(c: Claim, claim_id: int, file_id: int) -> dict[str, Any]:
    return dict(
        claim_id=claim_id, frequency=c.frequency, charge_cents=to_cents(c.charge), submitted_date=c.submitted,
        payer_claim_control=c.payer_claim_control, **_src(c.source, file_id),
    )


def _remit_row(r: Remittance, digest: str, file_id: int) -> dict[str, Any]:
    return dict(
        txn_hash=digest, handling=r.handling, amount_cents=to_cents(r.amount), credit_debit=r.credit_debit,
        method=r.method, payment_date=r.payment_date, trace_number=r.trace_number,
        payer_trn_id=r.payer_trn_id, payer_id=r.payer.id, payer_name=r.payer.name, payee_id=r.payee.id,
        payee_name=r.payee.name, production_date=r.production_date, **_src(r.source, file_id),
    )


def _payment_row(cp: ClaimPayment, rid: int, payer_id: str, file_id: int) -> dict[str, Any]:
    patient = cp.patient or cp.insured
    return dict(
        remittance_id=rid, claim_id=None, pcn=cp.pcn, payer_id=payer_id, status=cp.status,
        charge_cents=to_cents(cp.charge), paid_cents=to_cents(cp.paid),
        patient_resp_cents=to_cents(cp.patient_responsibility), coverage_cents=to_cents(cp.coverage_amount),
        claim_filing=cp.claim_filing, payer_claim_control=cp.payer_claim_control,
        facility_code=cp.facility_code, frequency=cp.frequency, drg=cp.drg,
        patient_last=patient.name if patient else "", patient_first=patient.first if patient else "",
        insured_id=_id(cp.insured), statement_from=cp.statement_from, statement_to=cp.statement_to,
        received_date=cp.received_date, is_reversal=cp.status == "22", denied=cp.status == "4", reverses_id=None,
        priority_payer_id=_id(cp.corrected_priority_payer),
        priority_payer_name=cp.corrected_priority_payer.name if cp.corrected_priority_payer else "",
        **_src(cp.source, file_id),
    )


def _line_payment_row(sp: Any, cp_id: int) -> dict[str, Any]:
    return dict(
        claim_payment_id=cp_id, procedure_qualifier=sp.procedure_qualifier, procedure=sp.procedure,
        modifiers=",".join(sp.modifiers), charge_cents=to_cents(sp.charge), paid_cents=to_cents(sp.paid),
        allowed_cents=to_cents(sp.allowed), revenue_code=sp.revenue_code, units=sp.units,
        original_procedure=sp.original_procedure, service_date=sp.service_date,
        service_date_end=sp.service_date_end, line_control=sp.line_control, seg_index=sp.seg_index,
    )


def _claim_unbalanced(cp: ClaimPayment, cas: int) -> Problem:
    """CLP03 - CLP04 differs from the claim's adjustments (``cas`` cents, claim and line CAS)."""
    msg = f"claim {cp.pcn}: CLP03 - CLP04 = {cp.charge - cp.paid} but its adjustments total {from_cents(cas)}"
    return _finding(match.CLAIM_UNBALANCED, msg, cp.source, "CLP")


def _line_unbalanced(cp: ClaimPayment, sp: Any, cas: int) -> Problem:
    """SVC02 - SVC03 differs from the line's adjustments (``cas`` cents)."""
    msg = (f"claim {cp.pcn} line {sp.procedure}: SVC02 - SVC03 = {sp.charge - sp.paid} "
           f"but its adjustments total {from_cents(cas)}")
    return _finding(match.LINE_UNBALANCED, msg, cp.source, "SVC", sp.seg_index or cp.source.seg_index)


# The rows of _rows.rows_835 (the compiled builder), in these column orders.
PAYMENT_COLS = ("id", "remittance_id", "claim_id", "pcn", "payer_id", "status", "charge_cents", "paid_cents",
                "patient_resp_cents", "coverage_cents", "claim_filing", "payer_claim_control", "facility_code",
                "frequency", "drg", "patient_last", "patient_first", "insured_id", "statement_from", "statement_to",
                "received_date", "is_reversal", "denied", "reverses_id", "priority_payer_id", "priority_payer_name",
                "file_id", "isa13", "gs06", "st02", "seg_index")
LINE_COLS = ("id", "claim_payment_id", "procedure_qualifier", "procedure", "modifiers", "charge_cents", "paid_cents",
             "allowed_cents", "revenue_code", "units", "original_procedure", "service_date", "service_date_end",
             "line_control", "seg_index")

# The two most numerous rows are built as tuples (column order below), not dicts.
ADJUSTMENT_COLS = ("claim_payment_id", "line_payment_id", "level", "group_code", "carc", "amount_cents", "quantity")
REMARK_COLS = ("claim_payment_id", "line_payment_id", "qualifier", "code")


def _plb_row(p: ProviderAdjustment, rid: int, file_id: int) -> dict[str, Any]:
    return dict(
        remittance_id=rid, claim_id=None, provider_id=p.provider_id, fiscal_date=p.fiscal_date,
        reason=p.reason, reference=p.reference, amount_cents=to_cents(p.amount), **_src(p.source, file_id),
    )


def _ack_row(a: ClaimAck, file_id: int) -> dict[str, Any]:
    return dict(
        claim_id=None, pcn=a.pcn, payer_claim_control=a.payer_claim_control, payer_id=_id(a.payer),
        category=a.category, status=a.status, entity=a.entity, action=a.action,
        amount_cents=to_cents(a.amount), accepted=a.accepted, status_date=a.status_date,
        **_src(a.source, file_id),
    )


def _txn_ack_row(a: TransactionAck, file_id: int) -> dict[str, Any]:
    return dict(
        group_control=a.group_control, functional_id=a.functional_id, transaction_type=a.transaction_type,
        transaction_control=a.transaction_control, code=a.code, group_code=a.group_code,
        errors=";".join(":".join(e) for e in a.errors), ack_date=a.ack_date, **_src(a.source, file_id),
    )


def _atb_row(r: AtbRow, snapshot_id: int) -> dict[str, Any]:
    return dict(
        snapshot_id=snapshot_id, claim_id=None, pcn=r.claim_id, patient_account=r.patient_account,
        payer_id=r.payer_id, responsibility=r.responsibility, service_date=r.service_date,
        last_billed_date=r.last_billed_date, total_charge_cents=to_cents(r.total_charge),
        insurance_payments_cents=to_cents(r.insurance_payments), patient_payments_cents=to_cents(r.patient_payments),
        adjustments_cents=to_cents(r.adjustments), balance_cents=to_cents(r.balance), seg_index=r.source.seg_index,
    )


def _profile_row(p: PayerProfile, file_id: int) -> dict[str, Any]:
    return dict(
        payer_id=p.payer_id, name=p.payer_name, financial_class=p.financial_class,
        timely_filing_days=p.timely_filing_days, appeal_days=p.appeal_days, file_id=file_id,
        seg_index=p.source.seg_index,
    )
