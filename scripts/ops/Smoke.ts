import { randomUUID } from "node:crypto"
import { jetstreamManager } from "@nats-io/jetstream"
import { connect as natsConnect } from "@nats-io/transport-node"
import { Queue } from "bullmq"
import { Record } from "effect"
import { Redis as IORedis } from "ioredis"
import { QueueNames } from "../../shared/layers/Queues.js"
import { HealthPaths, MetricsPorts, type ServiceName, ServiceNames, Services } from "../../shared/ServiceCatalog.js"
import { errorText, renderTable } from "./Cli.js"
import { withDatabaseClient } from "./DbInit.js"
import { expectedTables, missingTables } from "./Tables.js"

/**
 * The smoke test (the guide's test-infrastructure): every dependency, service, metrics endpoint,
 * table and worker checked once, concurrently, each within a timeout. A check whose target is not
 * configured is "skipped" — shown as such, never as passed.
 */
export type CheckStatus = "ok" | "FAIL" | "skipped"

export interface CheckResult {
  readonly group: string
  readonly name: string
  readonly status: CheckStatus
  readonly detail: string
  readonly ms: number
}

export interface SmokeTarget {
  readonly databaseUrl: string
  readonly redisUrl: string
  readonly redisQueueUrl: string | undefined
  readonly natsUrl: string
  readonly queuePrefix: string
  readonly keyPrefix: string
  /** base URL of each service (no trailing slash) */
  readonly services: Readonly<Record<ServiceName, string>>
  /** observability endpoints; undefined → the check is skipped */
  readonly observability: {
    readonly prometheus: string | undefined
    readonly alertmanager: string | undefined
    readonly grafana: string | undefined
    readonly loki: string | undefined
    readonly tempo: string | undefined
    readonly otelCollector: string | undefined
  }
  readonly timeoutMs: number
}

/** Base URLs: `<NAME>_URL` wins (compose, Kubernetes), else http://<host>:<catalog port + offset>. */
export const serviceUrls = (
  env: NodeJS.ProcessEnv,
  host: string,
  portOffset: number
): Readonly<Record<ServiceName, string>> =>
  Record.map(Services, (spec, n) =>
    (env[`${n.toUpperCase()}_URL`] ?? `http://${host}:${spec.port + portOffset}`).replace(/\/+$/, "")
  )

/**
 * A service's `/metrics`, on its metrics port at the host of its base URL: the port moves by the same offset
 * as the service port (0 in compose and Kubernetes, PORT_OFFSET locally).
 */
export const metricsUrlOf = (serviceUrl: string, n: ServiceName): string => {
  const u = new URL(serviceUrl)
  const port = u.port === "" ? (u.protocol === "https:" ? 443 : 80) : Number(u.port)
  u.port = String(MetricsPorts[n] + port - Services[n].port)
  u.pathname = HealthPaths.metrics
  return u.toString()
}

class CheckFailed {
  readonly _tag = "CheckFailed"
  constructor(readonly message: string) {}
}

const timeout = <A>(p: Promise<A>, ms: number, what: string): Promise<A> => {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CheckFailed(`${what}: timed out after ${ms} ms`)), ms)
    })
  ]).finally(() => clearTimeout(timer))
}

const check = async (
  group: string,
  name: string,
  ms: number,
  f: (() => Promise<string>) | undefined,
  skippedBecause = "not configured"
): Promise<CheckResult> => {
  if (f === undefined) return { group, name, status: "skipped", detail: skippedBecause, ms: 0 }
  const t0 = performance.now()
  try {
    const detail = await timeout(f(), ms, name)
    return { group, name, status: "ok", detail, ms: Math.round(performance.now() - t0) }
  } catch (e) {
    const detail = e instanceof CheckFailed ? e.message : errorText(e)
    return { group, name, status: "FAIL", detail, ms: Math.round(performance.now() - t0) }
  }
}

const httpGet = async (url: string, ms: number): Promise<{ status: number; body: string }> => {
  const res = await fetch(url, { signal: AbortSignal.timeout(ms) })
  return { status: res.status, body: await res.text() }
}

const expectOk = async (url: string, ms: number): Promise<string> => {
  const r = await httpGet(url, ms)
  if (r.status !== 200) throw new CheckFailed(`${url} → ${r.status} ${r.body.slice(0, 160)}`)
  return `200 ${new URL(url).pathname}`
}

/** NATS answers and has JetStream enabled; resolves with a one-line description. */
export const pingNats = async (url: string): Promise<string> => {
  const nc = await natsConnect({ servers: natsServer(url), timeout: 2000, maxReconnectAttempts: 0 })
  try {
    const jsm = await jetstreamManager(nc, { timeout: 2000 })
    const account = await jsm.getAccountInfo()
    return `server ${nc.info?.version ?? "?"}, jetstream on (${account.streams} streams)`
  } finally {
    await nc.close()
  }
}

/** Readiness may flap for a moment under load: up to 3 attempts, 1 s apart, and the row says how many it took. */
const expectReady = async (url: string, ms: number): Promise<string> => {
  for (let attempt = 1; ; attempt++) {
    try {
      const ok = await expectOk(url, ms)
      return attempt === 1 ? ok : `${ok} (attempt ${attempt})`
    } catch (e) {
      if (attempt >= 3) throw e
      await new Promise((r) => setTimeout(r, 1000))
    }
  }
}

/** A short-lived ioredis client that fails fast instead of queueing commands while disconnected. */
export const withRedis = async <A>(url: string, f: (r: IORedis) => Promise<A>): Promise<A> => {
  const r = new IORedis(url, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null
  })
  // ioredis rejects with "Connection is closed"; the socket error says why (ECONNREFUSED, NOAUTH, ...)
  let socketError: unknown
  r.on("error", (e) => {
    socketError = e
  })
  try {
    await r.connect()
    return await f(r)
  } catch (e) {
    throw socketError === undefined ? e : new CheckFailed(errorText(socketError))
  } finally {
    r.disconnect()
  }
}

export const natsServer = (url: string): string => {
  const u = new URL(url)
  return `${u.hostname}:${u.port === "" ? "4222" : u.port}`
}

export const runSmoke = (t: SmokeTarget): Promise<ReadonlyArray<CheckResult>> => {
  const ms = t.timeoutMs
  const obs = t.observability
  const probe = (base: string | undefined, path: string) =>
    base === undefined ? undefined : () => expectOk(`${base.replace(/\/+$/, "")}${path}`, ms)
  const checks: Array<() => Promise<CheckResult>> = [
    () =>
      check("database", "postgres connect + version", ms, () =>
        withDatabaseClient(t.databaseUrl, async (c) => {
          const r = await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")
          return `PostgreSQL ${r.rows[0]?.v ?? "?"}`
        })
      ),
    () =>
      check("schema", "expected tables", ms, async () => {
        const expected = expectedTables()
        const missing = await withDatabaseClient(t.databaseUrl, (c) => missingTables(c, expected))
        if (missing.length > 0) throw new CheckFailed(`missing: ${missing.join(", ")}`)
        return `${expected.length}/${expected.length} present`
      }),
    () =>
      check("cache", "redis ping + set/get", ms, () =>
        withRedis(t.redisUrl, async (r) => {
          const key = `${t.keyPrefix}smoke:${randomUUID()}`
          const value = randomUUID()
          await r.set(key, value, "EX", 60)
          const got = await r.get(key)
          await r.del(key)
          if (got !== value) throw new CheckFailed(`read back ${String(got)} instead of what was written`)
          return `PONG=${await r.ping()}, set/get/del ok`
        })
      ),
    () =>
      check(
        "cache",
        "redis (queues) ping",
        ms,
        t.redisQueueUrl === undefined || t.redisQueueUrl === t.redisUrl
          ? undefined
          : () => withRedis(t.redisQueueUrl ?? "", async (r) => `PONG=${await r.ping()}`),
        "REDIS_QUEUE_URL unset or the same as REDIS_URL"
      ),
    () => check("messaging", "nats + jetstream", ms, () => pingNats(t.natsUrl)),
    ...ServiceNames.map(
      (n) => () =>
        check("service", `${n} ready`, ms * 3 + 2000, () => expectReady(`${t.services[n]}${HealthPaths.ready}`, ms))
    ),
    ...ServiceNames.map(
      (n) => () =>
        check("metrics", `${n} /metrics`, ms, async () => {
          const r = await httpGet(metricsUrlOf(t.services[n], n), ms)
          if (r.status !== 200) throw new CheckFailed(`→ ${r.status}`)
          const series = r.body.split("\n").filter((l) => l !== "" && !l.startsWith("#")).length
          if (series === 0) throw new CheckFailed("no samples")
          return `${series} samples`
        })
    ),
    () =>
      check("workers", "orchestrator workers", ms, () =>
        withRedis(t.redisQueueUrl ?? t.redisUrl, async (connection) => {
          const counts = await Promise.all(
            QueueNames.map(async (name) => {
              const q = new Queue(name, { connection, prefix: t.queuePrefix })
              try {
                return { name, workers: (await q.getWorkers()).length }
              } finally {
                await q.close().catch(() => undefined)
              }
            })
          )
          const idle = counts.filter((c) => c.workers === 0).map((c) => c.name)
          if (idle.length > 0) throw new CheckFailed(`no worker on queue ${idle.join(", ")}`)
          return counts.map((c) => `${c.name}=${c.workers}`).join(" ")
        })
      ),
    () => check("observability", "prometheus", ms, probe(obs.prometheus, "/-/healthy")),
    () => check("observability", "alertmanager", ms, probe(obs.alertmanager, "/-/healthy")),
    () => check("observability", "grafana", ms, probe(obs.grafana, "/api/health")),
    () => check("observability", "loki", ms, probe(obs.loki, "/ready")),
    () => check("observability", "tempo", ms, probe(obs.tempo, "/ready")),
    () => check("observability", "otel collector", ms, probe(obs.otelCollector, "/"))
  ]
  return inBatches(checks, 4)
}

/** Runs thunks at most `n` at a time, results in order: a busy host must not fail a probe we caused. */
const inBatches = async <A>(thunks: ReadonlyArray<() => Promise<A>>, n: number): Promise<Array<A>> => {
  const out: Array<A> = []
  for (let i = 0; i < thunks.length; i += n) out.push(...(await Promise.all(thunks.slice(i, i + n).map((f) => f()))))
  return out
}

export const renderResults = (results: ReadonlyArray<CheckResult>): string => {
  const counts = { ok: 0, FAIL: 0, skipped: 0 }
  for (const r of results) counts[r.status]++
  const table = renderTable(
    ["GROUP", "CHECK", "STATUS", "MS", "DETAIL"],
    results.map((r) => [r.group, r.name, r.status, String(r.ms), r.detail])
  )
  return `${table}\n\n${counts.ok} ok, ${counts.FAIL} failed, ${counts.skipped} skipped`
}
