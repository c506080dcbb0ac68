import { Context } from "effect"
import { Subjects, subjectIn } from "../domain/Scan.js"

/**
 * The NATS subjects of the scan-event pipeline (orchestrator publishes, agentic consumes) and the
 * streams that capture them: the platform subjects under the process's NATS_SUBJECT_PREFIX
 * (services/Platform.ts provides them; empty in production). In-process integration tests override them
 * with their own prefix (testEventSubjects), since a subject can belong to only one stream per server.
 */
export interface EventSubjectsShape {
  readonly scanRecorded: string
  readonly escalationOpened: string
  /** stream name suffix (after `<NATS_STREAM_PREFIX>_`) and its subjects */
  readonly scanStream: { readonly suffix: string; readonly subjects: ReadonlyArray<string> }
  readonly complianceStream: { readonly suffix: string; readonly subjects: ReadonlyArray<string> }
}

export class EventSubjects extends Context.Reference<EventSubjects>()("brandme/orchestrator/EventSubjects", {
  defaultValue: (): EventSubjectsShape => eventSubjects("")
}) {}

/** the scan-event subjects under a subject prefix (NATS_SUBJECT_PREFIX); the streams keep their names */
export const eventSubjects = (prefix: string): EventSubjectsShape => ({
  scanRecorded: subjectIn(prefix, Subjects.scanRecorded),
  escalationOpened: subjectIn(prefix, Subjects.escalationOpened),
  scanStream: { suffix: "SCANS", subjects: [subjectIn(prefix, "brandme.scan.>")] },
  complianceStream: { suffix: "COMPLIANCE", subjects: [subjectIn(prefix, "brandme.compliance.>")] }
})

export const testEventSubjects = (prefix: string): EventSubjectsShape => {
  const p = prefix.toLowerCase().replace(/[^a-z0-9]/g, "_")
  const s = eventSubjects(p)
  return {
    ...s,
    scanStream: { ...s.scanStream, suffix: `${p.toUpperCase()}_SCANS` },
    complianceStream: { ...s.complianceStream, suffix: `${p.toUpperCase()}_COMPLIANCE` }
  }
}
