#!/usr/bin/env python3
# Test oracle only, never shipped or imported by hermes-fsck.
#
# Runs the reconstruction of the Hermes WebUI server's recovery audit
# (tests/reference/api/session_recovery.py, rebuilt from the excerpt in
# /work/shared/seeds/000_d51ee92688e80dec.txt) as the server's own CLI does:
#
#   python3 tests/reference/reference_audit.py --audit --session-dir D [--state-db F]
#
# tests/webui_parity_test.ts compares its stdout with
# `hermes-fsck audit --format webui-json`.
"""Entry point of the session recovery oracle."""

import os
import sys

sys.dont_write_bytecode = True  # leave no __pycache__ in the repo
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from api.session_recovery import _main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(_main())
