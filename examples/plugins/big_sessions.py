#!/usr/bin/env python3
"""A hermes-fsck plugin in Python: reports sessions with more messages than
the UI loads comfortably (default 5000; HERMES_FSCK_MAX_MESSAGES). An info
finding: nothing is wrong with the store, so the server still starts.

    hermes-fsck audit --plugin examples/plugins/big_sessions.py

Protocol 1: one JSON document on stdin, findings as JSON lines on stdout.
"""

import json
import os
import sys

PROTOCOL = 1


def main() -> int:
    document = json.load(sys.stdin)
    if document.get("protocolVersion") != PROTOCOL:
        print(f"big_sessions.py speaks plugin protocol {PROTOCOL} only", file=sys.stderr)
        return 2
    limit = int(os.environ.get("HERMES_FSCK_MAX_MESSAGES", "5000"))
    for session in document["sessions"]:
        path = session["live"]
        if path is None:
            continue
        try:
            with open(path, encoding="utf-8") as file:
                sidecar = json.load(file)
        except (OSError, ValueError):
            continue  # the built-in checks report files that do not parse
        messages = sidecar.get("messages") if isinstance(sidecar, dict) else None
        if isinstance(messages, list) and len(messages) > limit:
            print(json.dumps({
                "kind": "big_session",
                "category": "info",
                "severity": "warning",
                "sessionId": session["sessionId"],
                "paths": [path],
                "message": f"{os.path.basename(path)} holds {len(messages)} messages, "
                           f"more than {limit}; the UI loads it slowly.",
                "evidence": {"liveMessages": len(messages), "limit": limit},
            }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
