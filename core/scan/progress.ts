/**
 * The progress line of a long run, on stderr: while scanning, files
 * scanned, MB/s and the time left; while a repair writes, the repairs of
 * its pass done so far; redrawn in place a few times a second. It appears
 * only when stderr is a terminal (a log file or a pipe gets nothing) and
 * only once a phase has run for about a second (a small store prints
 * nothing), and the CLI erases it before it prints the report, so the
 * report starts on a clean line.
 *
 * @example
 * ```ts
 * import { ProgressLine, showProgress } from "./progress.ts";
 * import { scanStore } from "./snapshot.ts";
 * declare const sessionDir: string;
 * const line = showProgress({ stderrIsTerminal: Deno.stderr.isTerminal(), quiet: false })
 *   ? new ProgressLine((text) => Deno.stderr.writeSync(new TextEncoder().encode(text)))
 *   : null;
 * await scanStore({ sessionDir, stateDbPath: null, onProgress: line?.update });
 * line?.done();
 * ```
 * @module
 */

import type { ScanProgress } from "./snapshot.ts";

/**
 * How far a repair pass has come: the CLI's progress line while it writes.
 *
 * @example
 * ```ts
 * import type { RepairProgress } from "./progress.ts";
 * const progress: RepairProgress = { pass: 1, done: 3, total: 40, elapsedMs: 1500 };
 * ```
 */
export interface RepairProgress {
  /** 1 for the first pass. */
  pass: number;
  /** Repairs of the pass tried so far. */
  done: number;
  /** Repairs the pass will try. */
  total: number;
  /** Time since the pass began its repairs. */
  elapsedMs: number;
}

/**
 * The text of the progress line while a repair pass writes.
 *
 * @example
 * ```ts
 * import { formatRepairProgress } from "./progress.ts";
 * formatRepairProgress({ pass: 1, done: 3, total: 40, elapsedMs: 1500 });
 * // "hermes-fsck: repair pass 1: 3 of 40 repairs done"
 * ```
 */
export function formatRepairProgress(progress: RepairProgress): string {
  return `hermes-fsck: repair pass ${progress.pass}: ${progress.done} of ` +
    `${progress.total} repairs done`;
}

/**
 * A scan shorter than this shows no progress line.
 *
 * @example
 * ```ts
 * import { ProgressLine, PROGRESS_DELAY_MS } from "./progress.ts";
 * declare const write: (text: string) => void;
 * new ProgressLine(write, { delayMs: PROGRESS_DELAY_MS * 2 });
 * ```
 */
export const PROGRESS_DELAY_MS = 1000;

/**
 * The line is redrawn at most this often.
 *
 * @example
 * ```ts
 * import { ProgressLine, PROGRESS_INTERVAL_MS } from "./progress.ts";
 * declare const write: (text: string) => void;
 * new ProgressLine(write, { intervalMs: PROGRESS_INTERVAL_MS });
 * ```
 */
export const PROGRESS_INTERVAL_MS = 250;

/**
 * Whether a run shows a progress line: only on a terminal, never with
 * `--quiet`.
 *
 * @example
 * ```ts
 * import { showProgress } from "./progress.ts";
 * showProgress({ stderrIsTerminal: false, quiet: false }); // false: a pipe or a file
 * ```
 */
export function showProgress(
  options: { stderrIsTerminal: boolean; quiet: boolean },
): boolean {
  return options.stderrIsTerminal && !options.quiet;
}

/**
 * The text of the progress line.
 *
 * @example
 * ```ts
 * import { formatProgress } from "./progress.ts";
 * formatProgress({ filesDone: 500, files: 2000, bytesRead: 50e6, elapsedMs: 2000 });
 * // "hermes-fsck: scanned 500 of 2000 files, 25 MB/s, about 6 s left"
 * ```
 */
export function formatProgress(progress: ScanProgress): string {
  const seconds = progress.elapsedMs / 1000;
  const rate = seconds > 0 ? progress.bytesRead / 1e6 / seconds : 0;
  const left = progress.filesDone > 0
    ? (progress.files - progress.filesDone) * seconds / progress.filesDone
    : NaN;
  const eta = Number.isFinite(left) ? `about ${Math.ceil(left)} s left` : "";
  return `hermes-fsck: scanned ${progress.filesDone} of ${progress.files} ` +
    `files, ${rate.toFixed(0)} MB/s${eta ? `, ${eta}` : ""}`;
}

/**
 * Options of a {@linkcode ProgressLine}.
 *
 * @example
 * ```ts
 * import type { ProgressLineOptions } from "./progress.ts";
 * const options: ProgressLineOptions = { delayMs: 0 }; // from the first file (tests)
 * ```
 */
export interface ProgressLineOptions {
  /** No line before the scan has run this long. */
  delayMs?: number;
  /** At most one redraw per this many milliseconds. */
  intervalMs?: number;
}

/**
 * A progress line that redraws itself in place (carriage return, then
 * erase to the end of the line).
 *
 * @example
 * ```ts
 * import { ProgressLine } from "./progress.ts";
 * declare const chunks: string[];
 * const line = new ProgressLine((text) => chunks.push(text), { delayMs: 0 });
 * line.update({ filesDone: 1, files: 2, bytesRead: 1e6, elapsedMs: 500 });
 * line.done(); // erases it
 * ```
 */
export class ProgressLine {
  #write: (text: string) => void;
  #delayMs: number;
  #intervalMs: number;
  #lastDrawnAt = -Infinity;
  #phase = "";
  #shown = false;

  /** A line that writes through `write` (stderr, in the CLI). */
  constructor(
    write: (text: string) => void,
    options: ProgressLineOptions = {},
  ) {
    this.#write = write;
    this.#delayMs = options.delayMs ?? PROGRESS_DELAY_MS;
    this.#intervalMs = options.intervalMs ?? PROGRESS_INTERVAL_MS;
  }

  /** Takes the scan's progress; redraws when it is due. A bound function. */
  update = (progress: ScanProgress): void => {
    this.#draw("scan", progress.elapsedMs, () => formatProgress(progress));
  };

  /** Takes a repair pass's progress; redraws when it is due. A bound function. */
  repairs = (progress: RepairProgress): void => {
    this.#draw(
      `repair ${progress.pass}`,
      progress.elapsedMs,
      () => formatRepairProgress(progress),
    );
  };

  /**
   * A new phase (the repairs after a scan, the scan of a repair's next
   * audit, whose clock starts again) is drawn at once, past its delay.
   */
  #draw(phase: string, elapsedMs: number, text: () => string): void {
    if (phase !== this.#phase || elapsedMs < this.#lastDrawnAt) {
      this.#phase = phase;
      this.#lastDrawnAt = -Infinity;
    }
    if (elapsedMs < this.#delayMs) return;
    if (elapsedMs - this.#lastDrawnAt < this.#intervalMs) return;
    this.#lastDrawnAt = elapsedMs;
    this.#shown = true;
    this.#write(`\r${text()}\x1b[K`);
  }

  /** Erases the line, if one was drawn. */
  done(): void {
    if (this.#shown) this.#write("\r\x1b[K");
    this.#shown = false;
    this.#lastDrawnAt = -Infinity;
    this.#phase = "";
  }
}
