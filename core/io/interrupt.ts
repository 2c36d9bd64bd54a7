/**
 * Stopping on a signal. A signal reaches the program only as an event, so
 * long synchronous stretches (reading a thousand sessions, applying
 * hundreds of actions through synchronous file calls) never see it: they
 * let events in every few milliseconds and then ask whether to stop. A
 * stop before anything was written throws {@linkcode Interrupted}.
 *
 * @example
 * ```ts
 * import { Interrupted, interruptCheck } from "./interrupt.ts";
 * import type { ScanTask } from "../scan/task.ts";
 * declare const tasks: ScanTask[];
 * declare function run(task: ScanTask): void;
 * let asked = false;
 * Deno.addSignalListener("SIGTERM", () => (asked = true));
 * const stopNow = interruptCheck(() => asked);
 * for (const task of tasks) {
 *   if (await stopNow()) throw new Interrupted("the audit");
 *   run(task);
 * }
 * ```
 * @module
 */

/**
 * Thrown when a signal stops a scan or audit: nothing was written.
 *
 * @example
 * ```ts
 * import { Interrupted } from "./interrupt.ts";
 * import { auditStore } from "../run/audit.ts";
 * import type { ScanOptions } from "../scan/snapshot.ts";
 * import type { Check } from "../plugins/check.ts";
 * declare const scan: ScanOptions;
 * declare const interrupted: () => boolean;
 * declare const checks: Check[];
 * try {
 *   await auditStore({ scan: { ...scan, interrupted }, checks });
 * } catch (error) {
 *   if (error instanceof Interrupted) Deno.exit(32);
 *   throw error;
 * }
 * ```
 */
export class Interrupted extends Error {
  /**
   * An error naming what was stopped.
   *
   * @param during What was stopped, for the message ("the audit").
   */
  constructor(during = "the audit") {
    super(`interrupted by a signal during ${during}`);
    this.name = "Interrupted";
  }
}

/**
 * How long the program may run without letting events (a signal) in.
 *
 * @example
 * ```ts
 * import { interruptCheck, EVENT_SLICE_MS } from "./interrupt.ts";
 * declare const asked: () => boolean;
 * interruptCheck(asked, EVENT_SLICE_MS);
 * ```
 */
export const EVENT_SLICE_MS = 10;

/**
 * A check to call between units of work: every `sliceMs` it lets the
 * events waiting now in (a signal's listener runs then), and it resolves
 * true once `asked` says to stop (never, without `asked`: then it only lets
 * events in).
 *
 * @example
 * ```ts
 * import { interruptCheck, Interrupted } from "./interrupt.ts";
 * declare const asked: boolean;
 * const stopNow = interruptCheck(() => asked);
 * if (await stopNow()) throw new Interrupted("the audit");
 * ```
 */
export function interruptCheck(
  asked: (() => boolean) | undefined,
  sliceMs = EVENT_SLICE_MS,
): () => Promise<boolean> {
  const stop = () => asked?.() ?? false;
  let sliceStart = performance.now();
  return async () => {
    if (stop()) return true;
    if (performance.now() - sliceStart > sliceMs) {
      await nextEvent();
      sliceStart = performance.now();
    }
    return stop();
  };
}

/**
 * Resolves after the events waiting now (a worker's answer, a signal) are
 * handled.
 *
 * @example
 * ```ts
 * import { nextEvent } from "./interrupt.ts";
 * await nextEvent();
 * ```
 */
export function nextEvent(): Promise<void> {
  // A message to itself rather than setTimeout, which waits 4 ms or more
  // when called over and over.
  const { port1, port2 } = new MessageChannel();
  return new Promise((resolve) => {
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(null);
  });
}
