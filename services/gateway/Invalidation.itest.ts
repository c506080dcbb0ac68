import { randomBytes, randomUUID } from "node:crypto"
import { ConfigProvider, Effect, Layer, type Scope } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { AppConfig, appConfig } from "../../shared/config/AppConfig.js"
import { makeNatsLayer, Nats } from "../../shared/layers/Nats.js"
import { ensureScanPathStream, publishFact } from "../../shared/events/ScanPathFacts.js"
import { ScanPathSubjects, testSubjects } from "../../shared/events/ScanPathSubjects.js"
import { captureWarnings } from "../../shared/testing/TestLogs.js"
import { subscribeInvalidations } from "./Invalidation.js"
import { deleteStream } from "./testing/ScanPathHarness.js"

/** Every replica's own subscription gets every fact (not one replica of a shared durable). */
const prefix = `t${randomBytes(4).toString("hex")}`
const subjects = testSubjects(prefix)
const config = Effect.runSync(appConfig.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))))

afterAll(() => deleteStream(`${prefix.toUpperCase()}_${subjects.stream}`))

/** runs a test's subscriptions and publishes on real NATS under this run's subjects, then closes them */
const withNats = (
  effect: Effect.Effect<void, unknown, Nats | AppConfig | ScanPathSubjects | Scope.Scope>,
  logs?: Layer.Layer<never>
) =>
  Effect.runPromise(
    Effect.scoped(effect).pipe(
      Effect.provide(
        Layer.mergeAll(
          makeNatsLayer({ url: "nats://127.0.0.1:4222", streamPrefix: prefix.toUpperCase(), name: prefix }),
          AppConfig.layerWith(config),
          Layer.succeed(ScanPathSubjects, subjects),
          logs ?? Layer.empty
        )
      )
    )
  )

describe("cache invalidation facts", () => {
  it("reach every replica's subscription", async () => {
    const seen: Array<Array<string>> = [[], [], []]
    const replica = (i: number) =>
      subscribeInvalidations({
        owner: (o) => seen[i]!.push(`owner:${o}`),
        garment: (g) => seen[i]!.push(`garment:${g}`)
      })
    const owner = randomUUID()
    const garment = randomUUID()
    await withNats(
      Effect.gen(function* () {
        yield* Effect.all([replica(0), replica(1), replica(2)], { concurrency: "unbounded" })
        yield* ensureScanPathStream
        yield* publishFact(subjects.consentChanged, {
          ownerUserId: owner,
          garmentId: null,
          purpose: "ownership_history",
          granted: false,
          generation: 2
        })
        yield* publishFact(subjects.garmentUpdated, { garmentId: garment, version: 3, generation: 1 })
        yield* Effect.sleep("300 millis")
      })
    )
    for (const s of seen) expect(s).toEqual([`owner:${owner}`, `garment:${garment}`])
  })

  it("drops a fact that is not its subject's schema with a warning naming the problem, and goes on", async () => {
    const seen: Array<string> = []
    const { warnings, layer } = captureWarnings()
    const owner = randomUUID()
    const garment = randomUUID()
    await withNats(
      Effect.gen(function* () {
        yield* subscribeInvalidations({
          owner: (o) => seen.push(`owner:${o}`),
          garment: (g) => seen.push(`garment:${g}`)
        })
        yield* ensureScanPathStream
        const nats = yield* Nats
        yield* nats.publish(subjects.garmentUpdated, "not json")
        yield* nats.publish(subjects.garmentUpdated, JSON.stringify({ version: 3, generation: 1 }))
        yield* nats.publish(subjects.garmentUpdated, JSON.stringify({ garmentId: garment, version: -1 }))
        yield* nats.publish(subjects.consentChanged, JSON.stringify({ ownerUserId: 42, garmentId: null }))
        // a well-formed fact after them is still handled
        yield* publishFact(subjects.garmentUpdated, { garmentId: garment, version: 3, generation: 1 })
        yield* publishFact(subjects.consentChanged, {
          ownerUserId: owner,
          garmentId: null,
          purpose: "owner_identity",
          granted: true,
          generation: 5
        })
        yield* Effect.sleep("300 millis")
      }),
      layer
    )
    expect(seen).toEqual([`garment:${garment}`, `owner:${owner}`])
    const malformed = (subject: string, problem: string) => `ignoring a malformed ${subject} fact: ${problem}`
    expect(warnings).toEqual([
      malformed(subjects.garmentUpdated, "not JSON"),
      malformed(subjects.garmentUpdated, "garmentId: is missing"),
      malformed(subjects.garmentUpdated, "version: must be a non-negative number"),
      malformed(subjects.consentChanged, "ownerUserId: must be string")
    ])
  })
})
