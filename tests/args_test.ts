import assert from "node:assert/strict";
import { parseCommandLine } from "../core/run/args.ts";
import { UsageError } from "../core/run/usage_error.ts";
import { runCli } from "./fixtures.ts";

const OPTIONS = {
  format: { type: "string" },
  check: { type: "string", multiple: true },
  verbose: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

Deno.test("args: values, repeats, flags, short flags and -- as an operator writes them", () => {
  const line = parseCommandLine(
    [
      "audit",
      "--format",
      "json",
      "--check=a",
      "--check",
      "b",
      "-h",
      "--verbose",
      "--format=text",
      "-",
      "--",
      "--not-an-option",
    ],
    OPTIONS,
  );
  assert.deepEqual(line.values, {
    format: "text",
    check: ["a", "b"],
    help: true,
    verbose: true,
  });
  assert.deepEqual(line.positionals, ["audit", "-", "--not-an-option"]);
  assert.equal(parseCommandLine(["--format="], OPTIONS).values.format, "");
  assert.equal(
    parseCommandLine(["--format=-x"], OPTIONS).values.format,
    "-x",
  );
});

Deno.test("args: each mistake is a usage error that names the option", () => {
  const cases: [string[], RegExp][] = [
    [["--nope"], /^unknown option --nope$/],
    [["-x"], /^unknown option -x$/],
    [["--format"], /^option --format needs a value/],
    [["--format", "--verbose"], /^option --format needs a value/],
    [["--verbose=yes"], /^option --verbose takes no value$/],
    [["--__proto__"], /^unknown option --__proto__$/],
  ];
  for (const [args, message] of cases) {
    assert.throws(
      () => parseCommandLine(args, OPTIONS),
      (error) => error instanceof UsageError && message.test(error.message),
      args.join(" "),
    );
  }
});

Deno.test("args: the CLI's option mistakes exit 16 with one line that says what is wrong", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cases: [string[], string][] = [
      [["audit", "--sesion-dir", dir], "unknown option --sesion-dir"],
      [["audit", "--session-dir"], "option --session-dir needs a value"],
      [
        ["audit", "--quiet=1", "--session-dir", dir],
        "option --quiet takes no value",
      ],
    ];
    for (const [args, text] of cases) {
      const run = await runCli(args);
      assert.equal(run.code, 16, args.join(" "));
      assert.match(run.stderr, new RegExp(`^hermes-fsck: ${text}`, "m"));
      assert.equal(run.stdout, "");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
