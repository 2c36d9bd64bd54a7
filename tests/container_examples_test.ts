/**
 * The deployment examples in examples/container/, tested as far as this
 * machine allows (no container runtime or cluster here): each manifest is
 * read by a structural reader (tests/manifest_support.ts; checked against
 * PyYAML where python3 has it), names only commands and flags that
 * `hermes-fsck --help` lists, and its hermes-fsck command line is run for
 * real with `cli.ts` and the binary's permissions in place of the binary:
 * the Kubernetes initContainer's and the compose check's as uid 1000 with a
 * read-only root filesystem and the volume writable (`unshare`), the
 * systemd `ExecStartPre` as root on a store uid 1000 owns. The Dockerfile's
 * download script is run on a file:// URL with a right and a wrong SHA-256;
 * `systemd-analyze verify` checks the unit where it exists.
 *
 * @module
 */

import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { RELEASE_TARGETS } from "../tools/compile.ts";
import {
  CLI_DENO,
  type CliResult,
  cliRunArgs,
  runCli,
  runCommand,
  TestStore,
} from "./fixtures.ts";
import { repoPath } from "./plugin_support.ts";
import { pathsAt } from "./safety_support.ts";
import {
  canMountReadOnlyRoot,
  giveStoreAway,
  IS_ROOT,
  readOnlyRoot,
  withWipedStoreOf,
} from "./owner_support.ts";
import {
  readDockerfile,
  readUnit,
  readYaml,
  words,
  type Yaml,
} from "./manifest_support.ts";

const DIR = repoPath("examples/container");
const read = (name: string) => Deno.readTextFileSync(join(DIR, name));

/** The commands and flags `hermes-fsck --help` lists. */
const HELP = await (async () => {
  const r = await runCli(["--help"]);
  assert.equal(r.code, 0, r.stderr);
  return {
    commands: new Set(
      [...r.stdout.matchAll(/^ {2}hermes-fsck (\w+)/gm)].map((m) => m[1]),
    ),
    flags: new Set([...r.stdout.matchAll(/--[a-z][a-z-]*/g)].map((m) => m[0])),
  };
})();

/** Asserts `argv` is a hermes-fsck command line of commands and flags it has. */
function assertRealCommand(argv: string[], where: string): void {
  assert.equal(basename(argv[0]), "hermes-fsck", where);
  assert.ok(HELP.commands.has(argv[1]), `${where}: command ${argv[1]}`);
  for (const word of argv.slice(2)) {
    if (word.startsWith("--")) {
      assert.ok(HELP.flags.has(word), `${where}: ${word} is not in --help`);
    }
  }
}

/** `argv` with cli.ts under `deno run`, the binary's flags, for the binary. */
function asCli(argv: string[]): string[] {
  return [CLI_DENO, ...cliRunArgs(argv.slice(1))];
}

/** A mapping's value at `path`, asserting each step is there. */
function at(value: Yaml, ...path: (string | number)[]): Yaml {
  let here = value;
  for (const step of path) {
    assert.ok(
      here !== null && typeof here === "object",
      `${path.join(".")}: ${step} of a scalar`,
    );
    here = (here as Record<string, Yaml>)[step];
    assert.ok(here !== undefined, `${path.join(".")}: no ${step}`);
  }
  return here;
}

/** The env list of a container as a record. */
function envOf(container: Yaml): Record<string, string> {
  const env: Record<string, string> = {};
  for (const item of at(container, "env") as Yaml[]) {
    env[String(at(item, "name"))] = String(at(item, "value"));
  }
  return env;
}

/** PyYAML's reading of `text`, or null when python3 has no yaml module. */
async function pyYaml(text: string): Promise<unknown | null> {
  try {
    const out = await new Deno.Command("python3", {
      args: [
        "-c",
        "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))",
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const writer = out.stdin.getWriter();
    await writer.write(new TextEncoder().encode(text));
    await writer.close();
    const result = await out.output();
    if (!result.success) return null;
    return JSON.parse(new TextDecoder().decode(result.stdout));
  } catch {
    return null;
  }
}

const NO_READ_ONLY_ROOT = await canMountReadOnlyRoot();
if (NO_READ_ONLY_ROOT !== null) {
  console.log(
    `skipped: manifest commands with a read-only root: ${NO_READ_ONLY_ROOT}`,
  );
}

/**
 * Runs `argv` (a manifest's hermes-fsck command line, run as cli.ts) as
 * uid 1000 with a read-only root, `volume` mounted where the manifest has
 * `/data`: its env values are moved there.
 */
async function runInPod(
  argv: string[],
  env: Record<string, string>,
  volume: string,
): Promise<CliResult> {
  const moved = Object.fromEntries(
    Object.entries(env).map(([k, v]) => [k, v.replace(/^\/data\b/, volume)]),
  );
  const [command, ...args] = readOnlyRoot([volume], 1000, 1000, asCli(argv));
  return await runCommand(command, args, {
    env: { ...moved, HERMES_FSCK_PLUGIN_DIR: "" },
    cwd: "/",
  });
}

/** A dir everyone may enter, holding a volume dir uid 1000 owns. */
async function withVolume(fn: (volume: string) => Promise<void>) {
  const top = await Deno.makeTempDir({ prefix: "hermes-fsck-volume-" });
  try {
    await Deno.chmod(top, 0o755);
    const volume = join(top, "data");
    await Deno.mkdir(volume);
    await Deno.chown(volume, 1000, 1000);
    await fn(volume);
  } finally {
    await Deno.remove(top, { recursive: true });
  }
}

Deno.test("kubernetes.yaml: a Deployment whose initContainer runs preen as uid 1000 with a read-only root on the server's volume", async () => {
  const text = read("kubernetes.yaml");
  const doc = readYaml(text);
  const python = await pyYaml(text);
  if (python === null) {
    console.log("skipped: PyYAML cross-check (no yaml module)");
  } else assert.deepEqual(doc, python, "the reader agrees with PyYAML");
  assert.equal(at(doc, "kind"), "Deployment");
  assert.equal(at(doc, "spec", "replicas"), 1);
  assert.equal(at(doc, "spec", "strategy", "type"), "Recreate");
  const pod = at(doc, "spec", "template", "spec");
  assert.equal(at(pod, "securityContext", "runAsUser"), 1000);
  assert.equal(at(pod, "securityContext", "runAsNonRoot"), true);
  const [check] = at(pod, "initContainers") as Yaml[];
  const [server] = at(pod, "containers") as Yaml[];
  const argv = (at(check, "command") as Yaml[]).map(String);
  assertRealCommand(argv, "initContainer");
  assert.equal(argv[1], "preen");
  assert.ok(argv.includes("--server-stopped"));
  assert.equal(at(check, "securityContext", "readOnlyRootFilesystem"), true);
  assert.equal(at(check, "securityContext", "allowPrivilegeEscalation"), false);
  assert.deepEqual(at(check, "volumeMounts"), [{
    name: "data",
    mountPath: "/data",
  }]);
  assert.deepEqual(at(server, "volumeMounts"), at(check, "volumeMounts"));
  assert.equal(at(check, "image"), at(server, "image"));
  const env = envOf(check);
  for (const [name, value] of Object.entries(env)) {
    assert.equal(envOf(server)[name], value, `the server's ${name}`);
  }
  const volumes = at(pod, "volumes") as Yaml[];
  assert.equal(at(volumes[0], "name"), "data");
});

Deno.test({
  name:
    "kubernetes.yaml: the initContainer's command, run as uid 1000 with a read-only root: 0 on an empty volume, 0 after repairs, 4 when a person must look",
  ignore: NO_READ_ONLY_ROOT !== null,
  fn: async () => {
    const doc = readYaml(read("kubernetes.yaml"));
    const check =
      (at(doc, "spec", "template", "spec", "initContainers") as Yaml[])[0];
    const argv = (at(check, "command") as Yaml[]).map(String);
    const env = envOf(check);
    await withVolume(async (volume) => {
      const fresh = await runInPod(argv, env, volume);
      assert.equal(fresh.code, 0, fresh.stdout + fresh.stderr);
      assert.match(fresh.stdout, /: fresh install, 0 sessions, /);
      await Deno.mkdir(join(volume, "webui", "sessions"), { recursive: true });
      const sessions = join(volume, "webui", "sessions");
      const store = await TestStore.create();
      try {
        await store.sidecar("wiped", { messages: 1 });
        await store.backup("wiped", { messages: 30 });
        for await (const entry of Deno.readDir(store.sessionDir)) {
          await Deno.copyFile(
            join(store.sessionDir, entry.name),
            join(sessions, entry.name),
          );
        }
      } finally {
        await store.cleanup();
      }
      await giveStoreAway(pathsAt(volume), 1000, 1000);
      await Deno.chown(join(volume, "webui"), 1000, 1000);
      const repaired = await runInPod(argv, env, volume);
      assert.equal(repaired.code, 0, repaired.stdout + repaired.stderr);
      assert.match(
        repaired.stdout,
        /: repaired, 1 session, \d+ repaired, 0 repairable, 0 unsafe/,
      );
      await Deno.writeTextFile(join(sessions, "lost.json.bak"), "{ not json");
      await Deno.chown(join(sessions, "lost.json.bak"), 1000, 1000);
      const stuck = await runInPod(argv, env, volume);
      assert.equal(stuck.code, 4, stuck.stdout + stuck.stderr);
      assert.match(stuck.stdout, /: NOT CLEAN, .*1 unsafe/);
    });
  },
});

Deno.test("docker-compose.yml: the check is a service of its own on the server's volume, and the server waits for it to exit 0", async () => {
  const text = read("docker-compose.yml");
  const doc = readYaml(text);
  const python = await pyYaml(text);
  if (python !== null) {
    assert.deepEqual(doc, python, "the reader agrees with PyYAML");
  }
  const check = at(doc, "services", "hermes-fsck");
  const server = at(doc, "services", "hermes-webui");
  const argv = (at(check, "entrypoint") as Yaml[]).map(String);
  assertRealCommand(argv, "compose check");
  assert.equal(argv[1], "preen");
  assert.equal(
    at(server, "depends_on", "hermes-fsck", "condition"),
    "service_completed_successfully",
  );
  assert.equal(at(check, "user"), "1000:1000");
  assert.equal(at(check, "user"), at(server, "user"));
  assert.equal(at(check, "read_only"), true);
  assert.deepEqual(at(check, "volumes"), at(server, "volumes"));
  assert.deepEqual(at(check, "environment"), at(server, "environment"));
  assert.equal(at(check, "image"), at(server, "image"));
  assert.equal(
    at(check, "build", "dockerfile"),
    "examples/container/Dockerfile",
  );
  assert.ok("hermes-data" in (at(doc, "volumes") as Record<string, Yaml>));
});

Deno.test({
  name:
    "docker-compose.yml: the check's entrypoint, run as uid 1000 with a read-only root on an empty volume, exits 0",
  ignore: NO_READ_ONLY_ROOT !== null,
  fn: async () => {
    const doc = readYaml(read("docker-compose.yml"));
    const check = at(doc, "services", "hermes-fsck");
    const argv = (at(check, "entrypoint") as Yaml[]).map(String);
    const env = Object.fromEntries(
      Object.entries(at(check, "environment") as Record<string, Yaml>).map((
        [k, v],
      ) => [k, String(v)]),
    );
    await withVolume(async (volume) => {
      const r = await runInPod(argv, env, volume);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /fresh install/);
    });
  },
});

Deno.test("hermes-webui.service: ExecStartPre runs preen as root ('+') with flags hermes-fsck has; systemd-analyze verify accepts the unit", async () => {
  const unit = readUnit(read("hermes-webui.service"));
  const service = new Map<string, string[]>();
  for (const [key, value] of unit.Service) {
    service.set(key, [...(service.get(key) ?? []), value]);
  }
  const [pre] = service.get("ExecStartPre")!;
  assert.ok(pre.startsWith("+/"), "the check runs as root");
  const argv = words(pre.slice(1));
  assertRealCommand(argv, "ExecStartPre");
  assert.equal(argv[1], "preen");
  assert.ok(argv.includes("--metrics-file"));
  assert.equal(service.get("User")?.[0], "hermes");
  const analyze = await new Deno.Command("systemd-analyze", {
    args: ["--version"],
    stdout: "null",
    stderr: "null",
  }).output().then((o) => o.success, () => false);
  if (!analyze) {
    console.log("skipped: systemd-analyze verify (no systemd-analyze)");
    return;
  }
  const dir = await Deno.makeTempDir({ prefix: "hermes-fsck-unit-" });
  try {
    // verify wants the programs to exist: stand-ins for the two binaries.
    const copy = join(dir, "hermes-webui.service");
    await Deno.writeTextFile(
      copy,
      read("hermes-webui.service")
        .replaceAll("/usr/local/bin/hermes-fsck", "/bin/true")
        .replaceAll("/usr/local/bin/hermes-webui", "/bin/true"),
    );
    const verify = await runCommand("systemd-analyze", ["verify", copy]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "hermes-webui.service: its ExecStartPre, run as root on a store uid 1000 owns, repairs as uid 1000 and root writes the metrics file",
  ignore: !IS_ROOT,
  fn: async () => {
    const unit = readUnit(read("hermes-webui.service"));
    const pre = unit.Service.find(([k]) => k === "ExecStartPre")![1];
    const env = Object.fromEntries(
      unit.Service.filter(([k]) => k === "Environment").map(([, v]) =>
        v.split("=", 2) as [string, string]
      ),
    );
    await withWipedStoreOf(1000, 1000, async (store, top) => {
      const textfile = join(top, "textfile_collector");
      await Deno.mkdir(textfile, { mode: 0o755 });
      const argv = words(pre.slice(1)).map((word) =>
        word.replace(
          /^\/var\/lib\/node_exporter\/textfile_collector/,
          textfile,
        )
      );
      const r = await runCli(argv.slice(1), {
        env: {
          HERMES_HOME: store.hermesHome,
          HERMES_WEBUI_STATE_DIR: join(store.root, "webui"),
          HERMES_FSCK_PLUGIN_DIR: "",
        },
        cwd: "/",
      });
      assert.deepEqual(Object.keys(env).sort(), [
        "HERMES_HOME",
        "HERMES_WEBUI_STATE_DIR",
      ]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /: repaired, 1 session, /);
      assert.equal((await Deno.stat(store.path("wiped.json"))).uid, 1000);
      const metrics = join(textfile, "hermes_fsck.prom");
      assert.equal((await Deno.stat(metrics)).uid, 0);
      assert.match(
        await Deno.readTextFile(metrics),
        /^hermes_fsck_sessions_checked\{command="preen",session_dir="[^"]+"\} 1$/m,
      );
    });
  },
});

Deno.test("Dockerfile: downloads the release binary of deno.json's version through the SHA-256 check, then runs preen before the server", async () => {
  const steps = readDockerfile(read("Dockerfile"));
  const args = new Map<string, string>();
  for (const [op, rest] of steps) {
    if (op !== "ARG") continue;
    const [name, value] = rest.split("=", 2);
    args.set(name, value ?? "");
  }
  const version =
    JSON.parse(Deno.readTextFileSync(repoPath("deno.json"))).version;
  assert.equal(args.get("HERMES_FSCK_VERSION"), version);
  assert.ok(RELEASE_TARGETS.includes(args.get("HERMES_FSCK_TARGET")!));
  assert.equal(args.get("HERMES_FSCK_SHA256"), "", "no default: pin it");
  const fetch = steps.find(([op, rest]) =>
    op === "RUN" && rest.startsWith("fetch-hermes-fsck.sh ")
  );
  assert.ok(fetch, "the download goes through fetch-hermes-fsck.sh");
  assert.deepEqual(words(fetch[1]).slice(1), [
    "$HERMES_FSCK_RELEASES/v$HERMES_FSCK_VERSION/hermes-fsck-$HERMES_FSCK_TARGET",
    "$HERMES_FSCK_SHA256",
    "/hermes-fsck",
  ]);
  for (const [op, rest] of steps) {
    if (op !== "COPY" || rest.includes("--from=")) continue;
    const source = words(rest).filter((w) => !w.startsWith("--"))[0];
    assert.ok(
      (await Deno.stat(repoPath(source))).isFile,
      `COPY ${source}: the repository has it`,
    );
  }
  const entry = steps.find(([op]) => op === "ENTRYPOINT")!;
  const initCopy = steps.find(([op, rest]) =>
    op === "COPY" && rest.includes("examples/container/init.sh")
  )!;
  assert.deepEqual(JSON.parse(entry[1]), [words(initCopy[1]).at(-1)]);
  assert.match(read("init.sh"), /preen --server-stopped/);
  assert.ok(
    steps.some(([op, rest]) => op === "RUN" && rest.includes('"--version"')),
    "the build runs the binary",
  );
  assert.ok(steps.some(([op, rest]) => op === "USER" && rest === "1000:1000"));
  assert.ok(
    steps.some(([op, rest]) =>
      op === "HEALTHCHECK" && rest.includes("/health")
    ),
  );
});

Deno.test("fetch-hermes-fsck.sh: installs a download whose SHA-256 matches, refuses one that does not and leaves nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hermes-fsck-fetch-" });
  try {
    const release = join(dir, "hermes-fsck-x86_64-unknown-linux-gnu");
    await Deno.writeTextFile(release, "#!/bin/sh\necho hermes-fsck 0.1.0\n");
    const sum = (await runCommand("sha256sum", [release])).stdout.split(" ")[0];
    const script = join(DIR, "fetch-hermes-fsck.sh");
    const dest = join(dir, "bin-hermes-fsck");
    const good = await runCommand("sh", [
      script,
      `file://${release}`,
      sum,
      dest,
    ]);
    assert.equal(good.code, 0, good.stderr);
    assert.equal((await Deno.stat(dest)).mode! & 0o777, 0o755);
    assert.equal((await runCommand(dest, [])).stdout, "hermes-fsck 0.1.0\n");
    await Deno.remove(dest);

    const wrong = "0".repeat(64);
    const bad = await runCommand("sh", [
      script,
      `file://${release}`,
      wrong,
      dest,
    ]);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      new RegExp(`has SHA-256 ${sum}, not ${wrong}: refusing`),
    );
    for (const sha of ["", "xyz", sum.slice(1)]) {
      const r = await runCommand("sh", [
        script,
        `file://${release}`,
        sha,
        dest,
      ]);
      assert.equal(r.code, 1, `SHA-256 ${JSON.stringify(sha)}`);
      assert.match(r.stderr, /SHA256SUMS/);
    }
    const left = [];
    for await (const entry of Deno.readDir(dir)) left.push(entry.name);
    assert.deepEqual(left, [basename(release)], "nothing is left installed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
