/**
 * A store with one finding of each unsafe kind that has resolutions, and
 * hostile text in it, for the tests of `show` and the review page:
 * - `abc`: state.db holds more messages than `abc.json`
 *   (`sidecar_behind_state_db`); its title is HTML and a terminal escape,
 *   its `.bak` holds a message nothing else has, its journal a prompt;
 * - `broken`: `broken.json` is not JSON (`malformed_live`);
 * - `gone`: deleted (tombstone) with a leftover `.bak`
 *   (`state_db_deleted_webui_tombstone`);
 * - `orphan`: only a `.bak`, and state.db has no row of it
 *   (`orphan_backup_without_state_row`);
 * - `keep1`: a temp older than `keep1.json` holds more messages
 *   (`stale_temp_needs_review`); the temp also holds invalid UTF-8 in a
 *   second temp of the session.
 */

import {
  concatBytes,
  makeMessages,
  makeSidecar,
  type Message,
  TestStore,
} from "./fixtures.ts";
import { submittedEvent } from "./safety_support.ts";

/** A title made to break a page or a terminal. */
export const HOSTILE_TITLE =
  "<script>alert('x')</script><img src=x onerror=alert(1)>\u001b[2J\u001b]0;pwned\u0007\u202eevil";
/** A message only `abc.json.bak` holds. */
export const ONLY_IN_BAK =
  "only in bak: </td></table><script>alert(2)</script>";
/** A prompt only the journal holds. */
export const ONLY_IN_JOURNAL = "pending prompt only the journal has";
/** A huge message, cut in every excerpt. */
export const HUGE = "H".repeat(2 << 20);

/**
 * Builds the store described above.
 *
 * @example
 * ```ts
 * const store = await TestStore.create();
 * await buildReviewStore(store);
 * ```
 */
export async function buildReviewStore(store: TestStore): Promise<void> {
  const msgs = makeMessages(6);
  await store.sidecar("abc", {
    messages: msgs.slice(0, 2),
    title: HOSTILE_TITLE,
  });
  await store.backup("abc", {
    messages: [
      ...msgs.slice(0, 2),
      { role: "assistant", content: ONLY_IN_BAK, timestamp: 1778458100 },
      { role: "user", content: HUGE, timestamp: 1778458101 },
    ],
    title: "Older title",
  });
  await store.journal("abc", [
    submittedEvent("abc", "turn-1", ONLY_IN_JOURNAL, 1778459999),
  ]);
  await store.writeRaw("broken.json", "{ this is not json \u001b[31m");
  await store.tombstone(["gone"]);
  await store.backup("gone", { messages: 3, title: "A deleted chat" });
  await store.backup("orphan", { messages: 4, title: "An orphan" });
  await store.sidecar("keep1", { messages: 2 });
  await store.writeRaw(
    "keep1.tmp.12.34",
    JSON.stringify(
      { session_id: "keep1", title: "temp", messages: makeMessages(5) },
      null,
      2,
    ),
  );
  await store.writeRaw(
    "keep1.tmp.12.35",
    concatBytes('{"session_id": "keep1", "title": "', [0xff, 0xfe], '"}'),
  );
  const old = new Date(Date.now() - 3 * 3600_000);
  await Deno.utime(store.path("keep1.tmp.12.34"), old, old);
  await Deno.utime(store.path("keep1.tmp.12.35"), old, old);
  const rows: Message[] = msgs.slice(0, 3);
  store.stateDb({
    sessions: [
      { id: "abc", source: "webui", title: "db title", started_at: 1778450000 },
      { id: "keep1", source: "webui", title: "keep", started_at: 1778450001 },
    ],
    messages: [
      ...rows.map((m, i) => ({
        id: i + 1,
        session_id: "abc",
        role: m.role as string,
        content: m.content as string,
        timestamp: m.timestamp as number,
      })),
      ...makeMessages(2).map((m, i) => ({
        id: 10 + i,
        session_id: "keep1",
        role: m.role as string,
        content: m.content as string,
        timestamp: m.timestamp as number,
      })),
    ],
  });
}

/** The unsafe kinds the store has, one finding each. */
export const REVIEW_KINDS = [
  "malformed_live",
  "orphan_backup_without_state_row",
  "sidecar_behind_state_db",
  "stale_temp_needs_review",
  "state_db_deleted_webui_tombstone",
];

/**
 * A store of 20,000 sessions, every seventh live file cut short (2,858
 * `malformed_live` findings, the title in it HTML), in /dev/shm when
 * there is one (20,000 files cost little there). The caller cleans up.
 *
 * @example
 * ```ts
 * const big = await buildBigReviewStore();
 * try { ... } finally { await big.cleanup(); }
 * ```
 */
export async function buildBigReviewStore(): Promise<TestStore> {
  let shm: string | undefined;
  try {
    if (Deno.statSync("/dev/shm").isDirectory) shm = "/dev/shm";
  } catch { /* no tmpfs: the default temp dir */ }
  const store = await TestStore.create(shm);
  const healthy = (id: string) =>
    JSON.stringify(makeSidecar(id, { messages: 2 }));
  for (let i = 0; i < 20_000; i++) {
    const id = `s${String(i).padStart(5, "0")}`;
    Deno.writeTextFileSync(
      store.path(`${id}.json`),
      i % 7 === 0
        ? `{"session_id": "${id}", "title": "<b>broken ${i}</b>`
        : healthy(id),
    );
  }
  return store;
}
