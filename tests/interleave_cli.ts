/**
 * hermes-fsck with a second process run between planning and applying,
 * for tests of a store that changes under a run: before the first action
 * is applied (it was planned on the store as it was), the program named
 * by `HERMES_FSCK_TEST_INTERLEAVE` (a JSON list: program and arguments)
 * runs to its end, as a server saving at that instant would. The shipped
 * CLI (cli.ts) reads no such variable.
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
let ran = false;
Deno.exit(
  await main(Deno.args, undefined, {
    writer: {
      beforeApply: async () => {
        if (ran || program.length === 0) return;
        ran = true;
        const [command, ...args] = program;
        const out = await new Deno.Command(command, { args, stdin: "null" })
          .output();
        if (!out.success) {
          throw new Error(
            `the interleaved process failed: ${
              new TextDecoder().decode(out.stderr)
            }`,
          );
        }
      },
    },
  }),
);
