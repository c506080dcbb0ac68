import type { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import type { AppConfig } from "../../shared/config/AppConfig.js"
import type { Nats } from "../../shared/layers/Nats.js"
import type { QueueName, Queues } from "../../shared/layers/Queues.js"
import type { Redis } from "../../shared/layers/Redis.js"
import { InvalidPayload } from "./Errors.js"
import type { AuditPort, ChainPort } from "./Ports.js"
import type { OrchestratorSettings } from "./Settings.js"

/** What every task may use (the scan batch writer too); the orchestrator layer provides it once. */
export type TaskEnv =
  | SqlClient.SqlClient
  | Queues
  | Redis
  | Nats
  | AppConfig
  | OrchestratorSettings
  | AuditPort
  | ChainPort

/** What a handler sees of its BullMQ job. */
export interface JobView {
  readonly id: string
  readonly name: string
  readonly queue: QueueName
  readonly data: unknown
  /** attempts that failed before this one */
  readonly attemptsMade: number
}

/** Decodes a job's data with its task's schema; a mismatch is InvalidPayload (never retried, dead-lettered). */
export const decode =
  <A, I>(task: string, schema: Schema.Schema<A, I>) =>
  (data: unknown) =>
    Schema.decodeUnknown(schema)(data).pipe(
      Effect.mapError((e) => new InvalidPayload({ task, message: e.message.slice(0, 2000) }))
    )
