import { connect } from "@nats-io/transport-node"
import { Effect, Redacted } from "effect"
import { Redis as IORedis } from "ioredis"
import { AppConfig } from "../shared/config/AppConfig.js"
import { ensureDatabase, withAdminClient } from "../shared/layers/Admin.js"
import { makeDatabaseLayer } from "../shared/layers/Database.js"
import { runProcess, StartupError } from "../shared/runtime/Process.js"
import { migrateUp } from "../migrations/Migrator.js"
import { ServiceNames } from "../shared/ServiceCatalog.js"
import { startServices } from "../services/Platform.js"
import { demoGarments, demoUsers, loadDemoData } from "./DemoData.js"

/**
 * `npm start`: checks that Postgres, Redis and NATS answer, creates and migrates the database,
 * loads demo data once, then runs every service in this process and prints their URLs.
 */
const howToStart = {
  Postgres: "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
  Redis:
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly yes --appendfsync everysec --dir /var/lib/redis --logfile /var/log/redis/ci.log',
  NATS: "start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log"
} as const

const redactUrl = (u: string): string => {
  try {
    const url = new URL(u)
    if (url.password !== "") url.password = "****"
    return url.toString()
  } catch {
    return "(unparseable URL)"
  }
}

const probe = (name: keyof typeof howToStart, url: string, check: () => Promise<unknown>) =>
  Effect.tryPromise({
    try: () =>
      Promise.race([
        check(),
        new Promise((_, reject) => setTimeout(() => reject(new Error("timed out after 3s")), 3000))
      ]),
    catch: (e) =>
      `${name} is not reachable at ${redactUrl(url)}: ${e instanceof Error ? e.message : String(e)}\n  start it with: ${howToStart[name]}`
  })

const program = Effect.scoped(
  Effect.gen(function* () {
    const t0 = performance.now()
    const config = yield* AppConfig
    const dbUrl = Redacted.value(config.database.url)
    const redisUrl = Redacted.value(config.redis.url)
    const natsUrl = Redacted.value(config.nats.url)
    const problems = (yield* Effect.all(
      [
        probe("Postgres", dbUrl, () => withAdminClient(dbUrl, (c) => c.query("SELECT 1"))),
        probe("Redis", redisUrl, async () => {
          const r = new IORedis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
          r.on("error", () => {})
          try {
            await r.connect()
            await r.ping()
          } finally {
            r.disconnect()
          }
        }),
        probe("NATS", natsUrl, async () => {
          const u = new URL(natsUrl)
          const nc = await connect({
            servers: `${u.hostname}:${u.port || "4222"}`,
            timeout: 2500,
            maxReconnectAttempts: 0
          })
          await nc.close()
        })
      ],
      { concurrency: "unbounded", mode: "either" }
    )).flatMap((r) => (r._tag === "Left" ? [r.left] : []))
    if (problems.length > 0) return yield* Effect.die(new StartupError(`cannot start:\n${problems.join("\n")}`))

    const created = yield* Effect.promise(() => ensureDatabase(dbUrl))
    if (created) yield* Effect.logInfo("created the database")
    const db = makeDatabaseLayer({
      url: dbUrl,
      poolMax: 2,
      idleTimeoutMs: 1000,
      connectTimeoutMs: config.database.connectTimeoutMs,
      ssl: config.database.ssl,
      applicationName: "brandme-start"
    })
    const seeded = yield* Effect.gen(function* () {
      yield* migrateUp()
      return config.features.demoData ? yield* loadDemoData : { created: false }
    }).pipe(
      Effect.provide(db),
      Effect.catchTags({
        MigrationError: (e) => Effect.die(new StartupError(e.message)),
        SqlError: (e) => Effect.die(new StartupError(`database error: ${e.message}: ${String(e.cause)}`))
      })
    )
    if (config.features.demoData) {
      const lines = [
        seeded.created ? "demo data loaded:" : "demo data (already loaded):",
        ...demoUsers.map((u) => `  ${u.role.padEnd(8)} ${u.email.padEnd(28)} password: ${u.password}`),
        ...demoGarments.map((g) => `  garment  https://id.brandme.local/01/${g.gtin}/21/${g.serial}  (${g.name})`)
      ]
      process.stdout.write(`${lines.join("\n")}\n`)
    }
    const urls = yield* startServices(ServiceNames, "brandme-all")
    const seconds = ((performance.now() - t0) / 1000).toFixed(1)
    process.stdout.write(
      `\nBrand.Me is running (${config.appEnv}) on node ${process.version}, all ${urls.length} services ready in ${seconds}s:\n${urls
        .map((u) => `  ${u.service.padEnd(13)} ${u.url}`)
        .join("\n")}\n`
    )
    return yield* Effect.never
  })
)

runProcess("start", program)
