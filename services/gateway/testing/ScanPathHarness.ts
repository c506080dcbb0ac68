/**
 * Integration harness for the scan path: its own database (brandme_t_<random>), Redis key prefix,
 * queue prefix and NATS subjects; brain, policy and knowledge servers and any number of gateway
 * replicas (each with its own caches and NATS subscription) on their own ports.
 */
import { randomBytes, randomUUID } from "node:crypto"
import { jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { SqlClient } from "@effect/sql"
import { ConfigProvider, Effect, Exit, Layer, Redacted, Scope } from "effect"
import { Redis as IORedis } from "ioredis"
import { migrateUp } from "../../../migrations/Migrator.js"
import { makeTokens, type Principal, SESSION_TTL_SECONDS, sessionKey } from "../../../shared/auth/Tokens.js"
import { AppConfig, type AppConfigShape, appConfig } from "../../../shared/config/AppConfig.js"
import { lookupHash, masterKeyBytes, newSubjectKey, seal, wrapSubjectKey } from "../../../shared/crypto/Pii.js"
import { withCheckDigit } from "../../../shared/domain/Gtin.js"
import { dropDatabase, ensureDatabase } from "../../../shared/layers/Admin.js"
import { makeDatabaseLayer } from "../../../shared/layers/Database.js"
import { makeNatsLayer } from "../../../shared/layers/Nats.js"
import { makeQueuesLayer } from "../../../shared/layers/Queues.js"
import { makeRedisLayer } from "../../../shared/layers/Redis.js"
import { HealthPaths, MetricsPorts, Services } from "../../../shared/ServiceCatalog.js"
import { freeOffset, randomPortOffset } from "../../../shared/testing/TestPlatform.js"
import { BrainHttpLive } from "../../brain/Http.js"
import { KnowledgeHttpLive } from "../../knowledge/Http.js"
import { deleteRedisPrefix } from "../../../shared/testing/TestRedis.js"
import { deleteStreams } from "../../../shared/testing/TestStreams.js"
import { EventSubjects, testEventSubjects } from "../../../shared/events/ScanEventSubjects.js"
import { OrchestratorHttpLive } from "../../orchestrator/Http.js"
import { relayScanLogOnce } from "../../orchestrator/testing/ScanLog.js"
import { PolicyHttpLive } from "../../policy/Http.js"
import { HttpCalls, InProcessCalls } from "../Calls.js"
import { ScanPathSubjects, testSubjects } from "../../../shared/events/ScanPathSubjects.js"
import { gatewayWith } from "../Http.js"

export const JWT_SECRET = "scan-path-test-secret-0123456789abcdef"

export interface Seed {
  readonly brandId: string
  readonly otherBrandId: string
  readonly users: Readonly<Record<"owner" | "otherOwner" | "brand" | "otherBrand" | "auditor" | "admin", string>>
  readonly ownerName: string
  /** owned by users.owner, with a claim in ownership_events */
  readonly owned: { readonly id: string; readonly gtin: string; readonly serial: string }
  /** not owned by anyone */
  readonly unowned: { readonly id: string; readonly gtin: string; readonly serial: string }
}

const random = () => randomBytes(4).toString("hex")

export const makeHarness = async (name: string) => {
  const id = random()
  const dbUrl = `postgres://postgres@127.0.0.1:5432/brandme_t_${id}`
  const prefix = `t${id}`
  // every port the harness may open (gateway replicas 0–2, the backends, the orchestrator) free at that offset
  const portOffset = await freeOffset(
    ["gateway", "brain", "policy", "knowledge", "orchestrator"],
    () => randomPortOffset(50),
    3
  )
  // tests that are not about rate limits must never meet one: every request comes from 127.0.0.1
  const env = (offset: number, extra: Readonly<Record<string, string>> = {}) =>
    new Map([
      ["RATE_LIMIT_PER_IP", "1000000/60"],
      ["RATE_LIMIT_PER_CLIENT", "1000000/60"],
      ["DATABASE_URL", dbUrl],
      ["DATABASE_POOL_MAX", "4"],
      ["REDIS_KEY_PREFIX", `${prefix}:`],
      ["QUEUE_PREFIX", prefix],
      ["NATS_STREAM_PREFIX", prefix.toUpperCase()],
      // the subjects the in-process parts use too (testSubjects, testEventSubjects): service processes started
      // on this env (the benches) publish and listen where the harness does, never on the platform's subjects
      ["NATS_SUBJECT_PREFIX", prefix],
      ["JWT_SECRET", JWT_SECRET],
      ["PORT_OFFSET", String(offset)],
      ["HTTP_HOST", "127.0.0.1"],
      ["HTTP_MAX_BODY_BYTES", "65536"],
      ["SHUTDOWN_GRACE_MS", "200"],
      ...Object.entries(extra)
    ])
  const configAt = (offset: number, extra?: Readonly<Record<string, string>>): AppConfigShape =>
    Effect.runSync(appConfig.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(env(offset, extra)))))
  const config = configAt(portOffset)
  await ensureDatabase(dbUrl)
  const subjects = testSubjects(prefix)
  const eventSubjects = testEventSubjects(prefix)
  const infra = (c: AppConfigShape, proc: string) =>
    Layer.mergeAll(
      makeDatabaseLayer({
        url: dbUrl,
        poolMax: 4,
        idleTimeoutMs: 10_000,
        connectTimeoutMs: 3_000,
        ssl: "disable",
        applicationName: proc
      }),
      makeRedisLayer({ url: "redis://127.0.0.1:6379", keyPrefix: `${prefix}:`, connectionName: proc }),
      makeNatsLayer({ url: "nats://127.0.0.1:4222", streamPrefix: prefix.toUpperCase(), name: proc }),
      makeQueuesLayer({ url: "redis://127.0.0.1:6379", prefix, name: proc }),
      AppConfig.layerWith(c),
      Layer.succeed(ScanPathSubjects, subjects),
      Layer.succeed(EventSubjects, eventSubjects)
    )
  const scope = Effect.runSync(Scope.make())
  const build = <A, E>(layer: Layer.Layer<A, E, never>) =>
    Effect.runPromise(Layer.buildWithScope(layer, scope).pipe(Effect.asVoid))
  const run = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>) =>
    Effect.runPromise(effect.pipe(Effect.provide(infra(config, `${name}-setup`)), Effect.scoped))
  await run(migrateUp().pipe(Effect.asVoid))
  const tokens = await makeTokens({
    issuer: config.auth.jwtIssuer,
    secret: JWT_SECRET,
    privateKeyPem: undefined,
    publicKeyPem: undefined
  })
  const redis = new IORedis("redis://127.0.0.1:6379")

  const url = (service: "gateway" | "brain" | "policy" | "knowledge", offset = portOffset) =>
    `http://127.0.0.1:${Services[service].port + offset}`
  /** a service's `/metrics` on its metrics port; gateway replica n at `n` */
  const metricsUrl = (service: "gateway" | "brain" | "policy" | "knowledge", n = 0) =>
    `http://127.0.0.1:${MetricsPorts[service] + portOffset + n}${HealthPaths.metrics}`

  /** brain, policy and knowledge servers (needed for HTTP calls and for consent/garment endpoints) */
  // each service is built on its own (its own router), as services/Platform.ts does
  const startBackends = () => {
    const backendInfra = infra(config, `${name}-backend`)
    return Promise.all([
      build(BrainHttpLive.pipe(Layer.provide(backendInfra))),
      build(PolicyHttpLive.pipe(Layer.provide(backendInfra))),
      build(KnowledgeHttpLive.pipe(Layer.provide(backendInfra)))
    ])
  }

  /**
   * one gateway replica; replica n > 0 listens on its own port (offset + n) with its own caches;
   * `env` adds settings of that replica only (e.g. RATE_LIMIT_PER_IP)
   */
  const startGateway = (n: number, mode: "inprocess" | "http", env?: Readonly<Record<string, string>>) => {
    const offset = portOffset + n
    const c = configAt(offset, env)
    const calls =
      mode === "inprocess"
        ? InProcessCalls
        : HttpCalls({ brain: url("brain"), policy: url("policy"), knowledge: url("knowledge") })
    return build(gatewayWith(calls).pipe(Layer.provide(infra(c, `${name}-gw${n}`)))).then(() => url("gateway", offset))
  }

  /** the scan log relayed into `scans` jobs now, as the orchestrator's relay does while it runs */
  const relayScanLog = () =>
    relayScanLogOnce(makeQueuesLayer({ url: "redis://127.0.0.1:6379", prefix, name: `${name}-relay` }))

  /** the orchestrator (its workers persist the `scans` queue into scan_events) on its own port */
  const startOrchestrator = () => build(OrchestratorHttpLive.pipe(Layer.provide(infra(config, `${name}-orchestrator`))))

  const seed = (): Promise<Seed> =>
    run(
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const master = masterKeyBytes(Redacted.value(config.privacy.piiMasterKey))
        const [brand] = yield* sql<{
          id: string
        }>`INSERT INTO brands (slug, name) VALUES (${`b-${id}`}, 'Brand') RETURNING id`
        const [other] = yield* sql<{
          id: string
        }>`INSERT INTO brands (slug, name) VALUES (${`o-${id}`}, 'Other') RETURNING id`
        // jurisdiction: where the person lives (users.region_code); null = unknown, the strictest regime
        const user = (role: string, displayName: string, brandId: string | null, jurisdiction: string | null = null) =>
          Effect.gen(function* () {
            const key = newSubjectKey()
            const [row] = yield* sql<{ id: string }>`
              INSERT INTO users (email_hash, display_name_sealed, role, brand_id, region_code)
              VALUES (${lookupHash(master, `${randomUUID()}@t`)}, ${seal(key, displayName)}, ${role}, ${brandId},
                      ${jurisdiction})
              RETURNING id`
            yield* sql`INSERT INTO subject_keys (subject_id, key) VALUES (${row!.id}, ${wrapSubjectKey(master, key)})`
            return row!.id
          })
        const users = {
          owner: yield* user("owner", "Olivia Owner", null, "US-NY"),
          otherOwner: yield* user("owner", "Otto Other", null),
          brand: yield* user("brand", "Bruno Brand", brand!.id),
          otherBrand: yield* user("brand", "Oscar Other", other!.id),
          auditor: yield* user("auditor", "Ada Auditor", null),
          admin: yield* user("admin", "Alex Admin", null)
        }
        const facets = {
          materials: [{ fibre: "linen", percent: 100 }],
          origin: { country: "PT", facility: "Mill 1" },
          supply_chain: [{ step: "sewing", country: "PT", at: "2026-03-15" }],
          care: { wash: "30C gentle" },
          certifications: [{ name: "GOTS", id: "GOTS-1" }]
        }
        const garment = (serial: string, owner: string | null) =>
          Effect.gen(function* () {
            const gtin = withCheckDigit("0950600013435")
            const [row] = yield* sql<{ id: string }>`
              INSERT INTO garments (brand_id, gtin, serial, name, facets, owner_user_id)
              VALUES (${brand!.id}, ${gtin}, ${serial}, 'Linen overshirt', ${JSON.stringify(facets)}::jsonb, ${owner})
              RETURNING id`
            if (owner !== null) {
              yield* sql`INSERT INTO ownership_events (garment_id, kind, to_user_id) VALUES (${row!.id}, 'claimed', ${owner})`
            }
            return { id: row!.id, gtin, serial }
          })
        return {
          brandId: brand!.id,
          otherBrandId: other!.id,
          users,
          ownerName: "Olivia Owner",
          owned: yield* garment("SN-OWNED-1", users.owner),
          unowned: yield* garment("SN-FREE-2", null)
        }
      })
    )

  /** a signed-in caller: a JWT from Tokens plus the live-session key identity would set */
  const tokenFor = async (p: Omit<Principal, "sessionId">, opts: { ttl?: number; live?: boolean } = {}) => {
    const sessionId = randomUUID()
    if (opts.live !== false) await redis.set(`${prefix}:${sessionKey(sessionId)}`, p.userId, "EX", SESSION_TTL_SECONDS)
    const token = await Effect.runPromise(tokens.issue({ ...p, sessionId }, opts.ttl ?? 600))
    return { token, sessionId, revoke: () => redis.del(`${prefix}:${sessionKey(sessionId)}`) }
  }

  const close = async () => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    redis.disconnect()
    // its keys and its queues' (`${prefix}:scans:…`): one prefix
    await deleteRedisPrefix(`${prefix}:`)
    // every stream of the run: the in-process parts' and those service processes made on its env
    await deleteStreams(prefix.toUpperCase())
    await dropDatabase(dbUrl)
  }

  return {
    config,
    prefix,
    subjects,
    url,
    metricsUrl,
    startBackends,
    startGateway,
    startOrchestrator,
    relayScanLog,
    seed,
    tokenFor,
    close,
    redis,
    run
  }
}

/** the test's JetStream stream (policy/knowledge create it for the test subjects) */
export const deleteStream = async (name: string) => {
  const nc = await connect({ servers: "127.0.0.1:4222" })
  try {
    const jsm = await jetstreamManager(nc)
    await jsm.streams.delete(name).catch(() => false)
  } finally {
    await nc.close()
  }
}

export type Harness = Awaited<ReturnType<typeof makeHarness>>

export const digitalLinkOf = (g: { readonly gtin: string; readonly serial: string }) =>
  `https://id.brand.example/01/${g.gtin}/21/${g.serial}`

export const postJson = async (url: string, body: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body)
  })
  const text = await res.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = text
  }
  return { status: res.status, json, headers: res.headers }
}
