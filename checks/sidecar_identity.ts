/**
 * Sidecars that parse but are not the session their name says: a
 * `session_id` other than the file name's (in a live file or its `.bak`),
 * or a live file the server cannot keep as this session (not a JSON object,
 * or without a non-empty string `session_id`). Keys the server defaults
 * when missing (`title`, `created_at`, `updated_at`, `messages`,
 * `message_count`, newer keys) are not findings. Never rewritten.
 *
 * @example
 * ```ts
 * import { sidecarIdentity } from "./sidecar_identity.ts";
 * import { runChecks } from "../core/plugins/pipeline.ts";
 * import type { StoreSnapshot } from "../core/scan/store_snapshot.ts";
 * declare const store: StoreSnapshot;
 * const findings = await runChecks(store, [sidecarIdentity], { now: Date.now(), serverStopped: false });
 * ```
 * @module
 */

import { defineCheck } from "../core/plugins/check.ts";
import type { FindingDraft } from "../core/report/finding.ts";
import type { SidecarSummary } from "../core/store/sidecar_summary.ts";
import { messageCountOf } from "../core/scan/store_facts.ts";
import { liveReplacement } from "../core/store/live_replacement.ts";
import {
  EVIDENCE_CHARS,
  shortText,
  showJson,
} from "../core/report/shown_value.ts";

/** The `sidecar-identity` check. */
export const sidecarIdentity = defineCheck({
  id: "sidecar-identity",
  title: "Sidecars that are not the session their name says",
  description:
    "Reports sidecars whose session_id differs from their file name and " +
    "live sidecars without the keys the server needs to load them.",
  kinds: {
    session_id_mismatch: {
      category: "unsafe_to_repair",
      severity: "error",
      summary: "A sidecar's session_id is not the id in its file name.",
      explain:
        "The server opens <sid>.json by its file name but saves a session " +
        "to the file its session_id names, and the index lists it under " +
        "that inner id. So the next save writes this conversation into " +
        "another session's file (or a new one), and the sidebar shows an " +
        "entry that opens a different session. A backup with a foreign " +
        "session_id would put that other session in place if restored. " +
        "It comes from a copy or restore under the wrong name, or from " +
        "corruption; which of the two ids is right cannot be told from the " +
        "file, and rewriting either could overwrite another session, so " +
        "hermes-fsck never rewrites it (unsafe_to_repair). With the server " +
        "stopped, decide which session the file holds (the evidence gives " +
        "both ids): rename it to <session_id>.json if that name is free, " +
        "or set session_id to the file's id by hand. Until then " +
        "rebuild_index leaves the file out of the index (the server's " +
        "own rebuild lists it under the inner id, an entry that opens " +
        "another session or none).",
    },
    sidecar_missing_keys: {
      category: "unsafe_to_repair",
      severity: "error",
      summary: "A live sidecar is not a JSON object or lacks its session_id.",
      explain:
        "The server loads a sidecar with Session(**json): it must be a " +
        "JSON object. Without a non-empty string session_id the session " +
        "gets a new random id and its next save goes to a second file " +
        "(every version, May to August 2026). Keys the server fills in " +
        "when they are missing are not reported: title (Untitled), " +
        "created_at and updated_at (the load time), messages ([]), " +
        "message_count (len(messages), persisted since v0.51.139) and the " +
        "keys newer versions added. hermes-fsck never rewrites the file " +
        "(unsafe_to_repair): add session_id by hand (the file name's id) " +
        "with the server stopped. When a parsable .bak or a newer " +
        "interrupted save will replace the file, that finding " +
        "(shrunken_live, interrupted_save) is reported instead.",
    },
  },
  create: (context) => {
    const options = context.options;
    return {
      session({ files: session, store }) {
        const { sessionId, live, backup } = session;
        const liveMessages = messageCountOf(live);
        const bakMessages = messageCountOf(backup);
        const counts = { liveMessages, bakMessages };
        if (live?.read.ok && !liveReplacement(store, session, options)) {
          const summary = live.read.value;
          const inner = summary.meta.session_id;
          if (
            typeof inner === "string" && inner !== "" && inner !== sessionId
          ) {
            context.report(
              mismatch(sessionId, live.name, inner, "live", counts),
            );
          }
          const missing = missingKeys(summary);
          if (missing.length > 0) {
            context.report({
              kind: "sidecar_missing_keys",
              sessionId,
              paths: [live.name],
              message: summary.shape === "object"
                ? `${live.name} lacks ${missing.join(", ")}.`
                : `${live.name} is a JSON ${summary.shape}, not an object.`,
              evidence: { ...counts, shape: summary.shape, missing },
            });
          }
        }
        if (backup?.read.ok) {
          const inner = backup.read.value.meta.session_id;
          if (
            typeof inner === "string" && inner !== "" && inner !== sessionId
          ) {
            context.report(
              mismatch(sessionId, backup.name, inner, "backup", counts),
            );
          }
        }
      },
    };
  },
});

function mismatch(
  sessionId: string,
  name: string,
  inner: string,
  file: "live" | "backup",
  counts: { liveMessages: number; bakMessages: number },
): FindingDraft {
  return {
    kind: "session_id_mismatch",
    sessionId,
    paths: [name],
    message: `${name} holds the session_id ${showJson(inner)}.`,
    evidence: {
      ...counts,
      file,
      sessionIdInFile: shortText(inner, EVIDENCE_CHARS),
    },
  };
}

/**
 * What a live sidecar lacks (everything, when it is not an object);
 * `session_id` and `messages` count as missing when they are not a
 * non-empty string and a list.
 */
function missingKeys(summary: SidecarSummary): string[] {
  if (summary.shape !== "object") return ["session_id"];
  // Only a missing id is dangerous: the server defaults title ("Untitled"),
  // created_at/updated_at (the load time) and messages ([]) without
  // splitting the session, while without an id its next save writes a
  // second file under a random id.
  const missing: string[] = [];
  const id = summary.meta.session_id;
  if (typeof id !== "string" || id === "") missing.push("session_id");
  // A `messages` that is there but not a list is not defaulted: the
  // server keeps it as the transcript, which then cannot be shown.
  if (summary.messageCount < 0 && summary.keys.includes("messages")) {
    missing.push("messages");
  }
  return missing;
}
