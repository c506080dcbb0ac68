import { createServer } from "node:net"
import { Effect, Exit, Layer, Scope } from "effect"
import { demoGarments, loadDemoData } from "../../scripts/DemoData.js"
import { type StartOptions, startServices } from "../../services/Platform.js"
import { AppConfig, type AppConfigShape } from "../config/AppConfig.js"
import { makeDatabaseLayer } from "../layers/Database.js"
import { MetricsPorts, type ServiceName, Services } from "../ServiceCatalog.js"
import { counterSum } from "./Exposition.js"
import { createTestDatabase, type TestDatabase, testConfig, uniqueId } from "./TestDatabase.js"
import { deleteRedisPrefix } from "./TestRedis.js"
import { deleteStreams, subjectPrefixOf } from "./TestStreams.js"

const portIsFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const probe = createServer()
    probe.once("error", () => resolve(false))
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)))
  })

/**
 * A random PORT_OFFSET for a test's services. Every port it gives (service ports up to 8300, metrics ports up to
 * 9490, a few replicas) stays in 13000–32767: below Linux's range for outgoing connections' own ports
 * (ip_local_port_range, 32768–60999), where a connection to Postgres or Redis could take a service port between
 * the check that it is free and the listen (a CI run's Scans.itest failed to listen). `step` spaces offsets apart.
 */
export const randomPortOffset = (step = 1): number =>
  10_000 + Math.floor(Math.random() * Math.floor(13_000 / step)) * step

/**
 * A random port offset at which every port the services will listen on (service and metrics port) is free now:
 * two ports per service, so a blind random offset would meet a busy port (other tests, ephemeral ports) often.
 */
export const freeOffset = async (
  services: ReadonlyArray<ServiceName>,
  pick: () => number = randomPortOffset,
  replicas = 1
): Promise<number> => {
  for (let attempt = 0; ; attempt++) {
    const offset = pick()
    const ports = services.flatMap((s) =>
      Array.from({ length: replicas }, (_, n) => [Services[s].port + offset + n, MetricsPorts[s] + offset + n]).flat()
    )
    const free = await Promise.all(ports.map(portIsFree))
    if (free.every(Boolean) || attempt >= 20) return offset
  }
}

/**
 * Services running in this test process on their own database, key/queue/stream prefixes and a random
 * port offset, so integration tests never collide with each other or with a developer's `npm start`.
 */
export interface TestPlatform {
  readonly db: TestDatabase
  readonly config: AppConfigShape
  readonly url: (service: ServiceName) => string
  /** the service's `/metrics`, on its own metrics port */
  readonly metricsUrl: (service: ServiceName) => string
  readonly close: () => Promise<void>
}

export const startTestPlatform = async (o: {
  readonly label: string
  readonly services: ReadonlyArray<ServiceName>
  readonly demoData?: boolean
  readonly start?: StartOptions
  readonly env?: Record<string, string>
}): Promise<TestPlatform> => {
  const db = await createTestDatabase(o.label)
  const offset = await freeOffset(o.services)
  const streamPrefix = uniqueId(o.label).toUpperCase()
  const keyPrefix = `${uniqueId(o.label)}:`
  const queuePrefix = uniqueId(`${o.label}q`)
  const config = testConfig({
    DATABASE_URL: db.url,
    REDIS_KEY_PREFIX: keyPrefix,
    QUEUE_PREFIX: queuePrefix,
    NATS_STREAM_PREFIX: streamPrefix,
    // the run's own subjects too: a subject belongs to one stream per server
    NATS_SUBJECT_PREFIX: subjectPrefixOf(streamPrefix),
    PORT_OFFSET: String(offset),
    HTTP_HOST: "127.0.0.1",
    LOG_LEVEL: "error",
    // every test request comes from 127.0.0.1: only tests about rate limits (which pass env) meet one
    RATE_LIMIT_PER_IP: "1000000/60",
    RATE_LIMIT_PER_CLIENT: "1000000/60",
    ...o.env
  })
  const configLayer = Layer.succeed(AppConfig, config)
  if (o.demoData === true) {
    await Effect.runPromise(
      loadDemoData.pipe(
        Effect.provide(
          makeDatabaseLayer({
            url: db.url,
            poolMax: 2,
            idleTimeoutMs: 1000,
            connectTimeoutMs: 5000,
            ssl: "disable",
            applicationName: "test-seed"
          })
        ),
        Effect.provide(configLayer)
      )
    )
  }
  const scope = Effect.runSync(Scope.make())
  await Effect.runPromise(
    startServices(o.services, `${o.label}-test`, o.start).pipe(Effect.provide(configLayer), Scope.extend(scope))
  )
  return {
    db,
    config,
    url: (service) => `http://127.0.0.1:${Services[service].port + offset}`,
    metricsUrl: (service) => `http://127.0.0.1:${MetricsPorts[service] + offset}/metrics`,
    close: async () => {
      await Effect.runPromise(Scope.close(scope, Exit.void))
      // nothing of the run stays on the machine's servers: its streams, its keys and queues, its database
      await deleteStreams(streamPrefix)
      await deleteRedisPrefix(keyPrefix)
      await deleteRedisPrefix(`${queuePrefix}:`)
      await db.drop()
    }
  }
}

/** The Digital Link of a demo garment. */
export const demoTag = (i: number): string => {
  const g = demoGarments[i % demoGarments.length]!
  return `https://id.example.com/01/${g.gtin}/21/${g.serial}`
}

/** how many queries of `operation` ("select garments") a service has run, by its own query-timing histogram */
export const queriesRun = async (platform: TestPlatform, service: ServiceName, operation: string): Promise<number> =>
  counterSum(await (await fetch(platform.metricsUrl(service))).text(), "brandme_db_query_duration_seconds_count", {
    operation
  })
