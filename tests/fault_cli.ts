/**
 * hermes-fsck with the safety layer's fault injection, for the crash, I/O
 * fault and ownership tests only: `HERMES_FSCK_FAULT_AFTER_STEPS` (after
 * how many durable steps) and `HERMES_FSCK_FAULT_KIND` (`crash`, the
 * default, exits abruptly; `io_error` fails that one step). The shipped
 * CLI (cli.ts) reads neither.
 *
 * @example
 * ```ts
 * // HERMES_FSCK_FAULT_AFTER_STEPS=3 deno run <CLI_FLAGS> tests/fault_cli.ts repair
 * ```
 * @module
 */

import { main } from "../cli.ts";

const steps = Deno.env.get("HERMES_FSCK_FAULT_AFTER_STEPS");
const kind = Deno.env.get("HERMES_FSCK_FAULT_KIND");
Deno.exit(
  await main(Deno.args, undefined, {
    writer: {
      faultAfterSteps: steps && /^\d+$/.test(steps) ? Number(steps) : undefined,
      faultKind: kind === "io_error" ? "io_error" : "crash",
    },
  }),
);
