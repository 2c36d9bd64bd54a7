/**
 * Tests of core/io/file_read.ts: only regular files are read, never past the
 * size limit, and every failure is a value naming its reason (and, for
 * parse errors, the byte offset).
 */

import { concatBytes } from "./fixtures.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  parseJsonBytes,
  parseJsonText,
  readJsonFile,
  type ReadProblem,
  readRegularFile,
} from "../core/io/file_read.ts";

const encoder = new TextEncoder();
const LIMIT = 1 << 20;

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hermes-fsck-file-read-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function problemOf(
  result: { ok: true } | { ok: false; problem: ReadProblem },
): ReadProblem {
  if (result.ok) assert.fail("expected a problem, got a value");
  return result.problem;
}

Deno.test("file_read: a regular JSON file is read and parsed with its identity", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "abc.json");
    const text = '{"session_id": "abc", "title": "é😀"}';
    await Deno.writeTextFile(path, text);
    const result = await readJsonFile(path, LIMIT);
    assert.ok(result.ok);
    assert.deepEqual(result.value, { session_id: "abc", title: "é😀" });
    assert.equal(result.identity.size, encoder.encode(text).length);
    const info = await Deno.stat(path);
    assert.equal(result.identity.ino, info.ino);
  });
});

Deno.test("file_read: a FIFO named x.json is not_regular_file and never blocks", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "x.json");
    const made = await new Deno.Command("mkfifo", { args: [path] }).output();
    assert.equal(made.code, 0, "mkfifo failed");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), 3000);
    });
    try {
      const outcome = await Promise.race([
        readJsonFile(path, LIMIT),
        timeout,
      ]);
      if (outcome === "timeout") {
        // Unblock the stuck reader so the test process can end.
        const writer = await Deno.open(path, { write: true });
        writer.close();
        assert.fail("reading a FIFO blocked for 3 s");
      }
      const problem = problemOf(outcome);
      assert.equal(problem.reason, "not_regular_file");
      const raw = await readRegularFile(path, LIMIT);
      assert.equal(problemOf(raw).reason, "not_regular_file");
    } finally {
      clearTimeout(timer);
    }
  });
});

Deno.test("file_read: a directory is not_regular_file", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "d.json");
    await Deno.mkdir(path);
    const result = await readJsonFile(path, LIMIT);
    assert.equal(problemOf(result).reason, "not_regular_file");
  });
});

// The binary runs with --allow-read/--allow-write, not -A; these tests run
// with the same granular permissions, under which Deno resolves a path
// before opening it, so O_NOFOLLOW alone does not refuse a symlink.
Deno.test("file_read: a symlink to a regular file is never followed", async () => {
  await withTempDir(async (dir) => {
    const target = join(dir, "real.json");
    await Deno.writeTextFile(target, '{"a": 1}');
    const link = join(dir, "abc.json");
    await Deno.symlink(target, link);
    assert.equal(
      problemOf(await readRegularFile(link, LIMIT)).reason,
      "not_regular_file",
    );
    assert.equal(
      problemOf(await readJsonFile(link, LIMIT)).reason,
      "not_regular_file",
    );
  });
});

Deno.test("file_read: a dangling symlink is not_regular_file, not missing", async () => {
  await withTempDir(async (dir) => {
    const dangling = join(dir, "gone.json");
    await Deno.symlink(join(dir, "nowhere.json"), dangling);
    assert.equal(
      problemOf(await readJsonFile(dangling, LIMIT)).reason,
      "not_regular_file",
    );
  });
});

Deno.test("file_read: a symlink to a directory is not_regular_file", async () => {
  await withTempDir(async (dir) => {
    const dirLink = join(dir, "dir.json");
    await Deno.symlink(dir, dirLink);
    assert.equal(
      problemOf(await readJsonFile(dirLink, LIMIT)).reason,
      "not_regular_file",
    );
  });
});

Deno.test("file_read: a missing file is missing", async () => {
  await withTempDir(async (dir) => {
    const result = await readJsonFile(join(dir, "none.json"), LIMIT);
    assert.equal(problemOf(result).reason, "missing");
  });
});

Deno.test("file_read: an empty file is empty, with its identity", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "e.json");
    await Deno.writeFile(path, new Uint8Array());
    const result = await readJsonFile(path, LIMIT);
    assert.equal(problemOf(result).reason, "empty");
    assert.equal(result.identity?.size, 0);
    // Reading the raw bytes of an empty file is fine.
    const raw = await readRegularFile(path, LIMIT);
    assert.ok(raw.ok);
    assert.equal(raw.value.length, 0);
  });
});

Deno.test("file_read: a file over the limit is too_large and nothing is read", async () => {
  await withTempDir(async (dir) => {
    // A sparse 8 GiB file: reading it would take minutes and all memory.
    const path = join(dir, "huge.json");
    const file = await Deno.open(path, { write: true, create: true });
    await file.truncate(8 * 1024 * 1024 * 1024);
    file.close();
    const started = performance.now();
    const result = await readJsonFile(path, 1024);
    assert.ok(performance.now() - started < 2000, "took too long");
    assert.equal(problemOf(result).reason, "too_large");
    assert.equal("value" in result, false);
    assert.equal(result.identity?.size, 8 * 1024 * 1024 * 1024);

    // The limit itself is allowed; one byte more is not.
    const exact = join(dir, "exact.json");
    await Deno.writeTextFile(exact, "[1, 2, 3]");
    assert.ok((await readJsonFile(exact, 9)).ok);
    assert.equal(problemOf(await readJsonFile(exact, 8)).reason, "too_large");
  });
});

Deno.test("file_read: a file larger than the initial buffer is read whole", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "big.json");
    const value = Array.from({ length: 20000 }, (_, i) => `message ${i}`);
    await Deno.writeTextFile(path, JSON.stringify(value));
    const result = await readJsonFile(path, 64 << 20);
    assert.ok(result.ok);
    assert.deepEqual(result.value, value);
  });
});

Deno.test("file_read: invalid UTF-8 is reported with the byte offset", () => {
  const cases: [Uint8Array, number][] = [
    [concatBytes('{"a": "ab', [0xff], '"}'), 9],
    [concatBytes('{"é": "', [0x80], '"}'), 8],
    // A lead byte cut short by an ASCII byte.
    [concatBytes('["x', [0xe2, 0x82], 'y"]'), 3],
    // A sequence truncated at the end of the file.
    [concatBytes('["😀", "', [0xf0, 0x9f, 0x98]), 10],
  ];
  for (const [input, offset] of cases) {
    const problem = problemOf(parseJsonBytes(input));
    assert.equal(problem.reason, "invalid_utf8");
    assert.equal(problem.offset, offset, `offset in ${input}`);
  }
});

Deno.test("file_read: overlong and surrogate encodings are invalid UTF-8 at their own offset", () => {
  // Python's strict UTF-8 decoder (the server's read_text) rejects these at
  // the first byte of the sequence, as WHATWG's decoder does.
  const cases: [Uint8Array, number][] = [
    [concatBytes('["ab', [0xc0, 0x80], 'cd"]'), 4], // overlong NUL
    [concatBytes('["ab', [0xed, 0xa0, 0x80], '"]'), 4], // UTF-16 surrogate (CESU-8)
    [concatBytes('["ab', [0xf4, 0x90, 0x80, 0x80], '"]'), 4], // above U+10FFFF
  ];
  for (const [input, offset] of cases) {
    const problem = problemOf(parseJsonBytes(input));
    assert.equal(problem.reason, "invalid_utf8");
    assert.equal(problem.offset, offset, `offset in ${input}`);
  }
});

Deno.test("file_read: a UTF-8 byte order mark is invalid_json at offset 0", async () => {
  const input = concatBytes([0xef, 0xbb, 0xbf], '{"a": 1}');
  const problem = problemOf(parseJsonBytes(input));
  assert.equal(problem.reason, "invalid_json");
  assert.equal(problem.offset, 0);
  await withTempDir(async (dir) => {
    const path = join(dir, "bom.json");
    await Deno.writeFile(path, input);
    const read = problemOf(await readJsonFile(path, LIMIT));
    assert.equal(read.reason, "invalid_json");
    assert.equal(read.offset, 0);
  });
});

Deno.test("file_read: truncated JSON gives the byte offset of the end", () => {
  const ascii = '{"session_id": "abc", "messages": [{"role": "user"}, ';
  const problem = problemOf(parseJsonBytes(encoder.encode(ascii)));
  assert.equal(problem.reason, "invalid_json");
  assert.equal(problem.offset, ascii.length);
});

Deno.test("file_read: parse error offsets count bytes, not UTF-16 units", () => {
  // "é" is 2 bytes / 1 unit, "中" 3 bytes / 1 unit, "😀" 4 bytes / 2 units.
  const prefix = '{"title": "é中😀", "messages": [';
  const truncated = encoder.encode(prefix);
  const cut = problemOf(parseJsonBytes(truncated));
  assert.equal(cut.reason, "invalid_json");
  assert.equal(cut.offset, truncated.length);
  assert.notEqual(cut.offset, prefix.length);

  // An error in the middle: an unterminated string after multi-byte text.
  const text = '{"title": "é中😀", "x": "open';
  const mid = problemOf(parseJsonBytes(encoder.encode(text)));
  assert.equal(mid.reason, "invalid_json");
  assert.equal(mid.offset, encoder.encode(text).length);

  // Trailing garbage after a complete value: offset of the garbage.
  const trailing = '{"t": "😀😀"} x';
  const after = problemOf(parseJsonBytes(encoder.encode(trailing)));
  assert.equal(after.reason, "invalid_json");
  assert.equal(after.offset, encoder.encode('{"t": "😀😀"} ').length);

  // A missing comma after multi-byte text.
  const comma = '{"é": 1 "b": 2}';
  const missing = problemOf(parseJsonText(comma));
  assert.equal(missing.offset, encoder.encode('{"é": 1 ').length);
});

Deno.test("file_read: JSON nested 100,000 deep parses without crashing", async () => {
  const depth = 100_000;
  const arrays = "[".repeat(depth) + "]".repeat(depth);
  const parsed = parseJsonBytes(encoder.encode(arrays));
  assert.ok(parsed.ok);
  let value = parsed.value;
  let levels = 0;
  while (Array.isArray(value) && value.length > 0) {
    value = value[0];
    levels++;
  }
  assert.equal(levels, depth - 1);

  const objects = '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
  await withTempDir(async (dir) => {
    const path = join(dir, "deep.json");
    await Deno.writeTextFile(path, objects);
    const result = await readJsonFile(path, LIMIT);
    assert.ok(result.ok);
    // Unbalanced deep nesting is an error value, not a crash.
    const broken = join(dir, "broken.json");
    await Deno.writeTextFile(broken, "[".repeat(depth));
    const problem = problemOf(await readJsonFile(broken, LIMIT));
    assert.equal(problem.reason, "invalid_json");
    assert.equal(problem.offset, depth);
  });
});
