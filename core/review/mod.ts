/**
 * What a person needs to decide: `show`, the review page, `resolve` and
 * `acknowledge`, and the evidence behind a finding.
 *
 * - `acknowledge_command.ts`: The `acknowledge` command of the CLI:
 * - `acknowledged.ts`: Acknowledged findings:
 * - `evidence.ts`: The evidence of one session, for a person deciding what
 *   hermes-fsck cannot:
 * - `resolution_plan.ts`: Planning a person's choice for one finding (`hermes-
 *   fsck resolve ID --keep SOURCE`) as actions for the safety layer, the way a
 *   repair plans:
 * - `resolve.ts`: `hermes-fsck resolve ID --keep SOURCE`:
 * - `resolve_command.ts`: The `resolve` command of the CLI:
 * - `review_commands.ts`: The commands a person can copy to act on a finding:
 * - `review_html.ts`: The review page (`hermes-fsck review --html FILE`,
 *   `audit --format html`):
 * - `show.ts`: `hermes-fsck show ID`:
 * - `show_schema.ts`: The JSON Schema of `show --format json`
 *   (core/review/show.schema.json), embedded as a module so a compiled binary
 *   carries it, with a validator.
 *
 * @example
 * ```ts
 * import * as review from "./mod.ts";
 * ```
 * @module
 */

export * from "./acknowledge_command.ts";
export * from "./acknowledged.ts";
export * from "./evidence.ts";
export * from "./resolution_plan.ts";
export * from "./resolve.ts";
export * from "./resolve_command.ts";
export * from "./review_commands.ts";
export * from "./review_html.ts";
export * from "./show.ts";
export * from "./show_schema.ts";
