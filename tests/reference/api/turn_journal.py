# Test oracle only, never shipped or imported by hermes-fsck.
#
# A minimal stand-in for the Hermes WebUI server's `api/turn_journal.py`,
# which the seed excerpt of `api/session_recovery.py` imports but does not
# include. It implements exactly the semantics STORE_FORMAT.md §2 "Journal
# event" documents, and nothing else:
#   - journals are `<session_dir>/_turn_journal/<sid>.jsonl`, one JSON event
#     per line;
#   - lines that are not JSON objects are malformed and skipped, never fatal;
#   - the state of a turn is its event with the greatest `created_at`, ties
#     going to the later line;
#   - `completed` and `interrupted` are the terminal events.
# Like the server, it does not guard against a `created_at` that is not a
# number (a known defect of the reference; the parity test never writes one).
"""Minimal turn journal reader used by the session recovery oracle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

TURN_JOURNAL_DIR = "_turn_journal"
TERMINAL_TURN_EVENTS = frozenset({"completed", "interrupted"})


def _journal_dir(session_dir: Path) -> Path:
    return Path(session_dir) / TURN_JOURNAL_DIR


def iter_turn_journal_session_ids(session_dir: Path) -> Iterator[str]:
    """Yield the stems of `<session_dir>/_turn_journal/*.jsonl`, sorted."""
    journal_dir = _journal_dir(session_dir)
    if not journal_dir.is_dir():
        return
    for path in sorted(journal_dir.glob("*.jsonl")):
        yield path.stem


def read_turn_journal(session_id: str, session_dir: Path) -> dict:
    """Return `{"events": [...]}`: every line of the journal that is a JSON object."""
    path = _journal_dir(session_dir) / f"{session_id}.jsonl"
    try:
        raw = path.read_bytes()
    except OSError:
        return {"events": []}
    events: list[dict] = []
    for line in raw.split(b"\n"):
        if not line.strip():
            continue
        try:
            event = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            continue
        if isinstance(event, dict):
            events.append(event)
    return {"events": events}


def _created_at(event: dict) -> float:
    value = event.get("created_at")
    if value is None:
        return float("-inf")
    return float(value)


def derive_turn_journal_states(events: list[dict]) -> dict[str, dict]:
    """Map each turn_id to its event with the greatest created_at (ties: the later line)."""
    states: dict[str, dict] = {}
    for event in events:
        if not isinstance(event, dict):
            continue
        turn_id = event.get("turn_id")
        if not isinstance(turn_id, str) or not turn_id:
            continue
        current = states.get(turn_id)
        if current is None or _created_at(event) >= _created_at(current):
            states[turn_id] = event
    return states


def is_terminal_turn_event(event: dict) -> bool:
    """True when the event ends its turn: `completed` or `interrupted`."""
    return event.get("event") in TERMINAL_TURN_EVENTS
