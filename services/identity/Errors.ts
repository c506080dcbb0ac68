import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { Schema } from "effect"

/** Identity's domain errors; each carries its HTTP status and passes to the response unchanged. */

/** Wrong email or password — deliberately the same answer for both (no account enumeration). */
export class InvalidCredentials extends Schema.TaggedError<InvalidCredentials>()(
  "InvalidCredentials",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 401 })
) {}

export class EmailTaken extends Schema.TaggedError<EmailTaken>()(
  "EmailTaken",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()(
  "InvalidRequest",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 400 })
) {}

export class NotFound extends Schema.TaggedError<NotFound>()(
  "NotFound",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

/** The request conflicts with the current state (code already used, transfer no longer pending, ...). */
export class Conflict extends Schema.TaggedError<Conflict>()(
  "Conflict",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

/** A claim code or transfer offer whose time is up. */
export class Expired extends Schema.TaggedError<Expired>()(
  "Expired",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 410 })
) {}

/** A new password the policy refuses (PasswordPolicy.ts); the message names why, never the password. */
export class WeakPassword extends Schema.TaggedError<WeakPassword>()(
  "WeakPassword",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 400 })
) {}
