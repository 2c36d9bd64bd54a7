/**
 * Checks and repairs must agree on which repair fixes which kind: the
 * built-in ones do, and a program of one's own whose do not is refused
 * with exit 8 before it reads the store.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  builtinChecks,
  builtinRepairs,
  defineCheck,
  registryProblems,
} from "../mod.ts";
import { runCli, storeArgs, withStore } from "./fixtures.ts";

const stray = defineCheck({
  id: "stray-check",
  title: "Stray",
  description: "Names a repair that does not list its kind.",
  kinds: [{
    kind: "stray_kind",
    category: "repairable",
    severity: "warning",
    repair: "rebuild_index",
    summary: "Stray.",
    explain: "Stray.",
  }],
  run: () => [],
});

Deno.test("the built-in checks and repairs agree on every kind's repair", () => {
  assert.deepEqual(registryProblems(builtinChecks, builtinRepairs), []);
});

Deno.test("registryProblems names each disagreement", () => {
  const twice = defineCheck({
    ...stray,
    id: "second-check",
    kinds: stray.kinds,
  });
  const missing = defineCheck({
    ...stray,
    id: "third-check",
    kinds: [{
      ...stray.kinds[0],
      kind: "lonely_kind",
      repair: "no_such_repair",
    }],
  });
  const problems = registryProblems(
    [...builtinChecks, stray, twice, missing],
    [...builtinRepairs, { ...builtinRepairs[0], fixes: ["unknown_kind"] }],
  );
  for (
    const expected of [
      "kind stray_kind names repair rebuild_index, whose fixes do not list it",
      "kind stray_kind is declared by checks stray-check and second-check",
      "kind lonely_kind names repair no_such_repair, which is not registered",
      `two repairs have the id ${builtinRepairs[0].id}`,
      `repair ${
        builtinRepairs[0].id
      } fixes unknown_kind, which no check declares`,
    ]
  ) {
    assert.ok(
      problems.some((p) => p.includes(expected)),
      `${expected}\nin: ${problems.join("\n")}`,
    );
  }
});

Deno.test("a program of one's own whose check names a repair that does not fix its kind exits 8 and reads nothing", async () => {
  await withStore(async (store) => {
    await store.sidecar("shrunk", { messages: 1 });
    await store.backup("shrunk", { messages: 5 });
    const program = join(store.root, "my_fsck.ts");
    const mod = new URL("../mod.ts", import.meta.url).href;
    const cli = new URL("../cli.ts", import.meta.url).href;
    await Deno.writeTextFile(
      program,
      `import { builtinChecks, defineCheck } from "${mod}";
import { main } from "${cli}";
const stray = defineCheck({ id: "stray-check", title: "Stray", description: "Stray.",
  kinds: [{ kind: "stray_kind", category: "repairable", severity: "warning",
    repair: "rebuild_index", summary: "Stray.", explain: "Stray." }],
  run: () => [] });
Deno.exit(await main(Deno.args, undefined, { checks: [...builtinChecks, stray] }));
`,
    );
    const before = await Deno.readTextFile(store.path("shrunk.json"));
    const result = await runCli(["repair", ...storeArgs(store, false)], {
      entry: program,
    });
    assert.equal(result.code, 8, result.stderr);
    assert.equal(result.stdout, "");
    assert.match(
      result.stderr,
      /^hermes-fsck: this program's checks and repairs disagree: check stray-check: kind stray_kind names repair rebuild_index, whose fixes do not list it; fix their kinds or fixes and build it again \[exit 8\]\n$/,
    );
    assert.equal(await Deno.readTextFile(store.path("shrunk.json")), before);
    assert.equal(await store.exists("_hermes_fsck"), false);
  });
});
