/**
 * `preen`, the first boot, `--format summary` and `--metrics-file`, as an
 * init script sees them: cli.ts run as a subprocess with the binary's
 * permissions on real stores, the exit code, the output and the files.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type CliResult,
  FAULT_CLI,
  runCli,
  startCli,
  storeArgs,
  TestStore,
  withStore,
} from "./fixtures.ts";
import { serverIndex } from "./check_support.ts";
import { validateReport } from "../core/report/report_schema.ts";
import { cliEnv, show } from "./safety_support.ts";
import { shellPlugin, writeExecutable } from "./plugin_support.ts";
import { IS_ROOT, spawnAs, withWipedStoreOf } from "./owner_support.ts";

/** Runs the CLI with every default path inside the store. */
function cli(
  store: TestStore,
  args: string[],
  env: Record<string, string> = {},
  entry?: string,
): Promise<CliResult> {
  return runCli(args, { env: { ...cliEnv(store), ...env }, entry });
}

/** `preen` on the store with `--metrics-file path`. */
function preenWithMetrics(store: TestStore, path: string): Promise<CliResult> {
  return cli(store, [
    "preen",
    "--metrics-file",
    path,
    ...storeArgs(store, false),
  ]);
}

/** A sidecar wiped to one message beside a backup of 30: repairable. */
async function wiped(store: TestStore): Promise<void> {
  await store.sidecar("wiped", { messages: 1 });
  await store.backup("wiped", { messages: 30 });
}

Deno.test("preen: repairs made exit 0 (repair exits 1 on the same store)", async () => {
  for (const command of ["repair", "preen"]) {
    await withStore(async (store) => {
      await wiped(store);
      const r = await cli(store, [command, ...storeArgs(store, false)]);
      assert.equal(r.code, command === "preen" ? 0 : 1, show(r));
      assert.match(r.stdout, new RegExp(`^hermes-fsck \\S+ ${command} of `));
      const sidecar = await store.readJson("wiped.json") as {
        messages: unknown[];
      };
      assert.equal(sidecar.messages.length, 30, "the backup was restored");
    });
  }
});

Deno.test("preen: a finding that needs a person exits 4; --dry-run with repairs to make exits 4", async () => {
  await withStore(async (store) => {
    await store.sidecar("abc", { messages: 2 });
    await store.writeRaw("lost.json.bak", "{ not json");
    const r = await cli(store, ["preen", ...storeArgs(store, false)]);
    assert.equal(r.code, 4, show(r));
    assert.match(r.stdout, /malformed_orphan_backup/);
  });
  await withStore(async (store) => {
    await wiped(store);
    const r = await cli(store, [
      "preen",
      "--dry-run",
      ...storeArgs(store, false),
    ]);
    assert.equal(r.code, 4, show(r));
    const sidecar = await store.readJson("wiped.json") as {
      messages: unknown[];
    };
    assert.equal(sidecar.messages.length, 1, "a dry run changes nothing");
  });
});

Deno.test("preen: an unsafe finding a person acknowledged no longer stops the server; summary and metrics count it apart", async () => {
  await withStore(async (store) => {
    await wiped(store);
    await store.writeRaw("lost.json.bak", "{ not json");
    const before = await cli(store, ["preen", ...storeArgs(store, false)]);
    assert.equal(before.code, 4, show(before));
    const audit = await cli(store, [
      "audit",
      "--format",
      "json",
      ...storeArgs(store, false),
    ]);
    const [unsafe] = JSON.parse(audit.stdout).findings.filter((
      f: { category: string },
    ) => f.category === "unsafe_to_repair");
    const ack = await cli(store, [
      "acknowledge",
      unsafe.id,
      "--note",
      "a torn copy, kept for the record",
      ...storeArgs(store, false),
    ]);
    assert.equal(ack.code, 0, show(ack));
    const metrics = join(store.root, "hermes_fsck.prom");
    const after = await cli(store, [
      "preen",
      "--format",
      "summary",
      "--metrics-file",
      metrics,
      ...storeArgs(store, false),
    ]);
    assert.equal(after.code, 0, show(after));
    assert.match(
      after.stdout,
      /: clean, 1 session, 0 repairable, 0 unsafe, 1 acknowledged, /,
    );
    const samples = parseMetrics(await Deno.readTextFile(metrics));
    assert.equal(
      valueOf(samples, "hermes_fsck_findings", { category: "acknowledged" }),
      1,
    );
    assert.equal(
      valueOf(samples, "hermes_fsck_findings", {
        category: "unsafe_to_repair",
      }),
      0,
    );
  });
});

Deno.test("preen: an I/O error while repairing exits 8 (never 0 or 1); a bad flag exits 16", async () => {
  await withStore(async (store) => {
    await wiped(store);
    const r = await cli(
      store,
      ["preen", ...storeArgs(store, false)],
      {
        HERMES_FSCK_FAULT_AFTER_STEPS: "1",
        HERMES_FSCK_FAULT_KIND: "io_error",
      },
      FAULT_CLI,
    );
    assert.equal(r.code & 8, 8, show(r));
    assert.equal(r.code & 1, 0, show(r));
    const usage = await cli(store, ["preen", "--prune"]);
    assert.equal(usage.code, 16, show(usage));
    assert.match(usage.stderr, /--prune does not go with preen/);
  });
});

Deno.test("preen: SIGTERM during the run exits 32", async () => {
  await withStore(async (store) => {
    await store.sidecar("abc");
    const mark = join(store.root, "plugin-started");
    const plugin = await writeExecutable(
      store.root,
      "slow.sh",
      shellPlugin([], `touch '${mark}'; sleep 3`),
    );
    const child = startCli(
      ["preen", ...storeArgs(store, false), "--plugin", plugin],
      { env: cliEnv(store) },
    );
    for (let i = 0; i < 200; i++) {
      if (await Deno.lstat(mark).then(() => true, () => false)) break;
      await new Promise((done) => setTimeout(done, 50));
    }
    child.kill("SIGTERM");
    const out = await child.output();
    assert.equal(out.code, 32, new TextDecoder().decode(out.stderr));
  });
});

Deno.test("first boot: preen on a missing session dir without state.db exits 0 with a fresh_install finding", async () => {
  await withStore(async (store) => {
    const dir = join(store.root, "not-yet");
    const r = await cli(store, ["preen", "--session-dir", dir]);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /fresh_install \(1, info/);
    assert.match(r.stdout, /does not exist and there is no state\.db at /);
    const json = await cli(store, [
      "preen",
      "--session-dir",
      dir,
      "--format",
      "json",
    ]);
    assert.equal(json.code, 0, show(json));
    const report = JSON.parse(json.stdout);
    assert.deepEqual(report.findings.map((f: { kind: string }) => f.kind), [
      "fresh_install",
    ]);
    assert.equal(report.exitCode, 0);
    assert.deepEqual(validateReport(report), []);
    assert.ok(
      !(await Deno.lstat(dir).then(() => true, () => false)),
      "preen creates nothing",
    );
    const explain = await cli(store, ["explain", "fresh_install"]);
    assert.equal(explain.code, 0, show(explain));
    assert.match(explain.stdout, /volume that\s+holds them was not mounted/);
  });
});

Deno.test("first boot: audit and repair exit 8 on a missing session dir unless --allow-missing", async () => {
  await withStore(async (store) => {
    const dir = join(store.root, "not-yet");
    for (const command of ["audit", "repair"]) {
      const refused = await cli(store, [command, "--session-dir", dir]);
      assert.equal(refused.code, 8, show(refused));
      assert.match(refused.stderr, /session dir .*not-yet does not exist/);
      const allowed = await cli(store, [
        command,
        "--allow-missing",
        "--session-dir",
        dir,
      ]);
      assert.equal(allowed.code, 0, show(allowed));
      assert.match(allowed.stdout, /fresh_install/);
    }
    // On a store that is there, --allow-missing changes nothing.
    await wiped(store);
    const r = await cli(store, [
      "repair",
      "--allow-missing",
      ...storeArgs(store, false),
    ]);
    assert.equal(r.code, 1, show(r));
  });
});

Deno.test("first boot: a missing session dir beside an existing state.db is not a first boot (exit 8, names both)", async () => {
  await withStore(async (store) => {
    await Deno.writeFile(store.stateDbPath, new Uint8Array());
    const dir = join(store.root, "unmounted");
    for (const args of [["preen"], ["audit", "--allow-missing"]]) {
      const r = await cli(store, [...args, "--session-dir", dir]);
      assert.equal(r.code, 8, show(r));
      assert.ok(
        r.stderr.includes(
          `session dir ${dir} does not exist but state.db ${store.stateDbPath} does: this is not a first boot; mount the volume`,
        ),
        show(r),
      );
    }
  });
});

Deno.test("--format summary: one line, e2fsck style, for a clean, a repaired and a damaged store", async () => {
  await withStore(async (store) => {
    await store.index(serverIndex([await store.sidecar("abc")]));
    const clean = await cli(store, [
      "audit",
      "--format",
      "summary",
      ...storeArgs(store, false),
    ]);
    assert.equal(clean.code, 0, show(clean));
    assert.match(
      clean.stdout,
      /^\/.+\/sessions: clean, 1 session, 0 repairable, 0 unsafe, \d+\.\d\d s\n$/,
    );
  });
  await withStore(async (store) => {
    await wiped(store);
    const r = await cli(store, [
      "preen",
      "--format",
      "summary",
      ...storeArgs(store, false),
    ]);
    assert.equal(r.code, 0, show(r));
    assert.match(
      r.stdout,
      /^\/.+: repaired, 1 session, \d+ repaired, 0 repairable, 0 unsafe, \d+\.\d\d s\n$/,
    );
    await store.writeRaw("lost.json.bak", "{ not json");
    const bad = await cli(store, [
      "audit",
      "--format",
      "summary",
      ...storeArgs(store, false),
    ]);
    assert.equal(bad.code, 4, show(bad));
    assert.match(
      bad.stdout,
      /: NOT CLEAN, 1 session, 0 repairable, 1 unsafe, /,
    );
    assert.equal(bad.stdout.split("\n").length, 2, "one line");
  });
});

/** A textfile collector file, parsed: its samples by name and labels. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * Parses the Prometheus text format as node_exporter's textfile collector
 * reads it: HELP and TYPE lines before each metric's samples, one type
 * each, label values escaped; throws on anything else.
 */
function parseMetrics(text: string): Sample[] {
  assert.ok(text.endsWith("\n"), "the file ends with a newline");
  const samples: Sample[] = [];
  const typed = new Set<string>();
  for (const line of text.slice(0, -1).split("\n")) {
    const meta = /^# (HELP|TYPE) (\w+) (.+)$/.exec(line);
    if (meta) {
      if (meta[1] === "TYPE") {
        assert.ok(!typed.has(meta[2]), `one TYPE line for ${meta[2]}`);
        assert.match(meta[3], /^(gauge|counter)$/);
        typed.add(meta[2]);
      }
      continue;
    }
    const sample = /^([a-zA-Z_:][\w:]*)\{(.*)\} (\S+)$/.exec(line);
    assert.ok(sample, `not a sample line: ${JSON.stringify(line)}`);
    assert.ok(typed.has(sample[1]), `${sample[1]} has a TYPE line before it`);
    const labels: Record<string, string> = {};
    const labelRe = /(\w+)="((?:[^"\\]|\\.)*)"(,|$)/y;
    let match;
    while ((match = labelRe.exec(sample[2])) !== null) {
      labels[match[1]] = match[2].replace(
        /\\(.)/g,
        (_, c) => c === "n" ? "\n" : c,
      );
      if (labelRe.lastIndex === sample[2].length) break;
    }
    assert.equal(labelRe.lastIndex, sample[2].length, `labels of ${line}`);
    const value = Number(sample[3]);
    assert.ok(Number.isFinite(value), `value of ${line}`);
    samples.push({ name: sample[1], labels, value });
  }
  return samples;
}

/** The value of one sample, found by name and some of its labels. */
function valueOf(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return samples.find((s) =>
    s.name === name &&
    Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  )?.value;
}

Deno.test("--metrics-file: the Prometheus text format, by temp file and rename, with every count of the run", async () => {
  await withStore(async (store) => {
    await wiped(store);
    await store.writeRaw("lost.json.bak", "{ not json");
    const dir = join(store.root, "textfile");
    await Deno.mkdir(dir);
    const path = join(dir, "hermes_fsck.prom");
    const before = Date.now();
    const r = await preenWithMetrics(store, path);
    assert.equal(r.code, 4, show(r));
    const samples = parseMetrics(await Deno.readTextFile(path));
    const common = { command: "preen", session_dir: store.sessionDir };
    assert.equal(valueOf(samples, "hermes_fsck_exit_code", common), 4);
    assert.equal(valueOf(samples, "hermes_fsck_sessions_checked", common), 1);
    assert.equal(
      valueOf(samples, "hermes_fsck_findings", {
        category: "unsafe_to_repair",
      }),
      1,
    );
    assert.equal(
      valueOf(samples, "hermes_fsck_findings", { category: "repairable" }),
      0,
    );
    assert.equal(
      valueOf(samples, "hermes_fsck_findings_by_kind", {
        kind: "malformed_orphan_backup",
        category: "unsafe_to_repair",
      }),
      1,
    );
    assert.ok(
      valueOf(samples, "hermes_fsck_repairs", { status: "applied" })! >= 1,
    );
    assert.equal(
      valueOf(samples, "hermes_fsck_repairs", { status: "failed" }),
      0,
    );
    const at = valueOf(samples, "hermes_fsck_last_run_timestamp_seconds")!;
    assert.ok(at >= Math.floor(before / 1000) && at <= Date.now() / 1000);
    assert.ok(valueOf(samples, "hermes_fsck_duration_seconds")! > 0);
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.deepEqual(names, ["hermes_fsck.prom"], "no temp file is left");
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o644);
  });
});

Deno.test("--metrics-file: an operational error still writes the exit code; a planted symlink is replaced, never written through", async () => {
  await withStore(async (store) => {
    const victim = join(store.root, "victim");
    await Deno.writeTextFile(victim, "keep me\n");
    const path = join(store.root, "hermes_fsck.prom");
    await Deno.symlink(victim, path);
    const notDir = join(store.root, "a-file");
    await Deno.writeTextFile(notDir, "");
    const r = await cli(store, [
      "audit",
      "--session-dir",
      notDir,
      "--metrics-file",
      path,
    ]);
    assert.equal(r.code, 8, show(r));
    assert.equal(await Deno.readTextFile(victim), "keep me\n");
    assert.ok((await Deno.lstat(path)).isFile, "the link was replaced");
    const samples = parseMetrics(await Deno.readTextFile(path));
    assert.equal(valueOf(samples, "hermes_fsck_exit_code"), 8);
    assert.equal(valueOf(samples, "hermes_fsck_sessions_checked"), undefined);
  });
});

Deno.test("--metrics-file: a dir that cannot be written is an error that names the file (exit 8)", async () => {
  await withStore(async (store) => {
    await store.sidecar("abc");
    const path = join(store.root, "no-such-dir", "hermes_fsck.prom");
    const r = await cli(store, [
      "audit",
      "--metrics-file",
      path,
      ...storeArgs(store, false),
    ]);
    assert.equal(r.code & 8, 8, show(r));
    assert.ok(
      r.stderr.includes(`cannot write the metrics file ${path}`),
      show(r),
    );
  });
});

const UID = 1000;
const GID = 1000;

/** A repairable store uid 1000 owns, and a textfile dir of `mode`. */
async function withOwnedStore(
  textfileMode: number,
  fn: (store: TestStore, textfile: string) => Promise<void>,
): Promise<void> {
  await withWipedStoreOf(UID, GID, async (store, top) => {
    const textfile = join(top, "textfile");
    await Deno.mkdir(textfile);
    await Deno.chmod(textfile, textfileMode);
    await fn(store, textfile);
  });
}

for (const mode of [0o700, 0o755]) {
  Deno.test({
    name:
      `--metrics-file as root on a store uid 1000 owns: written by root in a textfile dir of mode ${
        mode.toString(8)
      }, with the run's counts, nothing left behind`,
    ignore: !IS_ROOT,
    fn: async () => {
      await withOwnedStore(mode, async (store, textfile) => {
        const path = join(textfile, "hermes_fsck.prom");
        const r = await preenWithMetrics(store, path);
        assert.equal(r.code, 0, show(r));
        const info = await Deno.lstat(path);
        assert.ok(info.isFile);
        assert.equal(info.uid, 0, "written by the invoking user, root");
        const samples = parseMetrics(await Deno.readTextFile(path));
        assert.equal(valueOf(samples, "hermes_fsck_exit_code"), 0);
        assert.equal(valueOf(samples, "hermes_fsck_sessions_checked"), 1);
        assert.ok(
          valueOf(samples, "hermes_fsck_repairs", { status: "applied" })! >= 1,
        );
        const names = [];
        for await (const entry of Deno.readDir(textfile)) {
          names.push(entry.name);
        }
        assert.deepEqual(names, ["hermes_fsck.prom"]);
        const wipedNow = await store.readJson("wiped.json") as {
          messages: unknown[];
        };
        assert.equal(wipedNow.messages.length, 30);
      });
    },
  });
}

Deno.test({
  name:
    "--metrics-file as root: the store's owner swapping the handed-off file for a link to a root-only file never gets it copied",
  ignore: !IS_ROOT,
  fn: async () => {
    await withOwnedStore(0o755, async (store, textfile) => {
      // Valid metrics text, so only the no-follow read keeps it out.
      const secret = join(store.root, "secret.prom");
      await Deno.writeTextFile(
        secret,
        'hermes_fsck_stolen{from="root only"} 1\n',
        { mode: 0o600 },
      );
      await Deno.chmod(secret, 0o600);
      const script = `
const dir = ${JSON.stringify(textfile)};
const secret = ${JSON.stringify(secret)};
const end = Date.now() + 15000;
let n = 0;
while (Date.now() < end) {
  try {
    for (const e of Deno.readDirSync(dir)) {
      if (!e.name.startsWith(".hermes-fsck-metrics.")) continue;
      const link = dir + "/" + e.name + "/evil" + n++;
      try {
        Deno.symlinkSync(secret, link);
        Deno.renameSync(link, dir + "/" + e.name + "/metrics.prom");
      } catch {}
    }
  } catch {}
}`;
      const swapper = spawnAs(script, UID, GID);
      try {
        await new Promise((done) => setTimeout(done, 300)); // it has started
        const path = join(textfile, "hermes_fsck.prom");
        for (let round = 0; round < 3; round++) {
          const r = await preenWithMetrics(store, path);
          assert.ok(r.code === 0, show(r));
          const text = await Deno.readTextFile(path);
          assert.doesNotMatch(text, /stolen|root only/, text);
          assert.equal(
            valueOf(parseMetrics(text), "hermes_fsck_exit_code"),
            0,
          );
        }
      } finally {
        try {
          swapper.kill("SIGKILL");
        } catch { /* it ran its time out already */ }
        await swapper.status;
      }
    });
  },
});

Deno.test({
  name:
    "--metrics-file as root in a dir uid 1000 can change: refused before the store is read (exit 8, names the dir), nothing written there",
  ignore: !IS_ROOT,
  fn: async () => {
    await withOwnedStore(0o755, async (store, textfile) => {
      // The store's owner owns the dir: it could swap it for a link to
      // /etc between root's checks and root's rename.
      await Deno.chown(textfile, UID, GID);
      const path = join(textfile, "hermes_fsck.prom");
      const r = await preenWithMetrics(store, path);
      assert.equal(r.code, 8, show(r));
      assert.ok(
        r.stderr.includes(
          `--metrics-file ${path}: the dir ${textfile} can be changed by uid 1000`,
        ),
        show(r),
      );
      assert.match(r.stderr, /give a path in a dir only root can change/);
      const names = [];
      for await (const entry of Deno.readDir(textfile)) names.push(entry.name);
      assert.deepEqual(names, []);
      const wipedNow = await store.readJson("wiped.json") as {
        messages: unknown[];
      };
      assert.equal(wipedNow.messages.length, 1, "the store was not touched");
    });
  },
});
