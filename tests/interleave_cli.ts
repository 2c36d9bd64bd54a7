/**
 * hermes-fsck with a second process run between planning and applying,
 * for tests of a store that changes under a run: before the first action
 * is applied (it was planned on the store as it was), the program named
 * by `HERMES_FSCK_TEST_INTERLEAVE` (a JSON list: program and arguments)
 * runs to its end, as a server saving at that instant would. It is
 * started at once, waiting on its stdin, and let go then: a repair that
 * starts no plugin gives up the right to start processes before it reads
 * the store. The shipped CLI (cli.ts) reads no such variable.
 *
 * @example
 * ```ts
 * // HERMES_FSCK_TEST_INTERLEAVE='["sh","-c","..."]' deno run <CLI_FLAGS> tests/interleave_cli.ts resolve ID --keep bak
 * ```
 * @module
 */

import { main } from "../cli.ts";

const program = JSON.parse(
  Deno.env.get("HERMES_FSCK_TEST_INTERLEAVE") ?? "[]",
) as string[];
// Runs the program once a line comes; at end of input (this process
// ended without applying anything) it never runs.
const waiting = program.length === 0 ? null : new Deno.Command("sh", {
  args: ["-c", 'read -r go || exit 0; exec "$@"', "sh", ...program],
  stdin: "piped",
  stdout: "null",
  stderr: "piped",
}).spawn();
let ran = false;
const code = await main(Deno.args, undefined, {
  writer: {
    beforeApply: async () => {
      if (ran || waiting === null) return;
      ran = true;
      const writer = waiting.stdin.getWriter();
      await writer.write(new TextEncoder().encode("go\n"));
      await writer.close();
      const out = await waiting.output();
      if (!out.success) {
        throw new Error(
          `the interleaved process failed: ${
            new TextDecoder().decode(out.stderr)
          }`,
        );
      }
    },
  },
});
if (waiting !== null && !ran) {
  await waiting.stdin.close().catch(() => {});
  await waiting.status;
}
Deno.exit(code);
