/**
 * Content hashes, for preconditions and the quarantine manifest, and random
 * names for temps. Native Web Crypto, which costs nothing at start-up
 * (node:crypto costs about 15 ms to import).
 *
 * @example
 * ```ts
 * import { randomHex, sha256Hex } from "./hash.ts";
 * (await sha256Hex(new TextEncoder().encode("abc"))).slice(0, 8); // "ba7816bf"
 * randomHex(4).length; // 8
 * ```
 * @module
 */

/**
 * The SHA-256 of some bytes, as lowercase hex.
 *
 * @example
 * ```ts
 * await sha256Hex(new Uint8Array()); // "e3b0c442..."
 * ```
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  return hex(digest);
}

/**
 * `count` random bytes as lowercase hex (twice as many characters).
 *
 * @example
 * ```ts
 * randomHex(3); // e.g. "9f04c2"
 * ```
 */
export function randomHex(count: number): string {
  return hex(crypto.getRandomValues(new Uint8Array(count)));
}

function hex(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += byte.toString(16).padStart(2, "0");
  return text;
}
