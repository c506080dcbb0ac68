import { SqlClient } from "@effect/sql"
import { Effect, Layer, Schedule, Schema } from "effect"
import { DependencyError, describeCause } from "../../shared/layers/Errors.js"
import { Nats, type NatsMessage, natsPayload } from "../../shared/layers/Nats.js"
import { Redis } from "../../shared/layers/Redis.js"
import { Metrics } from "../../shared/telemetry/Metrics.js"
import { factDecoder } from "../../shared/events/Facts.js"
import { EventSubjects } from "../../shared/events/ScanEventSubjects.js"
import { DetectorSettings, detect, type Finding } from "./Detector.js"

/**
 * agentic's durable JetStream consumer of `brandme.scan.recorded` (stream `<NATS_STREAM_PREFIX>_SCANS`,
 * subjects `brandme.scan.>`; subjects from EventSubjects). A finding opens an escalation: one `escalations` row per dedupe key
 * (a redelivery inserts nothing), `brandme.compliance.escalation_opened` published with the dedupe
 * key as `Nats-Msg-Id`, and brandme_policy_escalations_total{kind} counted once per new row.
 */
export const ConsumerName = "agentic-pattern-detector"

const ScanRecordedFact = Schema.Struct({
  scanId: Schema.String,
  garmentId: Schema.UUID,
  gtin: Schema.optional(Schema.String),
  regionCode: Schema.String,
  intent: Schema.String,
  outcome: Schema.String,
  scannedAt: Schema.String
})

const scanRecorded = factDecoder(ScanRecordedFact)
const sqlFail = (operation: string) => (e: unknown) =>
  new DependencyError({ dependency: "database", operation, message: describeCause(e) })

export const openEscalation = (f: Finding) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const nats = yield* Nats
    const { m } = yield* Metrics
    const subjects = yield* EventSubjects
    const rows = yield* sql<{ readonly id: string }>`
      INSERT INTO escalations (kind, severity, subject, garment_id, details, dedupe_key)
      VALUES (${f.kind}, ${f.severity}, ${`garment:${f.garmentId}`},
              (SELECT id FROM garments WHERE id = ${f.garmentId}), ${JSON.stringify(f.details)}::jsonb, ${f.dedupeKey})
      ON CONFLICT (dedupe_key) DO NOTHING RETURNING id::text AS id`.pipe(Effect.mapError(sqlFail("escalation insert")))
    const inserted = rows[0]
    if (inserted !== undefined) m.policyEscalationsTotal.inc({ kind: f.kind })
    // published on every sighting: JetStream drops the duplicate by Nats-Msg-Id, so a crash between the
    // insert and the publish is repaired by the redelivery
    yield* nats.publish(
      subjects.escalationOpened,
      natsPayload({
        kind: f.kind,
        severity: f.severity,
        garmentId: f.garmentId,
        dedupeKey: f.dedupeKey,
        details: f.details
      }),
      { "Nats-Msg-Id": f.dedupeKey }
    )
    return inserted !== undefined
  })

export const handleScanRecorded = (msg: NatsMessage) =>
  Effect.gen(function* () {
    const parsed = scanRecorded(msg.data)
    // a malformed message is logged with what is wrong and acked: redelivering it cannot make it valid
    if (parsed._tag === "Left")
      return yield* Effect.logWarning(`agentic: ignoring malformed ${msg.subject} #${msg.seq}: ${parsed.left}`)
    const redis = yield* Redis
    const client = yield* Effect.orDie(redis.cache)
    const settings = yield* DetectorSettings
    const findings = yield* detect(client, redis.key, settings, parsed.right)
    yield* Effect.forEach(findings, openEscalation, { discard: true })
  })

/** Starts the consumer in the background (NATS may come up later) and stops it with the layer. */
export const ScanConsumerLive = Layer.scopedDiscard(
  Effect.gen(function* () {
    const nats = yield* Nats
    const subjects = yield* EventSubjects
    const stream = `${nats.streamPrefix}_${subjects.scanStream.suffix}`
    // a subject belongs to one stream per server: if another stream already captures it, publishes
    // still land there, so a failed ensure is only a warning (the consume below says if it matters)
    const ensure = (name: string, s: ReadonlyArray<string>) =>
      nats
        .ensureStream(name, s)
        .pipe(Effect.catchAll((e) => Effect.logWarning(`stream ${name} not ensured: ${e.message}`)))
    const start = Effect.gen(function* () {
      yield* nats.ping
      yield* ensure(stream, subjects.scanStream.subjects)
      yield* ensure(`${nats.streamPrefix}_${subjects.complianceStream.suffix}`, subjects.complianceStream.subjects)
      yield* nats.consume({
        stream,
        durable: ConsumerName,
        filterSubject: subjects.scanRecorded,
        handler: (m) =>
          handleScanRecorded(m).pipe(Effect.tapError((e) => Effect.logWarning(`agentic: ${e.message}; will redeliver`)))
      })
      yield* Effect.logInfo("agentic: consuming brandme.scan.recorded")
      return yield* Effect.never
    })
    yield* Effect.forkScoped(
      Effect.scoped(start).pipe(
        Effect.tapError((e) => Effect.logDebug(`agentic consumer not started: ${e.message}`)),
        Effect.retry(Schedule.spaced("1 second"))
      )
    )
  })
)
