"""The append-only audit log, hash-chained: each row stores the previous row's hash.

``hash = sha256(prev_hash + "\\n" + canonical JSON [seq, at, actor, action, subject, detail])``,
the first row's ``prev_hash`` being 64 zeros. Changing, removing or reordering any row breaks
the chain from that row on; :func:`verify_chain` names the first row that does not hold, and
also checks the chain's recorded head (``audit_head``), so cutting rows off the end is seen too.
Someone who can write the database can cut the tail *and* rewrite the head row to match; an
anchor closes that gap: a ``SEQ:HASH`` recorded outside the database (``archipel audit
verify`` prints the head each time) must still be in the chain (``verify_chain(anchor=…)``).

Rows are appended by :func:`append` inside the caller's transaction, after locking the head
row: the record it audits and its audit row commit together or not at all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, update

from archipel.store.schema import audit_head, audit_log

GENESIS = "0" * 64


def now() -> str:
    """The current UTC time as the store writes it."""
    return datetime.now(UTC).isoformat()


def canonical(value: Any) -> str:
    """JSON with sorted keys and no spaces: the form that is hashed and stored."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def row_hash(
    prev_hash: str, seq: int, at: str, actor: str, action: str, subject: str, detail: str
) -> str:
    """The hash of one audit row (``detail`` is its canonical JSON text)."""
    body = canonical([seq, at, actor, action, subject, detail])
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def lock(conn: Connection) -> None:
    """Take the chain's lock now (a write that reads before it appends: no lost race)."""
    conn.execute(select(audit_head.c.seq).where(audit_head.c.id == 1).with_for_update())


def append(conn: Connection, actor: str, action: str, subject: str, detail: Any) -> int:
    """Append one row in ``conn``'s transaction; returns its sequence number."""
    head = conn.execute(
        select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1).with_for_update()
    ).one()
    seq = int(head.seq) + 1
    at = now()
    text = canonical(detail)
    digest = row_hash(head.hash, seq, at, actor, action, subject, text)
    conn.execute(
        audit_log.insert().values(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            detail=text,
            prev_hash=head.hash,
            hash=digest,
        )
    )
    conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=seq, hash=digest))
    return seq


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What :func:`verify_chain` found: rows checked, and the first break (None: intact)."""

    rows: int
    broken_at: int | None
    problem: str
    head: str = ""  # "SEQ:HASH" of the last row: record it outside the database (an anchor)

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def _rows(conn: Connection, batch: int = 5000) -> Iterator[Any]:
    last = 0
    while True:
        chunk = conn.execute(
            select(audit_log).where(audit_log.c.seq > last).order_by(audit_log.c.seq).limit(batch)
        ).all()
        if not chunk:
            return
        yield from chunk
        last = int(chunk[-1].seq)


def parse_anchor(text: str) -> tuple[int, str]:
    """``SEQ:HASH`` as printed by ``archipel audit verify``; ValueError when malformed."""
    seq, sep, digest = text.strip().partition(":")
    if not sep or not seq.isdigit() or int(seq) < 1 or len(digest) != 64:
        raise ValueError(f"{text!r}: write SEQ:HASH, e.g. 42:{'ab' * 32}")
    int(digest, 16)
    return int(seq), digest.lower()


def verify_chain(conn: Connection, anchor: tuple[int, str] | None = None) -> ChainReport:
    """Recompute every row's hash in order and compare with the stored chain and its head; with
    an ``anchor`` (seq, hash) recorded earlier, that row must still be there, unchanged."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    for row in _rows(conn):
        count += 1
        if anchor is not None and row.seq == anchor[0] and row.hash != anchor[1]:
            return ChainReport(
                count, int(row.seq), f"row {row.seq} is not the row the anchor recorded"
            )
        if row.seq != expected_seq:
            return ChainReport(
                count, int(row.seq), f"row {expected_seq} is missing (next row is {row.seq})"
            )
        if row.prev_hash != prev:
            return ChainReport(
                count, int(row.seq), f"row {row.seq} does not point at row {row.seq - 1}'s hash"
            )
        digest = row_hash(
            row.prev_hash, row.seq, row.at, row.actor, row.action, row.subject, row.detail
        )
        if digest != row.hash:
            return ChainReport(
                count,
                int(row.seq),
                f"row {row.seq} ({row.action} {row.subject}) was changed after it was written",
            )
        prev = row.hash
        expected_seq += 1
    head = conn.execute(select(audit_head.c.seq, audit_head.c.hash)).one()
    if head.seq != count or head.hash != prev:
        return ChainReport(
            count,
            count + 1,
            f"the chain's head says {head.seq} rows but {count} remain: rows were removed",
        )
    if anchor is not None and anchor[0] > count:
        return ChainReport(
            count,
            count + 1,
            f"the anchor recorded row {anchor[0]} but only {count} rows remain: the tail and "
            "the head were cut together",
        )
    return ChainReport(count, None, "", f"{count}:{prev}" if count else "")
