/**
 * A stand-in for the Hermes WebUI server in the concurrency test: it saves
 * sessions the way the server does (write `<sid>.tmp.<pid>.<n>`, fsync,
 * rename over `<sid>.json`), each save of a session holding strictly more
 * messages than the one before, and when done writes a log: per session,
 * the SHA-256 of every save in order (the last is the one that must win),
 * and when its first and last saves happened.
 *
 * Run: `deno run --allow-read --allow-write tests/fake_server.ts CONFIG_JSON`
 * with CONFIG_JSON `{"sessionDir", "sessions": [...], "saves", "firstCount",
 * "startDelayMs", "pauseMs", "log"}`.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import { makeMessages, makeSidecar } from "./fixtures.ts";

/** What the fake server is told to do. */
export interface FakeServerConfig {
  sessionDir: string;
  sessions: string[];
  /** Saves per session. */
  saves: number;
  /** Messages in the first save; each later save has one more. */
  firstCount: number;
  /** Wait this long before the first save. */
  startDelayMs: number;
  /** Wait this long after each round of saves (one save per session). */
  pauseMs: number;
  /** Where to write the log (JSON). */
  log: string;
}

/** What the fake server did. */
export interface FakeServerLog {
  /** SHA-256 of each save, in order, per session. */
  saves: Record<string, string[]>;
  firstSaveAt: number;
  lastSaveAt: number;
}

/** The sidecar of save number `n` (from 1) of a session, as the server writes it. */
export function serverSave(
  sid: string,
  n: number,
  count: number,
): Uint8Array {
  const sidecar = makeSidecar(sid, {
    messages: makeMessages(count, `${sid} server message`),
    updated_at: 1778460000 + n,
  });
  return new TextEncoder().encode(JSON.stringify(sidecar, null, 2));
}

async function save(
  dir: string,
  sid: string,
  bytes: Uint8Array,
  n: number,
): Promise<void> {
  const temp = join(dir, `${sid}.tmp.${Deno.pid}.${n}`);
  const file = await Deno.open(temp, {
    write: true,
    createNew: true,
    mode: 0o644,
  });
  try {
    let written = 0;
    while (written < bytes.length) {
      written += await file.write(bytes.subarray(written));
    }
    await file.sync();
  } finally {
    file.close();
  }
  await Deno.rename(temp, join(dir, `${sid}.json`));
}

if (import.meta.main) {
  const config: FakeServerConfig = JSON.parse(Deno.args[0]);
  const log: FakeServerLog = { saves: {}, firstSaveAt: 0, lastSaveAt: 0 };
  await new Promise((resolve) => setTimeout(resolve, config.startDelayMs));
  let n = 0;
  for (let i = 0; i < config.saves; i++) {
    for (const sid of config.sessions) {
      const bytes = serverSave(sid, i + 1, config.firstCount + i);
      await save(config.sessionDir, sid, bytes, ++n);
      if (!log.firstSaveAt) log.firstSaveAt = Date.now();
      log.lastSaveAt = Date.now();
      (log.saves[sid] ??= []).push(
        createHash("sha256").update(bytes).digest("hex"),
      );
    }
    if (config.pauseMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, config.pauseMs));
    }
  }
  await Deno.writeTextFile(config.log, JSON.stringify(log));
}
