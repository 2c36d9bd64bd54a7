/**
 * Shared by the hostile-input tests (files, content, journal, state.db,
 * filesystem faults, fuzz): JSON texts no well-behaved writer produces
 * (nested 100,000 deep, huge strings), values of every JSON type for
 * "wrong type" matrices, and the assertions every run on hostile input must
 * pass: an exit code of the documented mask, no uncaught exception, no
 * internal error passed off as an operational one.
 *
 * @example
 * ```ts
 * import { assertSurvived, DEEP_LIST } from "./hostile_support.ts";
 * await store.writeRaw("abc.json", DEEP_LIST);
 * assertSurvived(await cliHere(["audit", ...dirArgs(store)], store));
 * ```
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type CliResult, TestStore } from "./fixtures.ts";
import { IS_ROOT } from "./cli_deno.ts";
import { assertNoUncaught, show } from "./safety_support.ts";

/** How deep the deep JSON texts nest. */
export const DEPTH = 100_000;

/** A list nested {@linkcode DEPTH} deep: `[[[...]]]`. */
export const DEEP_LIST = "[".repeat(DEPTH) + "]".repeat(DEPTH);

/** An object nested {@linkcode DEPTH} deep: `{"a":{"a":...1}}`. */
export const DEEP_OBJECT = '{"a":'.repeat(DEPTH) + "1" + "}".repeat(DEPTH);

/**
 * How deep the nested values of the "every field" matrices go: past every
 * recursion limit of the engine (String() of a list overflows near 3,000
 * levels, an indented JSON.stringify near 5,000) at a tenth of the parse
 * time of {@linkcode DEPTH}; the tests of deep input use the full depth.
 */
export const FIELD_DEPTH = 10_000;

/** A list nested {@linkcode FIELD_DEPTH} deep. */
export const NESTED_LIST = "[".repeat(FIELD_DEPTH) + "]".repeat(FIELD_DEPTH);

/** An object nested {@linkcode FIELD_DEPTH} deep. */
export const NESTED_OBJECT = '{"a":'.repeat(FIELD_DEPTH) + "1" +
  "}".repeat(FIELD_DEPTH);

/** A JSON string of 1 MiB (huge for a title or an id, and cheap to repeat). */
export const HUGE_STRING = JSON.stringify("x".repeat(1 << 20));

/**
 * Raw JSON texts of one value of every JSON type, plus the hostile ones
 * (nested past every recursion limit, huge): each replaces a field in the
 * "wrong type" matrices and the fuzz.
 */
export const WRONG_VALUES: readonly string[] = [
  "7",
  "-1.5",
  "0",
  '"text"',
  '""',
  '"1778458000"',
  "null",
  "true",
  "false",
  "[]",
  '[1, "a"]',
  "{}",
  '{"a": 1}',
  NESTED_LIST,
  NESTED_OBJECT,
  HUGE_STRING,
];

const PLACEHOLDER = "\u0001hostile-raw-json\u0001";

/**
 * JSON text of `value` with `field` (top level, or of every element of the
 * (top level) replaced by the raw JSON text `raw`, compact or indented as
 * the server writes. Key order is kept; a missing field is added at the end.
 *
 * @example
 * ```ts
 * withRawField({ a: 1, b: 2 }, "a", DEEP_LIST); // '{"a":[[[...]]],"b":2}'
 * ```
 */
export function withRawField(
  value: Record<string, unknown>,
  field: string,
  raw: string,
  pretty = false,
): string {
  const copy = { ...value, [field]: PLACEHOLDER };
  // Only the plain call is safe for a nested value: a replacer or an
  // indent (even null) makes V8 recurse.
  const text = pretty ? JSON.stringify(copy, null, 2) : JSON.stringify(copy);
  return text.replace(JSON.stringify(PLACEHOLDER), raw);
}

/** Exit codes a run may end with on hostile input (the mask of 0, 1, 4). */
export const SURVIVED_CODES: ReadonlySet<number> = new Set([0, 1, 4, 5]);

/**
 * Error texts of a crash passed off as an operational error: the CLI turns
 * any exception into one line and exit 8, so a test must look at the text.
 */
const INTERNAL_ERROR =
  /Maximum call stack|Cannot read propert|is not a function|is not iterable|undefined is not|of undefined|of null|Invalid string length|out of memory|RangeError|TypeError|ReferenceError|SyntaxError|internal:/;

/**
 * Asserts that a run on hostile input ended the way the CLI contract says:
 * an exit code in `allowed` (0, 1, 4, 5 by default), no uncaught exception
 * or stack trace, and no internal error message on stderr.
 *
 * @example
 * ```ts
 * assertSurvived(await cliHere(["repair", ...dirArgs(store)], store), new Set([4]));
 * ```
 */
export function assertSurvived(
  r: CliResult,
  allowed: ReadonlySet<number> = SURVIVED_CODES,
  context = "",
): void {
  assertNoUncaught(r);
  assert.doesNotMatch(
    r.stderr,
    INTERNAL_ERROR,
    `${context}: an internal error:\n${show(r)}`,
  );
  assert.ok(
    allowed.has(r.code),
    `${context}: exit ${r.code} not in {${[...allowed]}}\n${show(r)}`,
  );
}

/**
 * CLI arguments for a JSON report of `command` on a session dir, without
 * state.db.
 *
 * @example
 * ```ts
 * await cliHere(jsonArgs("audit", store.sessionDir), store);
 * ```
 */
export function jsonArgs(
  command: string,
  sessionDir: string,
  ...extra: string[]
): string[] {
  return [
    command,
    "--session-dir",
    sessionDir,
    "--no-state-db",
    "--format",
    "json",
    ...extra,
  ];
}

/** A finding as the JSON report prints it. */
export interface ReportedFinding {
  kind: string;
  category: string;
  sessionId?: string;
  paths: string[];
  message: string;
  evidence: Record<string, unknown>;
}

/** The JSON report of a run, with the findings before a repair too. */
export interface ParsedReport {
  exitCode: number;
  findings: ReportedFinding[];
  repair?: {
    before: { findings: ReportedFinding[] };
    actions: {
      repair: string;
      sessionId?: string;
      status: string;
      detail?: string;
      actions: { path: string; status: string; reason?: string }[];
    }[];
  };
}

/** Parses a `--format json` report, failing with the run's output. */
export function parsedReport(r: CliResult): ParsedReport {
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new assert.AssertionError({
      message: `not a JSON report:\n${show(r)}`,
    });
  }
}

/**
 * Every finding of a report (before and after a repair) and every repair
 * record: none may be a crashed check or a failed planning.
 */
export function assertNoCrashInside(report: ParsedReport, context = ""): void {
  const all = [...report.findings, ...(report.repair?.before.findings ?? [])];
  const crashed = all.filter((f) => f.kind === "check_failed");
  assert.deepEqual(
    crashed.map((f) => f.message),
    [],
    `${context}: a check crashed`,
  );
  const failed = (report.repair?.actions ?? []).filter((a) =>
    a.status === "failed"
  );
  assert.deepEqual(
    failed.map((a) => `${a.repair}: ${a.detail}`),
    [],
    `${context}: a repair failed`,
  );
}

/** Runs `fn` with a timer that fails the test after `ms`. */
export async function withinMs<T>(
  ms: number,
  what: string,
  fn: () => Promise<T>,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} took more than ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([fn(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether a program is on PATH (`strace`, `setpriv`, `mknod`). */
export function hasProgram(name: string): boolean {
  try {
    return new Deno.Command("sh", {
      args: ["-c", `command -v ${name}`],
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
}

/** True when this process runs as root (so EACCES needs dropped capabilities). */
export { IS_ROOT };

/**
 * The command prefix that runs a program without the power to read files
 * it has no permission for: as root, `setpriv` drops CAP_DAC_OVERRIDE and
 * CAP_DAC_READ_SEARCH (so a mode 000 file is EACCES even for root); as
 * another user, nothing is needed. Null when neither works here.
 */
export const WITHOUT_DAC_OVERRIDE: string[] | null = !IS_ROOT
  ? []
  : hasProgram("setpriv")
  ? ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
  : null;

/**
 * How long a CLI run on hostile input may take before it is killed and
 * the test fails (runCli's `timeoutMs`): a runaway guard, with room for a
 * loaded machine.
 *
 * @example
 * ```ts
 * await runCli(args, { prefix: WITHOUT_DAC_OVERRIDE!, timeoutMs: RUN_LIMIT_MS });
 * ```
 */
export const RUN_LIMIT_MS = 60_000;

/** Runs a shell command; whether it succeeded, and its stderr. */
export function sh(command: string): { ok: boolean; err: string } {
  const out = new Deno.Command("sh", {
    args: ["-c", command],
    stdout: "null",
    stderr: "piped",
  }).outputSync();
  return { ok: out.success, err: new TextDecoder().decode(out.stderr) };
}

/** Whether this machine lets the tests mount a tmpfs (root with CAP_SYS_ADMIN). */
export const CAN_MOUNT: boolean = (() => {
  if (!IS_ROOT || !hasProgram("mount")) return false;
  const dir = Deno.makeTempDirSync({ prefix: "hermes-fsck-mount-probe-" });
  try {
    if (!sh(`mount -t tmpfs -o size=64k tmpfs '${dir}'`).ok) return false;
    sh(`umount '${dir}'`);
    return true;
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
})();

/** The suffix of a test name that needs a mount, when it is skipped. */
export const MOUNT_NOTE: string = CAN_MOUNT
  ? ""
  : " (skipped: mounting a tmpfs is not allowed here)";

/** Runs `fn` with a store on a fresh tmpfs of `size`, unmounted after. */
export async function withTmpfsStore(
  size: string,
  fn: (store: TestStore, mountPoint: string) => Promise<void>,
): Promise<void> {
  const mountPoint = await Deno.makeTempDir({ prefix: "hermes-fsck-fs-" });
  const mounted = sh(`mount -t tmpfs -o size=${size} tmpfs '${mountPoint}'`);
  assert.ok(mounted.ok, mounted.err);
  try {
    const store = await TestStore.create(mountPoint);
    await fn(store, mountPoint);
  } finally {
    // Any bind mount below first, then the tmpfs itself.
    sh(`umount -R '${mountPoint}'`);
    await Deno.remove(mountPoint, { recursive: true });
  }
}

/**
 * Fills the filesystem of `root` with 4 KiB files in `root/filler`, then
 * frees `pagesFree` of them: room for a few small files only. Returns the
 * filler dir (remove it to free the space).
 */
export async function fillDisk(
  root: string,
  pagesFree: number,
): Promise<string> {
  const filler = join(root, "filler");
  await Deno.mkdir(filler);
  let pages = 0;
  try {
    for (;; pages++) {
      await Deno.writeFile(join(filler, `${pages}`), new Uint8Array(4096));
    }
  } catch (error) {
    assert.equal((error as { code?: string }).code, "ENOSPC");
  }
  for (let k = 1; k <= pagesFree; k++) {
    await Deno.remove(join(filler, `${pages - k}`));
  }
  return filler;
}
