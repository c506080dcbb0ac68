import { randomBytes, randomUUID } from "node:crypto"
import { ConfigProvider, Effect, Layer } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { AppConfig, appConfig } from "../../shared/config/AppConfig.js"
import { makeNatsLayer } from "../../shared/layers/Nats.js"
import { ensureScanPathStream, publishFact } from "../../shared/events/ScanPathFacts.js"
import { ScanPathSubjects, testSubjects } from "../../shared/events/ScanPathSubjects.js"
import { subscribeInvalidations } from "./Invalidation.js"
import { deleteStream } from "./testing/ScanPathHarness.js"

/** Every replica's own subscription gets every fact (not one replica of a shared durable). */
const prefix = `t${randomBytes(4).toString("hex")}`
const subjects = testSubjects(prefix)
const config = Effect.runSync(appConfig.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))))

afterAll(() => deleteStream(`${prefix.toUpperCase()}_${subjects.stream}`))

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
    await Effect.runPromise(
      Effect.scoped(
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
      ).pipe(
        Effect.provide(
          Layer.mergeAll(
            makeNatsLayer({ url: "nats://127.0.0.1:4222", streamPrefix: prefix.toUpperCase(), name: prefix }),
            AppConfig.layerWith(config),
            Layer.succeed(ScanPathSubjects, subjects)
          )
        )
      )
    )
    for (const s of seen) expect(s).toEqual([`owner:${owner}`, `garment:${garment}`])
  })
})
