import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from "node:crypto"
import { SqlClient } from "@effect/sql"
import { Effect, Either } from "effect"
import { WebhookDeliveryFailed } from "./Errors.js"

/**
 * Webhook signing: HMAC-SHA256 over `<timestamp>.<body>` with the subscription's secret, sent as
 * `X-Brandme-Signature: t=<unix seconds>,v1=<hex>` (receivers recompute it and reject old timestamps).
 *
 * `webhook_subscriptions.secret_sealed` holds the subscription secret sealed with AES-256-GCM under
 * SHA-256("brandme-webhook:" + WEBHOOK_SIGNING_SECRET), laid out iv (12) ‖ ciphertext ‖ tag (16).
 * Whoever creates subscriptions seals with `sealWebhookSecret`.
 */
export const SignatureHeader = "X-Brandme-Signature"

export const signatureFor = (secret: string, timestamp: number, body: string): string =>
  `t=${timestamp},v1=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`

const keyFrom = (masterSecret: string) => createHash("sha256").update(`brandme-webhook:${masterSecret}`).digest()

export const sealWebhookSecret = (masterSecret: string, secret: string): Uint8Array => {
  const iv = randomBytes(12)
  const c = createCipheriv("aes-256-gcm", keyFrom(masterSecret), iv)
  const body = Buffer.concat([c.update(secret, "utf8"), c.final()])
  return new Uint8Array(Buffer.concat([iv, body, c.getAuthTag()]))
}

export const openWebhookSecret = (masterSecret: string, sealed: Uint8Array): Either.Either<string, string> => {
  if (sealed.length < 29) return Either.left("sealed secret too short")
  try {
    const b = Buffer.from(sealed)
    const d = createDecipheriv("aes-256-gcm", keyFrom(masterSecret), b.subarray(0, 12))
    d.setAuthTag(b.subarray(b.length - 16))
    return Either.right(Buffer.concat([d.update(b.subarray(12, b.length - 16)), d.final()]).toString("utf8"))
  } catch {
    return Either.left("sealed secret does not open with WEBHOOK_SIGNING_SECRET")
  }
}

/** One delivery attempt: 2xx is success, anything else (or no answer) fails so the job retries. */
export const deliver = (o: {
  readonly url: string
  readonly secret: string
  readonly event: string
  readonly deliveryId: string
  readonly body: string
  readonly timeoutMs: number
  readonly now?: () => number
}) =>
  Effect.gen(function* () {
    const ts = Math.floor((o.now ?? Date.now)() / 1000)
    const res = yield* Effect.tryPromise({
      try: (signal) =>
        fetch(o.url, {
          method: "POST",
          body: o.body,
          signal: AbortSignal.any([signal, AbortSignal.timeout(o.timeoutMs)]),
          headers: {
            "content-type": "application/json",
            [SignatureHeader]: signatureFor(o.secret, ts, o.body),
            "X-Brandme-Event": o.event,
            "X-Brandme-Delivery": o.deliveryId
          }
        }),
      catch: (e) =>
        new WebhookDeliveryFailed({ url: o.url, status: 0, message: e instanceof Error ? e.message : String(e) })
    })
    // drain the body so the connection is reused
    yield* Effect.promise(() => res.arrayBuffer().catch(() => undefined))
    if (res.status < 200 || res.status > 299)
      return yield* new WebhookDeliveryFailed({ url: o.url, status: res.status, message: `answered ${res.status}` })
    return res.status
  }).pipe(Effect.withSpan("Webhooks.deliver"))

/** Records one delivery attempt (the notifications worker calls it after each try). */
export const recordDelivery = (d: {
  readonly subscriptionId: string
  readonly deliveryId: string
  readonly event: string
  readonly status: number
  readonly ok: boolean
  readonly error: string | null
}) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`
      INSERT INTO webhook_deliveries (subscription_id, delivery_id, event, attempt, status, ok, error)
      SELECT ${d.subscriptionId}::uuid, ${d.deliveryId}, ${d.event},
             (SELECT count(*) + 1 FROM webhook_deliveries
              WHERE subscription_id = ${d.subscriptionId}::uuid AND delivery_id = ${d.deliveryId}),
             ${d.status}, ${d.ok}, ${d.error === null ? null : d.error.slice(0, 2000)}
      WHERE EXISTS (SELECT 1 FROM webhook_subscriptions WHERE id = ${d.subscriptionId}::uuid)`.pipe(Effect.asVoid)
  )
