/**
 * Plugins: checks (metadata plus visitors), repairs (actions as data), the
 * engine that walks the store for the checks, the registry that ties kinds to
 * repairs, and external check programs.
 *
 * - `action.ts`: Actions:
 * - `check.ts`: Check plugins, in the shape of ESLint's rules:
 * - `check_engine.ts`: The engine that runs checks as visitors
 *   (core/plugins/check.ts):
 * - `pipeline.ts`: The audit pipeline:
 * - `plugin_load.ts`: Finds the plugins a run was asked for:
 * - `plugin_protocol.ts`: The protocol between hermes-fsck and an external
 *   check program:
 * - `plugin_runner.ts`: Runs external check programs (plugins):
 * - `registry.ts`: Checks and repairs registered together.
 * - `repair.ts`: Repair plugins.
 * - `session_scope.ts`: The store, or one part of it, cut into one view per
 *   session id:
 *
 * @example
 * ```ts
 * import * as plugins from "./mod.ts";
 * ```
 * @module
 */

export * from "./action.ts";
export * from "./check.ts";
export * from "./check_engine.ts";
export * from "./pipeline.ts";
export * from "./plugin_load.ts";
export * from "./plugin_protocol.ts";
export * from "./plugin_runner.ts";
export * from "./registry.ts";
export * from "./repair.ts";
export * from "./session_scope.ts";
