/**
 * `deno task demo`: builds a damaged sample store in a temp dir, then runs
 * the real CLI on it as an operator would (audit, repair, audit again) and
 * shows each report. The store is removed afterwards unless `--keep`.
 *
 * @example
 * ```sh
 * deno task demo
 * deno task demo --keep   # leave the store to poke at
 * deno task demo --binary dist/hermes-fsck   # run a compiled binary instead
 * ```
 *
 * It exits 1 when a run of the CLI fails (an exit code of 8 or more, or no
 * report), so the release workflow runs it on each binary it can run.
 * @module
 */

import { makeMessages, storeArgs, TestStore } from "../tests/fixtures.ts";
import { CLI_FLAGS } from "./permissions.ts";

/**
 * Builds the sample store: one case of each thing an operator meets after a
 * crash, and two the tool must leave alone.
 *
 * @example
 * ```ts
 * import { buildSampleStore } from "./demo.ts";
 * const store = await buildSampleStore();
 * ```
 */
export async function buildSampleStore(): Promise<TestStore> {
  const store = await TestStore.create();
  // The #1558 shape: a metadata-only save wiped a long conversation; the
  // server's .bak still has it.
  await store.backup("wiped_chat", { title: "Trip planning", messages: 1000 });
  await store.sidecar("wiped_chat", { title: "Trip planning", messages: 0 });
  // A crash lost the live file; its backup and the state.db row remain.
  await store.backup("lost_live", { title: "Recipes", messages: 42 });
  // The sidecar is gone but state.db still has the session and its messages.
  // A user cleared this session on purpose: the bigger .bak must stay unused.
  await store.backup("cleared", {
    title: "Scratch",
    messages: 12,
    clear_generation: "g1",
  });
  await store.sidecar("cleared", {
    title: "Scratch",
    messages: 0,
    context_messages: [],
    clear_generation: "g2",
    truncation_watermark: 0,
    truncation_boundary: 0,
    pending_user_source: null,
  });
  // Deleted by the user (in the tombstone), with a leftover backup.
  await store.backup("deleted_one", { title: "Old", messages: 5 });
  await store.tombstone(["deleted_one"]);
  // The server stopped after the user pressed send: the prompt is only in
  // the turn journal.
  await store.sidecar("interrupted", { title: "Code review", messages: 6 });
  await store.journal("interrupted", [{
    version: 1,
    event: "submitted",
    turn_id: "20261121T040000Z-abcdef123456",
    session_id: "interrupted",
    stream_id: "s1",
    created_at: 1795233600.5,
    role: "user",
    content: "Can you also check the error handling?",
    attachments: [],
  }]);
  await store.sidecar("healthy", { title: "Healthy", messages: 8 });
  await store.index([
    { session_id: "healthy", message_count: 8 },
    { session_id: "removed_long_ago", message_count: 3 },
  ]);
  const rows = makeMessages(4, "from state.db").map((m, i) => ({
    id: i + 1,
    session_id: "from_agent",
    role: String(m.role),
    content: String(m.content),
    timestamp: Number(m.timestamp),
  }));
  store.stateDb({
    sessions: [
      { id: "wiped_chat", source: "webui" },
      { id: "lost_live", source: "webui" },
      { id: "cleared", source: "webui" },
      { id: "interrupted", source: "webui" },
      { id: "healthy", source: "webui" },
      {
        id: "from_agent",
        source: "webui",
        title: "Worktree session",
        started_at: 1795230000,
        workspace: "/work/repo-wt",
        worktree_path: "/work/repo-wt",
        worktree_branch: "feature/x",
        worktree_repo_root: "/work/repo",
        message_count: 4,
      },
    ],
    messages: rows,
  });
  return store;
}

/**
 * Runs the CLI (`deno run cli.ts`, or `binary`) as an operator would and
 * shows what it printed; false when it failed: exit 8 or more, or no report.
 */
async function runCommand(
  store: TestStore,
  args: string[],
  binary: string | null,
): Promise<boolean> {
  const cli = new URL("../cli.ts", import.meta.url).pathname;
  const full = [...args, ...storeArgs(store)];
  console.log(`\n$ ${binary ?? "hermes-fsck"} ${full.join(" ")}`);
  const { code, stdout, stderr } = await new Deno.Command(
    binary ?? Deno.execPath(),
    {
      args: binary ? full : ["run", "--quiet", ...CLI_FLAGS, cli, ...full],
      stdout: "piped",
      stderr: "piped",
    },
  ).output();
  const decoder = new TextDecoder();
  Deno.stdout.writeSync(stdout);
  if (stderr.length) console.log(decoder.decode(stderr).trimEnd());
  console.log(`(exit code ${code})`);
  return code < 8 && decoder.decode(stdout).startsWith("hermes-fsck ");
}

if (import.meta.main) {
  const at = Deno.args.indexOf("--binary");
  const binary = at >= 0 ? Deno.args[at + 1] : null;
  if (at >= 0 && !binary) {
    console.error("--binary needs the path of a hermes-fsck binary");
    Deno.exit(16);
  }
  const store = await buildSampleStore();
  console.log(`A damaged sample store was built in ${store.root}`);
  let ok = true;
  try {
    for (const command of ["audit", "repair", "audit"]) {
      ok = (await runCommand(store, [command], binary)) && ok;
    }
  } finally {
    if (Deno.args.includes("--keep")) {
      console.log(`\nThe store is kept in ${store.root}`);
    } else await store.cleanup();
  }
  if (!ok) {
    console.error(
      "\nA run of the CLI failed (exit 8 or more, or no report): see above.",
    );
    Deno.exit(1);
  }
}
