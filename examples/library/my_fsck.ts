/**
 * Way 1 of extending hermes-fsck: a program of your own that is the whole
 * hermes-fsck CLI plus your checks (and, if you wish, your repairs), built
 * into one binary with `deno task compile:example` (dist/my-fsck). Only this
 * way can add repairs: the downloaded binary runs plugins that report.
 *
 * @example
 * ```sh
 * deno run --allow-read --allow-write --allow-env --allow-run examples/library/my_fsck.ts audit
 * STALE_UNTITLED_DAYS=7 ./dist/my-fsck audit --session-dir /srv/hermes/webui/sessions
 * ```
 * @module
 */

import { builtinChecks } from "../../mod.ts";
import { main } from "../../cli.ts";
import { staleUntitledCheck } from "./stale_untitled.ts";

if (import.meta.main) {
  const days = Number(Deno.env.get("STALE_UNTITLED_DAYS") ?? "30");
  if (!Number.isInteger(days) || days < 0) {
    console.error(
      "my-fsck: STALE_UNTITLED_DAYS must be a whole number of days [exit 16]",
    );
    Deno.exit(16);
  }
  Deno.exit(
    await main(Deno.args, undefined, {
      checks: [...builtinChecks, staleUntitledCheck(days)],
      // repairs: [...builtinRepairs, myRepair],  (defineRepair, from mod.ts)
    }),
  );
}
