/**
 * A rendered shape brought up inside a private network + mount namespace (the caller runs under
 * `unshare -m -n`): private Postgres/Redis/NATS, the migration, a garment to scan, then every workload as its
 * own process on its own loopback address with the env its manifest gives it, each waited for on its own
 * readiness probe. run.ts checks the platform on it; observability/deployed/run.ts puts Prometheus and the
 * exporters beside it.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { generateKeyPairSync, randomBytes } from "node:crypto"
import { chmodSync, createWriteStream, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pg from "pg"
import { DEMO_COMPANY_PREFIX, demoGarments } from "../../DemoData.js"
import {
  type Daemon,
  makeCertificates,
  setUpNamespace,
  startNats,
  startPostgres,
  startRedis,
  type Tls,
  waitFor
} from "./Infra.js"
import { type PlannedWorkload, planShape, type ShapePlan, type TestSecrets, type TopologyShape } from "./Shapes.js"

/** Nothing listens on 127.0.0.1, so a default that points there fails. */
export const Addr = {
  postgres: "127.0.0.2",
  redisCache: "127.0.0.3",
  redisQueue: "127.0.0.4",
  nats: "127.0.0.5",
  otel: "127.0.0.6"
} as const
const migrationAddr = "127.0.0.9"
export const workloadAddr = (i: number) => `127.0.0.${10 + i}`

export interface Running {
  readonly w: PlannedWorkload
  readonly child: ChildProcess
  readonly address: string
  readonly startedAt: number
  readonly exit: Promise<number | null>
  log: string
}

export interface TopologyOptions {
  /** extra redis-server arguments per instance (e.g. a maxmemory to fill) */
  readonly redisArgs?: Partial<Record<"redisCache" | "redisQueue", ReadonlyArray<string>>>
}

export interface Topology {
  readonly shape: TopologyShape
  readonly plan: ShapePlan
  /** logs, certificates, data folders */
  readonly dir: string
  readonly tls: Tls | undefined
  readonly secrets: TestSecrets
  readonly daemons: ReadonlyArray<Daemon>
  /** Postgres as its superuser, over the socket, on the shape's database */
  readonly admin: pg.ClientConfig
  readonly running: ReadonlyArray<Running>
  readonly ready: ReadonlyArray<{ workload: string; readyMs: number }>
  readonly infraMs: number
  readonly migrateMs: number
  /** the garment inserted for scans */
  readonly garment: (typeof demoGarments)[number]
}

export const get = async (url: string, init?: RequestInit) => {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) })
  return { status: res.status, type: res.headers.get("content-type") ?? "", body: await res.text() }
}

const testSecrets = (): TestSecrets => {
  const keys = generateKeyPairSync("ed25519")
  return {
    password: randomBytes(12).toString("hex"),
    jwtPrivateKey: keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    jwtPublicKey: keys.publicKey.export({ type: "spki", format: "pem" }).toString(),
    hex: () => randomBytes(32).toString("hex")
  }
}

/** A container path under a CA bundle mount, as the local CA's folder. */
export const mapCaPath = (value: string, caMounts: ReadonlyArray<string>, caDir: string): string =>
  caMounts.reduce((x, mount) => (x.startsWith(mount) ? `${caDir}${x.slice(mount.length)}` : x), value)

const envFor = (plan: ShapePlan, w: PlannedWorkload, address: string, caDir: string): Record<string, string> => {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin" }
  // the CA bundle volume: its mount path is the local CA's folder here
  for (const [k, v] of Object.entries(w.env)) env[k] = mapCaPath(v, w.caMounts, caDir)
  for (const ref of w.secretRefs) {
    const value = plan.secrets[ref] ?? w.env[ref]
    if (value === undefined || value === "") throw new Error(`${w.name}: the test secret map has no ${ref}`)
    env[ref] = value
  }
  // the pod's own address (a container binds 0.0.0.0 in its own network namespace; here each workload has one address)
  env.HTTP_HOST = address
  // test acceleration, the one change to a manifest's env: the beat schedules checkpoints every 3 s, not 10 min
  if (w.env.ORCHESTRATOR_ROLE === "beat") env.BEAT_CHECKPOINT_EVERY_MS = "3000"
  return env
}

const start = (plan: ShapePlan, app: string, dir: string, w: PlannedWorkload, address: string): Running => {
  const [cmd, ...args] = w.command
  if (cmd !== "node") throw new Error(`${w.name}: command ${w.command.join(" ")} is not node`)
  const child = spawn(process.execPath, args, {
    cwd: app,
    env: envFor(plan, w, address, dir),
    stdio: ["ignore", "pipe", "pipe"]
  })
  const exit = new Promise<number | null>((res) => child.on("exit", (code) => res(code)))
  const r: Running = { w, child, address, startedAt: performance.now(), exit, log: "" }
  const file = createWriteStream(join(dir, `${w.name}.log`))
  const keep = (d: Buffer) => {
    file.write(d)
    r.log = (r.log + d.toString()).slice(-4000)
  }
  child.stdout?.on("data", keep)
  child.stderr?.on("data", keep)
  return r
}

/** The run's folder (logs, certificates, data): Postgres runs as the postgres OS user and must reach inside. */
export const topologyDir = (shape: TopologyShape): string => {
  const dir = mkdtempSync(join(tmpdir(), `brandme-topology-${shape}-`))
  chmodSync(dir, 0o755)
  return dir
}

/**
 * Brings the shape up in `dir`; a workload that never gets ready is a failure pushed to `failures` (the caller reports
 * it), anything else that goes wrong throws.
 */
export const startTopology = async (
  shape: TopologyShape,
  app: string,
  dir: string,
  failures: Array<string>,
  options: TopologyOptions = {}
): Promise<Topology> => {
  const t0 = performance.now()
  const secrets = testSecrets()
  const plan = await planShape(shape, secrets)
  const services = plan.workloads.filter((w) => w.kind === "service")
  const hosts: Record<string, string> = {}
  for (const [svc, names] of Object.entries(plan.dataHosts))
    for (const n of names) hosts[n] = Addr[svc as keyof typeof Addr]
  services.forEach((w, i) => {
    for (const h of w.hosts) hosts[h] = workloadAddr(i)
  })
  setUpNamespace(dir, hosts)
  const tls = plan.tls
    ? makeCertificates(
        dir,
        [...plan.dataHosts.postgres, ...plan.dataHosts.redisCache, ...plan.dataHosts.redisQueue],
        [Addr.postgres, Addr.redisCache, Addr.redisQueue]
      )
    : undefined
  const [pgd, ...others] = await Promise.all([
    startPostgres(
      {
        dir: join(dir, "pg"),
        address: Addr.postgres,
        tls,
        user: "brandme",
        password: secrets.password,
        database: "brandme"
      },
      dir
    ),
    startRedis("redis-cache", Addr.redisCache, secrets.password, tls, dir, options.redisArgs?.redisCache),
    startRedis("redis-queue", Addr.redisQueue, secrets.password, tls, dir, options.redisArgs?.redisQueue),
    startNats(Addr.nats, dir, dir)
  ])
  const daemons = [pgd, ...others]
  const infraMs = Math.round(performance.now() - t0)

  // ---- the migration Job (compose: the migrate service) first
  const job = plan.workloads.find((w) => w.kind === "job")
  if (job === undefined) throw new Error(`${shape}: no migration job`)
  const m = start(plan, app, dir, job, migrationAddr)
  const code = await Promise.race([m.exit, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 90_000))])
  if (code !== 0) throw new Error(`${shape}: migration ${job.name} exited ${String(code)}:\n${m.log}`)
  const migrateMs = Math.round(performance.now() - m.startedAt)

  // a garment to scan (the stacks load no demo data)
  const db = new pg.Client(pgd.admin)
  await db.connect()
  const garment = demoGarments[0]!
  await db.query(
    `WITH b AS (INSERT INTO brands (slug, name, gs1_company_prefix) VALUES ('topology', 'Topology', $1) RETURNING id)
     INSERT INTO garments (brand_id, gtin, serial, name) SELECT id, $2, $3, $4 FROM b`,
    [DEMO_COMPANY_PREFIX, garment.gtin, garment.serial, garment.name]
  )
  await db.end()

  // ---- every workload, its own process and address; wait for its own readiness probe
  const running = services.map((w, i) => start(plan, app, dir, w, workloadAddr(i)))
  const ready = await Promise.all(
    running.map(async (r) => {
      const url = `http://${r.address}:${r.w.port}${r.w.readiness}`
      try {
        await Promise.race([
          waitFor(r.w.name, async () => (await get(url)).status === 200, 300_000),
          r.exit.then((c) => {
            throw new Error(`exited ${String(c)}`)
          })
        ])
        return { workload: r.w.name, readyMs: Math.round(performance.now() - r.startedAt) }
      } catch (e) {
        failures.push(`${r.w.name} never ready (${e instanceof Error ? e.message : String(e)}):\n${r.log.slice(-1500)}`)
        return { workload: r.w.name, readyMs: -1 }
      }
    })
  )
  return { shape, plan, dir, tls, secrets, daemons, admin: pgd.admin, running, ready, infraMs, migrateMs, garment }
}

/** SIGTERM each workload still running: it must exit within its grace period (else SIGKILL and a failure). */
export const drain = (running: ReadonlyArray<Running>, failures: Array<string>) =>
  Promise.all(
    running.map(async (r) => {
      const at = performance.now()
      r.child.kill("SIGTERM")
      const grace = r.w.graceSeconds * 1000
      const code = await Promise.race([
        r.exit,
        new Promise<"timeout">((res) => setTimeout(() => res("timeout"), grace))
      ])
      const ms = Math.round(performance.now() - at)
      if (code === "timeout") {
        r.child.kill("SIGKILL")
        failures.push(`${r.w.name} did not exit within terminationGracePeriodSeconds=${r.w.graceSeconds}`)
      }
      return { workload: r.w.name, drainMs: ms, exit: code, graceSeconds: r.w.graceSeconds }
    })
  )

export const stopDaemons = (daemons: ReadonlyArray<Daemon>): void => {
  for (const d of daemons) d.child.kill("SIGTERM")
}
