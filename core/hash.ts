/**
 * Content hashes, for preconditions and the quarantine manifest.
 *
 * @example
 * ```ts
 * import { sha256Hex } from "./hash.ts";
 * sha256Hex(new TextEncoder().encode("abc")).slice(0, 8); // "ba7816bf"
 * ```
 * @module
 */

import { createHash } from "node:crypto";

/**
 * The SHA-256 of some bytes, as lowercase hex.
 *
 * @example
 * ```ts
 * sha256Hex(new Uint8Array()); // "e3b0c442..."
 * ```
 */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
