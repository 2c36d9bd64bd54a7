#!/bin/sh
# Container entrypoint for Hermes WebUI: check and repair the session store
# with `hermes-fsck preen`, then start the server only if preen says it may.
#
#   COPY hermes-fsck /usr/local/bin/
#   COPY examples/container/init.sh /usr/local/bin/hermes-init
#   ENTRYPOINT ["/usr/local/bin/hermes-init"]
#   CMD ["hermes-webui"]
#
# The server command is this script's arguments, else $HERMES_WEBUI_CMD,
# else `hermes-webui`. $HERMES_FSCK names hermes-fsck (default `hermes-fsck`)
# and $HERMES_FSCK_ARGS adds options (for example --plugin-dir, --state-db
# or --metrics-file). hermes-fsck finds the store as Hermes does:
# $HERMES_WEBUI_STATE_DIR and $HERMES_HOME. Nothing is written outside the
# store (and the metrics file, when asked for), so a read-only root
# filesystem is fine.
set -u

if [ "$#" -eq 0 ]; then
  # Word splitting is wanted: the variable holds a command line.
  # shellcheck disable=SC2086
  set -- ${HERMES_WEBUI_CMD:-hermes-webui}
fi

echo "hermes-init: checking the session store before starting Hermes WebUI" >&2
# The server is not running yet, so a turn left streaming is a dead one:
# --server-stopped lets preen recover it. preen exits 0 when the server may
# start (repairs made, or a first boot: no session dir and no state.db yet),
# 4 when a problem needs a person. The report goes to stdout, the log.
# shellcheck disable=SC2086
${HERMES_FSCK:-hermes-fsck} preen --server-stopped ${HERMES_FSCK_ARGS:-}
code=$?

if [ "$code" -eq 0 ]; then
  echo "hermes-init: session store ok (hermes-fsck exit 0); starting: $*" >&2
  exec "$@"
fi

if [ "$code" -ge 64 ]; then
  why="hermes-fsck did not run (exit $code): check \$HERMES_FSCK"
elif [ $((code & 32)) -ne 0 ]; then
  why="hermes-fsck was interrupted (exit $code)"
elif [ $((code & 16)) -ne 0 ]; then
  why="hermes-fsck was called wrongly (exit $code): check \$HERMES_FSCK_ARGS"
elif [ $((code & 8)) -ne 0 ]; then
  why="hermes-fsck could not read the store or apply a repair (exit $code); see its error above"
else
  why="the session store has problems that need a person (exit $code): the report above lists them with their ids; 'hermes-fsck explain KIND' says what each means; then 'hermes-fsck resolve ID --keep SOURCE' applies a choice (undoable) or 'hermes-fsck acknowledge ID --note TEXT' records that you leave it, and the next start goes ahead"
fi
echo "hermes-init: NOT starting Hermes WebUI: $why" >&2
exit "$code"
