"""The audit trail as a hash chain: each record's hash covers its content and the hash before it.

Editing a record changes its hash; deleting or reordering records breaks the `previous` link or the
sequence. The retention purge removes a prefix of the chain and keeps the hash of the last removed record
as the anchor, so what remains still verifies from there. Pure: no I/O.
"""

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

GENESIS = "0" * 64
# The audited content, in the order a reader sees it; all of it is covered by the record's hash.
CHAINED_FIELDS = (
    "seq", "created_at", "protocol", "receiver_origin", "return_code", "institutions",
    "learning_opportunities", "credits", "elmo_sha256", "login_pseudonym",
)
Value = str | int | dt.datetime | None


def _canonical_value(value: Value) -> str | int | None:
    if isinstance(value, dt.datetime):
        # SQLite hands timestamps back without a zone (stored as UTC); PostgreSQL with one: one text for both.
        aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def canonical(content: Mapping[str, Value]) -> bytes:
    """The bytes a record's hash is taken over: exactly CHAINED_FIELDS, as sorted compact JSON."""
    missing = [name for name in CHAINED_FIELDS if name not in content]
    if missing:
        raise ValueError(f"audit content lacks {missing}")
    values = {name: _canonical_value(content[name]) for name in CHAINED_FIELDS}
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def link_hash(previous: str, content: Mapping[str, Value]) -> str:
    return hashlib.sha256(previous.encode("ascii") + b"\n" + canonical(content)).hexdigest()


@dataclass(frozen=True)
class ChainState:
    """Where the chain stands: the last record appended, and the anchor left by the last purge."""

    head_seq: int = 0
    head_hash: str = GENESIS
    anchor_seq: int = 0
    anchor_hash: str = GENESIS


@dataclass(frozen=True)
class Link:
    row_id: int | None
    content: Mapping[str, Value]
    prev_hash: str
    row_hash: str

    @property
    def seq(self) -> int:
        seq = self.content["seq"]
        return seq if isinstance(seq, int) else -1


def next_link(state: ChainState, content: Mapping[str, Value]) -> tuple[int, str, str]:
    """(seq, prev_hash, row_hash) for a record appended now; `content` is without its seq."""
    seq = state.head_seq + 1
    return seq, state.head_hash, link_hash(state.head_hash, {**content, "seq": seq})


@dataclass(frozen=True)
class Break:
    seq: int
    row_id: int | None
    reason: str


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_break: Break | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


def verify(links: Iterable[Link], state: ChainState) -> ChainReport:
    """Walks the records in stored order from the anchor; the first link that does not hold is reported."""
    expected_seq, expected_previous = state.anchor_seq + 1, state.anchor_hash
    checked = 0
    for link in links:
        if link.seq != expected_seq:
            reason = "a record is missing" if link.seq > expected_seq else "records are out of order or repeated"
            return ChainReport(checked, Break(link.seq, link.row_id, f"{reason} (expected sequence {expected_seq})"))
        if link.prev_hash != expected_previous:
            return ChainReport(checked, Break(link.seq, link.row_id, "the link to the previous record does not hold"))
        if link_hash(link.prev_hash, link.content) != link.row_hash:
            return ChainReport(checked, Break(link.seq, link.row_id, "the record's content was changed"))
        checked += 1
        expected_seq, expected_previous = expected_seq + 1, link.row_hash
    if expected_seq - 1 != state.head_seq or expected_previous != state.head_hash:
        # Records cut from the end (or the head rewritten): the chain head no longer meets the last record.
        return ChainReport(checked, Break(expected_seq, None, f"the chain ends before its head (sequence "
                                                              f"{state.head_seq}): records at the end are missing"))
    return ChainReport(checked, None)


def purge_point(seqs_to_keep_from: int | None, state: ChainState) -> int:
    """The last sequence number a purge removes: everything before the first record still within retention."""
    return state.head_seq if seqs_to_keep_from is None else seqs_to_keep_from - 1


# ---- the signer's signature log ------------------------------------------------------------------
# The signer logs one JSON line per signature: {"msg": "signed", "sha256": <hex of the signed ELMO>, ...}
# ("signed PDF" for transcripts, which the audit does not hash). A record's elmo_sha256 is over the same bytes.
ELMO_SIGNATURE_MESSAGE = "signed"


def signed_digests(lines: Iterable[str]) -> list[str]:
    """The SHA-256 of every ELMO the log says was signed, in log order; other lines are passed over."""
    digests: list[str] = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("msg") == ELMO_SIGNATURE_MESSAGE:
            digest = entry.get("sha256")
            if isinstance(digest, str) and len(digest) == 64:
                digests.append(digest.lower())
    return digests


@dataclass(frozen=True)
class SignatureMatch:
    records_without_signature: list[int]  # seq of records naming a document the log never signed
    signatures_without_record: list[str]  # digests signed that no record names

    @property
    def ok(self) -> bool:
        return not self.records_without_signature and not self.signatures_without_record


def match_signatures(links: Iterable[Link], digests: Iterable[str]) -> SignatureMatch:
    signed = set(digests)
    named: set[str] = set()
    unsigned: list[int] = []
    for link in links:
        digest = link.content.get("elmo_sha256")
        if isinstance(digest, str) and digest:
            named.add(digest.lower())
            if digest.lower() not in signed:
                unsigned.append(link.seq)
    return SignatureMatch(unsigned, sorted(signed - named))
