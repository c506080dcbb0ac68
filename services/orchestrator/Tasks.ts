import { SqlClient } from "@effect/sql"
import { Effect, Either, Option, Redacted, Schema } from "effect"
import { AppConfig } from "../../shared/config/AppConfig.js"
import { Queues } from "../../shared/layers/Queues.js"
import { appendAuditEntries } from "./AuditAppend.js"
import type { Metrics } from "../../shared/telemetry/Metrics.js"
import { dependencyFailed, InvalidPayload, TaskDependencyFailed, UnknownTask } from "./Errors.js"
import * as P from "./Payloads.js"
import { AuditPort, ChainPort } from "./Ports.js"
import { jobOptionsFor, queueFor, safeJobId, type TaskName, TaskNames } from "./Routing.js"
import type { ScanBatcher } from "./scans/Batcher.js"
import { persistScanJob } from "./scans/Job.js"
import { OrchestratorSettings } from "./Settings.js"
import { decode, type JobView, type TaskEnv } from "./TaskContext.js"
import { deliver, openWebhookSecret, recordDelivery } from "./Webhooks.js"

const dep = dependencyFailed

// ---- audit --------------------------------------------------------------------------------------

/** One entry (policy versions, jurisdiction changes, …), appended once by its key. */
const appendAuditEntry = (job: JobView) =>
  Effect.gen(function* () {
    const p = yield* decode(TaskNames.appendAuditEntry, P.AppendAuditEntry)(job.data)
    const r = yield* appendAuditEntries([p])
    return { index: r.indexes[0] ?? -1, duplicate: r.duplicates > 0 }
  })

// ---- notifications ------------------------------------------------------------------------------

const SubRow = Schema.Struct({ id: Schema.String, url: Schema.String, secret_sealed: Schema.Uint8ArrayFromSelf })

export const sendNotification = (p: P.SendNotification) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const queues = yield* Queues
    let stored = false
    if (p.userId !== null) {
      const rows = yield* sql`
        INSERT INTO notifications (user_id, kind, payload, idempotency_key)
        VALUES (${p.userId}, ${p.kind}, ${JSON.stringify(p.payload)}::jsonb, ${p.idempotencyKey})
        ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`.pipe(Effect.mapError(dep("notifications insert")))
      stored = rows.length > 0
    }
    let webhooks = 0
    if (p.brandId !== null) {
      const subs = yield* sql`
        SELECT id::text AS id, url, secret_sealed FROM webhook_subscriptions
        WHERE brand_id = ${p.brandId} AND disabled_at IS NULL AND ${p.kind} = ANY(events)`.pipe(
        Effect.flatMap(Schema.decodeUnknown(Schema.Array(SubRow))),
        Effect.mapError(dep("webhook subscriptions"))
      )
      const body = JSON.stringify({ id: p.idempotencyKey, event: p.kind, data: p.payload })
      const q = yield* queues.queue(queueFor(TaskNames.deliverWebhook)).pipe(Effect.orDie)
      yield* Effect.tryPromise({
        try: () =>
          q.addBulk(
            subs.map((s) => ({
              name: TaskNames.deliverWebhook,
              data: { subscriptionId: s.id, event: p.kind, deliveryId: p.idempotencyKey, body },
              opts: jobOptionsFor(TaskNames.deliverWebhook, { jobId: safeJobId("wh", s.id, p.idempotencyKey) })
            }))
          ),
        catch: dep("enqueue webhooks")
      })
      webhooks = subs.length
    }
    return { stored, webhooks }
  })

const deliverWebhook = (job: JobView) =>
  Effect.gen(function* () {
    const p = yield* decode(TaskNames.deliverWebhook, P.DeliverWebhook)(job.data)
    const sql = yield* SqlClient.SqlClient
    const config = yield* AppConfig
    const settings = yield* OrchestratorSettings
    const rows = yield* sql`
      SELECT id::text AS id, url, secret_sealed FROM webhook_subscriptions
      WHERE id = ${p.subscriptionId} AND disabled_at IS NULL`.pipe(
      Effect.flatMap(Schema.decodeUnknown(Schema.Array(SubRow))),
      Effect.mapError(dep("webhook subscription"))
    )
    const sub = rows[0]
    // a subscription disabled or deleted since the event: nothing to deliver
    if (sub === undefined) return { delivered: false }
    const secret = openWebhookSecret(Redacted.value(config.notifications.webhookSecret), sub.secret_sealed)
    if (Either.isLeft(secret)) return yield* new InvalidPayload({ task: job.name, message: secret.left })
    const outcome = yield* Effect.either(
      deliver({
        url: sub.url,
        secret: secret.right,
        event: p.event,
        deliveryId: p.deliveryId,
        body: p.body,
        timeoutMs: settings.webhookTimeoutMs
      })
    )
    // every attempt is recorded for the console (the brand's "deliveries"), success or not
    yield* recordDelivery({
      subscriptionId: sub.id,
      deliveryId: p.deliveryId,
      event: p.event,
      status: Either.isRight(outcome) ? outcome.right : outcome.left.status,
      ok: Either.isRight(outcome),
      error: Either.isRight(outcome) ? null : outcome.left.message
    }).pipe(Effect.mapError(dep("webhook delivery record")))
    if (Either.isLeft(outcome)) return yield* outcome.left
    return { delivered: true, status: outcome.right }
  })

// ---- maintenance (beat) -------------------------------------------------------------------------

const cleanup = (job: JobView) =>
  Effect.gen(function* () {
    yield* decode(job.name, P.Maintenance)(job.data)
    const sql = yield* SqlClient.SqlClient
    const s = yield* OrchestratorSettings
    const count = (rows: ReadonlyArray<unknown>) => rows.length
    const sessions = yield* sql`DELETE FROM sessions WHERE expires_at < now() RETURNING id`
    const claims =
      yield* sql`DELETE FROM claim_codes WHERE claimed_at IS NULL AND expires_at < now() RETURNING code_hash`
    const notes = yield* sql`DELETE FROM notifications
      WHERE created_at < now() - make_interval(days => ${s.notificationRetentionDays}) RETURNING id`
    const scans = yield* sql`DELETE FROM scan_events
      WHERE scanned_at < now() - make_interval(days => ${s.scanRetentionDays}) RETURNING id`
    return {
      sessions: count(sessions),
      claimCodes: count(claims),
      notifications: count(notes),
      scanEvents: count(scans)
    }
  }).pipe(
    Effect.mapError((e) =>
      e._tag === "SqlError" ? new TaskDependencyFailed({ operation: "cleanup", message: e.message }) : e
    )
  )

const verifyAuditIntegrity = (job: JobView) =>
  Effect.gen(function* () {
    yield* decode(job.name, P.Maintenance)(job.data)
    const r = yield* (yield* AuditPort).verify
    if (!r.ok) yield* Effect.logError(`audit integrity: ${r.problems} problem(s) at tree size ${r.treeSize}`)
    return r
  })

const syncChain = (job: JobView) =>
  Effect.flatMap(decode(job.name, P.Maintenance)(job.data), () => Effect.flatMap(ChainPort, (c) => c.syncConfirmations))

const submitChainAnchor = (job: JobView) =>
  Effect.gen(function* () {
    const p = yield* decode(TaskNames.submitChainAnchor, P.SubmitChainAnchor)(job.data)
    return yield* (yield* ChainPort).anchorCheckpoint(p)
  })

/** Signs a checkpoint when the tree grew and hands it to submit_chain_anchor (one job per size). */
const checkpointAndAnchor = (job: JobView) =>
  Effect.gen(function* () {
    yield* decode(job.name, P.Maintenance)(job.data)
    const cp = yield* (yield* AuditPort).checkpoint
    if (Option.isNone(cp)) return { anchored: false }
    const queues = yield* Queues
    yield* queues
      .add(
        queueFor(TaskNames.submitChainAnchor),
        TaskNames.submitChainAnchor,
        cp.value,
        jobOptionsFor(TaskNames.submitChainAnchor, { jobId: safeJobId("anchor", String(cp.value.treeSize)) })
      )
      .pipe(Effect.mapError(dep("enqueue anchor")))
    return { anchored: true, treeSize: cp.value.treeSize }
  })

/** What a handler may use: the tasks' environment, the scans worker's batcher, the metrics. */
export type HandlerEnv = TaskEnv | ScanBatcher | Metrics

/** Every task's handler, by task name (the scan task's is the scan slice's, `scans/Job.ts`); the workers look jobs up here. */
export const handlers = {
  persist_scan_event: persistScanJob,
  append_audit_entry: appendAuditEntry,
  submit_chain_anchor: submitChainAnchor,
  send_notification: (job: JobView) =>
    Effect.gen(function* () {
      const p = yield* decode(TaskNames.sendNotification, P.SendNotifications)(job.data)
      const sent = yield* Effect.forEach(p.notifications, sendNotification)
      return { stored: sent.filter((r) => r.stored).length, webhooks: sent.reduce((n, r) => n + r.webhooks, 0) }
    }),
  deliver_webhook: deliverWebhook,
  cleanup,
  verify_audit_integrity: verifyAuditIntegrity,
  sync_chain_confirmations: syncChain,
  checkpoint_and_anchor: checkpointAndAnchor
} satisfies Record<TaskName, (job: JobView) => Effect.Effect<unknown, unknown, HandlerEnv>>

const isHandled = (name: string): name is TaskName => Object.hasOwn(handlers, name)

export const handlerFor = (
  name: string
): Option.Option<(job: JobView) => Effect.Effect<unknown, unknown, HandlerEnv>> =>
  isHandled(name) ? Option.some(handlers[name]) : Option.none()

export const unknownTask = (queue: string, task: string) =>
  new UnknownTask({ queue, task, message: `no handler for ${task} on ${queue}` })
