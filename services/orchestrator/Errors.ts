import { Schema } from "effect"
import { describeCause } from "../../shared/layers/Errors.js"

/** A call through a port (audit, chain, knowledge) failed; the job is retried. */
export class PortFailed extends Schema.TaggedError<PortFailed>()("PortFailed", {
  port: Schema.String,
  operation: Schema.String,
  message: Schema.String
}) {}

/** The job's payload does not match its task's schema: never retried, straight to dead letters. */
export class InvalidPayload extends Schema.TaggedError<InvalidPayload>()("InvalidPayload", {
  task: Schema.String,
  message: Schema.String
}) {}

/** No handler for the job's name on this queue: never retried. */
export class UnknownTask extends Schema.TaggedError<UnknownTask>()("UnknownTask", {
  queue: Schema.String,
  task: Schema.String,
  message: Schema.String
}) {}

/** A webhook endpoint answered non-2xx or could not be reached: retried with backoff. */
export class WebhookDeliveryFailed extends Schema.TaggedError<WebhookDeliveryFailed>()("WebhookDeliveryFailed", {
  url: Schema.String,
  status: Schema.Number,
  message: Schema.String
}) {}

/** A database or broker call inside a task failed: retried. */
export class TaskDependencyFailed extends Schema.TaggedError<TaskDependencyFailed>()("TaskDependencyFailed", {
  operation: Schema.String,
  message: Schema.String
}) {}

/** The worker is shutting down and gives the job back unstarted (moved to wait for another worker at once). */
export class JobHandedBack extends Schema.TaggedError<JobHandedBack>()("JobHandedBack", {
  message: Schema.String
}) {}

/** The error tags that must not be retried. */
export const unrecoverableTags: ReadonlySet<string> = new Set(["InvalidPayload", "UnknownTask"])

/** Wraps any failure of a dependency call as a retryable TaskDependencyFailed. */
export const dependencyFailed = (operation: string) => (e: unknown) =>
  new TaskDependencyFailed({ operation, message: describeCause(e) })
