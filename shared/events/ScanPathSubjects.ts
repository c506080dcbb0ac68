import { Context } from "effect"
import { Subjects, subjectIn } from "../domain/Scan.js"

/**
 * NATS subjects of the scan path's cache-invalidation facts: the platform subjects under the process's
 * NATS_SUBJECT_PREFIX (services/Platform.ts provides them; empty in production). In-process integration
 * tests override them (testSubjects) so parallel runs never see each other. No NATS client here: every
 * process is given its subjects, and only those that use NATS load it (services/Footprint.itest.ts).
 */
export interface ScanPathSubjectsShape {
  readonly consentChanged: string
  readonly garmentUpdated: string
  /** stream name suffix (after NATS_STREAM_PREFIX_) that captures both subjects for durable readers */
  readonly stream: string
}

export class ScanPathSubjects extends Context.Reference<ScanPathSubjects>()("brandme/ScanPathSubjects", {
  defaultValue: (): ScanPathSubjectsShape => scanPathSubjects("")
}) {}

/** the scan-path subjects under a subject prefix (NATS_SUBJECT_PREFIX); the stream keeps its name (NATS_STREAM_PREFIX_SCANPATH) */
export const scanPathSubjects = (prefix: string): ScanPathSubjectsShape => ({
  consentChanged: subjectIn(prefix, Subjects.consentChanged),
  garmentUpdated: subjectIn(prefix, Subjects.garmentUpdated),
  stream: "SCANPATH"
})

export const testSubjects = (prefix: string): ScanPathSubjectsShape => ({
  ...scanPathSubjects(prefix),
  stream: `${prefix.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_SCANPATH`
})
