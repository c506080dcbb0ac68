import { Schema } from "effect"

/** A dependency (Postgres, Redis, NATS, the queue broker, the chain) failed: one wrapped error at the edge. */
export class DependencyError extends Schema.TaggedError<DependencyError>()("DependencyError", {
  dependency: Schema.String,
  operation: Schema.String,
  message: Schema.String
}) {}

/** A test layer was asked for something it does not implement: fail loudly, naming the method. */
export class NotImplementedInTest extends Schema.TaggedError<NotImplementedInTest>()("NotImplementedInTest", {
  service: Schema.String,
  method: Schema.String
}) {
  override get message(): string {
    return `${this.service}.${this.method} is not implemented by the test layer`
  }
}

export const describeCause = (cause: unknown): string =>
  cause instanceof Error ? cause.message : typeof cause === "string" ? cause : JSON.stringify(cause)
