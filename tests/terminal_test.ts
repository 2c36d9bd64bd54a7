/**
 * What a person at a terminal sees (issue 24): the CLI runs under a real
 * pseudo-terminal (`script` from util-linux), its stdout and stderr both on
 * it, and the tests assert on the bytes the terminal receives: the
 * progress line stays alive while a repair writes and is erased before the
 * report, and the text report is in colour unless `NO_COLOR` is set.
 *
 * @module
 */

// The terminal's bytes are matched with their escape sequences in them.
// deno-lint-ignore-file no-control-regex

import assert from "node:assert/strict";
import {
  CLI_DENO,
  cliRunArgs,
  runCli,
  storeArgs,
  withStore,
} from "./fixtures.ts";
import { buildDamagedStore } from "./safety_support.ts";
import { TOOL_VERSION } from "../core/run/version.ts";

const SCRIPT = "/usr/bin/script";
const HAS_SCRIPT = (() => {
  try {
    return Deno.statSync(SCRIPT).isFile;
  } catch {
    return false;
  }
})();
const SKIP = HAS_SCRIPT
  ? ""
  : " (skipped: no /usr/bin/script to make a terminal)";

/** The environment of a run, without the caller's NO_COLOR. */
function baseEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { ...extra };
  for (const name of ["PATH", "HOME", "DENO_DIR", "TMPDIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** Runs the CLI on a pty; returns what the terminal received. */
async function onTerminal(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; drawn: string }> {
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const command = [CLI_DENO, ...cliRunArgs(args)].map(quote).join(" ");
  const output = await new Deno.Command(SCRIPT, {
    args: ["-qfec", command, "/dev/null"],
    clearEnv: true,
    env: baseEnv(env),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    drawn: new TextDecoder().decode(output.stdout),
  };
}

const HEADER = `hermes-fsck ${TOOL_VERSION} repair of `;

Deno.test(`terminal: the progress line stays alive while repair writes and is erased before the report${SKIP}`, async () => {
  if (!HAS_SCRIPT) return;
  await withStore(async (store) => {
    await buildDamagedStore(store);
    const { code, drawn } = await onTerminal(
      ["repair", ...storeArgs(store), "--server-stopped"],
      { NO_COLOR: "1", HERMES_FSCK_PROGRESS_DELAY_MS: "0" },
    );
    assert.equal(code, 1, drawn);
    const at = drawn.indexOf(HEADER);
    assert.ok(at > 0, drawn);
    const before = drawn.slice(0, at);
    assert.match(before, /\rhermes-fsck: scanned \d+ of \d+ files/);
    // While the repairs write, the line says how far the pass has come.
    assert.match(
      before,
      /\rhermes-fsck: repair pass 1: \d+ of \d+ repairs done\x1b\[K/,
    );
    assert.match(
      before,
      /\rhermes-fsck: repair pass 2: \d+ of 1 repairs done\x1b\[K/,
    );
    // The last thing before the report erases the line.
    assert.ok(before.endsWith("\r\x1b[K"), JSON.stringify(before.slice(-80)));
    assert.doesNotMatch(drawn.slice(at), /hermes-fsck: (scanned|repair pass)/);
  });
});

Deno.test(`terminal: the text report is in colour on a terminal, not with NO_COLOR or on a pipe${SKIP}`, async () => {
  if (!HAS_SCRIPT) return;
  await withStore(async (store) => {
    await buildDamagedStore(store);
    const args = ["repair", ...storeArgs(store), "--server-stopped", "--quiet"];
    const dry = [...args, "--dry-run"];
    const colour = await onTerminal(dry, {});
    assert.equal(colour.code, 4, colour.drawn);
    assert.match(
      colour.drawn,
      /^ {2}\x1b\[36mplanned\x1b\[0m restore_from_bak: /m,
    );
    assert.match(
      colour.drawn,
      /^\x1b\[33mshrunken_live\x1b\[0m \(1, repairable; /m,
    );
    assert.match(
      colour.drawn,
      /^\x1b\[31mstate_db_orphan_webui_row\x1b\[0m \(1, unsafe to repair; /m,
    );
    assert.match(colour.drawn, /^\x1b\[1mNext: .*\x1b\[0m\r?$/m);
    // NO_COLOR set to anything: no colour.
    const plain = await onTerminal(dry, { NO_COLOR: "1" });
    assert.equal(plain.code, 4);
    assert.doesNotMatch(plain.drawn, /\x1b\[/);
    // An empty NO_COLOR is not set (no-color.org).
    const empty = await onTerminal(dry, { NO_COLOR: "" });
    assert.match(empty.drawn, /\x1b\[33mshrunken_live\x1b\[0m/);
    // A pipe (a log file) gets no colour, NO_COLOR or not.
    const piped = await runCli(dry, { clearEnv: true, env: baseEnv({}) });
    assert.equal(piped.code, 4);
    const text = piped.stdout;
    assert.match(text, /^shrunken_live \(1, repairable; /m);
    assert.doesNotMatch(text, /\x1b\[/);
    // The real run, in colour: what it applied, and the verdict.
    const real = await onTerminal(args, {});
    assert.equal(real.code, 1, real.drawn);
    assert.match(
      real.drawn,
      /^ {2}\x1b\[32mapplied\x1b\[0m restore_from_bak: /m,
    );
    assert.match(real.drawn, /^\x1b\[32mThe store is clean now\.\x1b\[0m\r?$/m);
  });
});
