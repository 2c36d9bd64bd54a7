#!/bin/sh
# A hermes-fsck plugin in POSIX sh: reports when the disk of the session dir
# is nearly full, because a save that hits a full disk is how a sidecar gets
# truncated. Unsafe to repair: an init script then does not start the server.
#
#   hermes-fsck audit --plugin examples/plugins/low_disk_space.sh
#   HERMES_FSCK_MIN_FREE_MB=500 hermes-fsck audit --plugin ...   (default 200)
#
# Protocol 1: one JSON document on stdin, findings as JSON lines on stdout.
# sed reads the session dir out of it; a path holding a quote or a backslash
# would need a real JSON parser (see big_sessions.py).
set -eu
input=$(cat)
case $input in
*'"protocolVersion":1,'*) ;;
*)
  echo "low_disk_space.sh speaks plugin protocol 1 only" >&2
  exit 2
  ;;
esac
session_dir=$(printf '%s\n' "$input" | sed -n 's/.*"sessionDir":"\([^"]*\)".*/\1/p')
min_mb=${HERMES_FSCK_MIN_FREE_MB:-200}
free_kb=$(df -Pk "$session_dir" | awk 'NR == 2 { print $4 }')
free_mb=$((free_kb / 1024))
if [ "$free_mb" -lt "$min_mb" ]; then
  printf '{"kind":"low_disk_space","category":"unsafe_to_repair","severity":"error","paths":[],"message":"Only %s MiB are free on the disk of the session dir (at least %s wanted); free some space before the server saves again.","evidence":{"freeMiB":%s,"minFreeMiB":%s}}\n' \
    "$free_mb" "$min_mb" "$free_mb" "$min_mb"
fi
