/**
 * A small JSON Schema validator for the subset hermes-fsck's own schemas
 * use (`type`, `const`, `enum`, `properties`, `required`, `items`,
 * `additionalProperties`, `pattern`, `minimum`, `maximum`, `minLength`,
 * `anyOf`, local `$ref`). Zero dependencies, for the report schema and for checking
 * what external plugins print.
 *
 * @example
 * ```ts
 * import { validateJson } from "./json_schema.ts";
 * validateJson({ type: "object", required: ["a"] }, {}); // ["$: missing required property \"a\""]
 * ```
 * @module
 */

/**
 * A JSON Schema (the subset this validator understands).
 *
 * @example
 * ```ts
 * import type { JsonSchema } from "./json_schema.ts";
 * const schema: JsonSchema = { type: "object", required: ["kind"] };
 * ```
 */
export type JsonSchema = { [keyword: string]: unknown };

/**
 * Validates a value; returns the problems found (empty when valid), each as
 * `<path>: <what is wrong>`.
 *
 * @example
 * ```ts
 * import { validateJson } from "./json_schema.ts";
 * validateJson({ type: "integer", minimum: 0 }, -1); // ["$: -1 is below the minimum 0"]
 * ```
 */
export function validateJson(
  schema: JsonSchema,
  value: unknown,
  root: JsonSchema = schema,
): string[] {
  const problems: string[] = [];
  visit(schema, value, "$", root, problems);
  return problems;
}

function visit(
  schema: JsonSchema,
  value: unknown,
  path: string,
  root: JsonSchema,
  out: string[],
): void {
  if (typeof schema.$ref === "string") {
    visit(resolveRef(root, schema.$ref), value, path, root, out);
    return;
  }
  if (Array.isArray(schema.anyOf)) {
    const tries = (schema.anyOf as JsonSchema[]).map((option) =>
      validateJson(option, value, root)
    );
    if (!tries.some((problems) => problems.length === 0)) {
      out.push(
        `${path}: matches none of its ${tries.length} forms (${
          tries.map((problems) => problems[0]).join("; ")
        })`,
      );
      return;
    }
  }
  if ("const" in schema && !sameJson(schema.const, value)) {
    out.push(`${path}: must be ${JSON.stringify(schema.const)}`);
    return;
  }
  if (
    Array.isArray(schema.enum) && !schema.enum.some((v) => sameJson(v, value))
  ) {
    out.push(
      `${path}: must be one of ${
        schema.enum.map((v) => JSON.stringify(v)).join(", ")
      }`,
    );
    return;
  }
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => hasType(value, String(t)))) {
      out.push(`${path}: must be of type ${types.join(" or ")}`);
      return;
    }
  }
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum) {
      out.push(`${path}: ${value} is below the minimum ${schema.minimum}`);
    }
    if (typeof schema.maximum === "number" && value > schema.maximum) {
      out.push(`${path}: ${value} is above the maximum ${schema.maximum}`);
    }
  }
  if (typeof value === "string") {
    if (
      typeof schema.minLength === "number" && value.length < schema.minLength
    ) {
      out.push(`${path}: must have at least ${schema.minLength} characters`);
    }
    if (
      typeof schema.pattern === "string" &&
      !new RegExp(schema.pattern, "u").test(value)
    ) {
      out.push(`${path}: must match ${schema.pattern}`);
    }
  }
  if (Array.isArray(value) && isSchema(schema.items)) {
    value.forEach((item, i) =>
      visit(schema.items as JsonSchema, item, `${path}[${i}]`, root, out)
    );
  }
  if (isObject(value)) {
    const properties = isSchema(schema.properties)
      ? schema.properties as Record<string, JsonSchema>
      : {};
    if (Array.isArray(schema.required)) {
      for (const key of schema.required) {
        if (!(key in value)) {
          out.push(`${path}: missing required property ${JSON.stringify(key)}`);
        }
      }
    }
    for (const [key, item] of Object.entries(value)) {
      const child = `${path}.${key}`;
      if (key in properties) visit(properties[key], item, child, root, out);
      else if (schema.additionalProperties === false) {
        out.push(`${child}: is not allowed`);
      } else if (isSchema(schema.additionalProperties)) {
        visit(
          schema.additionalProperties as JsonSchema,
          item,
          child,
          root,
          out,
        );
      }
    }
  }
}

function resolveRef(root: JsonSchema, ref: string): JsonSchema {
  if (!ref.startsWith("#/")) {
    throw new TypeError(`only local $ref is supported, not ${ref}`);
  }
  let node: unknown = root;
  for (const part of ref.slice(2).split("/")) {
    node = isObject(node)
      ? node[part.replaceAll("~1", "/").replaceAll("~0", "~")]
      : undefined;
  }
  if (!isSchema(node)) throw new TypeError(`$ref ${ref} does not resolve`);
  return node as JsonSchema;
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case "null":
      return value === null;
    case "boolean":
      return typeof value === "boolean";
    case "string":
      return typeof value === "string";
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "integer":
      return Number.isInteger(value);
    case "array":
      return Array.isArray(value);
    case "object":
      return isObject(value);
    default:
      return false;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isSchema(value: unknown): boolean {
  return isObject(value);
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
