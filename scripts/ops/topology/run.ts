/**
 * One topology run, inside a private network + mount namespace (the test starts it with `unshare -m -n`):
 * renders a shape, starts private Postgres/Redis/NATS, runs the migration, starts every workload as its own
 * process on its own loopback address with the env its manifest gives it, checks the platform end to end,
 * then SIGTERMs every workload. Prints one line `TOPOLOGY_REPORT <json>`; exit 1 when a check failed.
 *
 *   unshare -m -n -- node --import tsx scripts/ops/topology/run.ts --shape prod [--app <image layout dir>]
 */
import { type ChildProcess, spawn } from "node:child_process"
import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto"
import { chmodSync, createWriteStream, mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { Effect } from "effect"
import { Redis as IORedis } from "ioredis"
import pg from "pg"
import { DEMO_COMPANY_PREFIX, demoGarments } from "../../DemoData.js"
import { makeTokens, SESSION_TTL_SECONDS, sessionKey } from "../../../shared/auth/Tokens.js"
import {
  type Daemon,
  makeCertificates,
  setUpNamespace,
  startNats,
  startPostgres,
  startRedis,
  waitFor
} from "./Infra.js"
import { buildImageLayout } from "./ImageLayout.js"
import { isTopologyShape, type PlannedWorkload, planShape, type ShapePlan } from "./Shapes.js"

const { values } = parseArgs({ options: { shape: { type: "string" }, app: { type: "string" } }, strict: true })
const shapeArg = values.shape ?? ""
if (!isTopologyShape(shapeArg)) {
  console.error("usage: run.ts --shape <dev|prod|compose> [--app <image layout: dist/, node_modules, .env.*>]")
  process.exit(2)
}
const shape = shapeArg
const app = values.app ?? join(mkdtempSync(join(tmpdir(), "brandme-topology-app-")), "app")
if (values.app === undefined) await buildImageLayout(process.cwd(), app)
const dir = mkdtempSync(join(tmpdir(), `brandme-topology-${shape}-`))
// Postgres runs as the postgres OS user: it must reach its data folder inside
chmodSync(dir, 0o755)
const t0 = performance.now()
const since = () => Math.round(performance.now() - t0)

const failures: Array<string> = []
const check = (ok: boolean, what: string) => {
  if (!ok) failures.push(what)
}

// ---- addresses: nothing listens on 127.0.0.1, so a default that points there fails
const Addr = {
  postgres: "127.0.0.2",
  redisCache: "127.0.0.3",
  redisQueue: "127.0.0.4",
  nats: "127.0.0.5",
  otel: "127.0.0.6"
}
const workloadAddr = (i: number) => `127.0.0.${10 + i}`

const keys = generateKeyPairSync("ed25519")
const secrets = {
  password: randomBytes(12).toString("hex"),
  jwtPrivateKey: keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  jwtPublicKey: keys.publicKey.export({ type: "spki", format: "pem" }).toString(),
  hex: () => randomBytes(32).toString("hex")
}

interface Running {
  readonly w: PlannedWorkload
  readonly child: ChildProcess
  readonly address: string
  readonly startedAt: number
  exit: Promise<number | null>
  log: string
}

const envFor = (plan: ShapePlan, w: PlannedWorkload, address: string, caDir: string): Record<string, string> => {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin" }
  for (const [k, v] of Object.entries(w.env)) {
    // the CA bundle volume: its mount path is the local CA's folder here
    env[k] = w.caMounts.reduce((x, mount) => (x.startsWith(mount) ? `${caDir}${x.slice(mount.length)}` : x), v)
  }
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

const start = (plan: ShapePlan, w: PlannedWorkload, address: string, caDir: string): Running => {
  const [cmd, ...args] = w.command
  if (cmd !== "node") throw new Error(`${w.name}: command ${w.command.join(" ")} is not node`)
  const child = spawn(process.execPath, args, {
    cwd: app,
    env: envFor(plan, w, address, caDir),
    stdio: ["ignore", "pipe", "pipe"]
  })
  const r: Running = {
    w,
    child,
    address,
    startedAt: performance.now(),
    exit: new Promise((res) => child.on("exit", (code) => res(code))),
    log: ""
  }
  const file = createWriteStream(join(dir, `${w.name}.log`))
  const keep = (d: Buffer) => {
    file.write(d)
    r.log = (r.log + d.toString()).slice(-4000)
  }
  child.stdout?.on("data", keep)
  child.stderr?.on("data", keep)
  return r
}

const get = async (url: string, init?: RequestInit) => {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) })
  return { status: res.status, type: res.headers.get("content-type") ?? "", body: await res.text() }
}

const main = async () => {
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
  const daemons: Array<Daemon> = []
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
    startRedis("redis-cache", Addr.redisCache, secrets.password, tls, dir),
    startRedis("redis-queue", Addr.redisQueue, secrets.password, tls, dir),
    startNats(Addr.nats, dir, dir)
  ])
  daemons.push(pgd, ...others)
  const infraMs = since()

  // ---- the migration Job (compose: the migrate service) first
  const job = plan.workloads.find((w) => w.kind === "job")
  if (job === undefined) throw new Error(`${shape}: no migration job`)
  const m = start(plan, job, "127.0.0.9", dir)
  const code = await Promise.race([m.exit, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 90_000))])
  if (code !== 0) throw new Error(`${shape}: migration ${job.name} exited ${String(code)}:\n${m.log}`)
  const migrateMs = Math.round(performance.now() - m.startedAt)

  // a garment to scan (the stacks load no demo data)
  const db = new pg.Client(pgd.admin)
  await db.connect()
  const g = demoGarments[0]!
  await db.query(
    `WITH b AS (INSERT INTO brands (slug, name, gs1_company_prefix) VALUES ('topology', 'Topology', $1) RETURNING id)
     INSERT INTO garments (brand_id, gtin, serial, name) SELECT id, $2, $3, $4 FROM b`,
    [DEMO_COMPANY_PREFIX, g.gtin, g.serial, g.name]
  )

  // ---- every workload, its own process and address; wait for its own readiness probe
  const running = services.map((w, i) => start(plan, w, workloadAddr(i), dir))
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

  const checks: Record<string, unknown> = {}
  if (failures.length === 0) {
    // a scan through the gateway's Service address
    const scan = await get(`http://${plan.gatewayHost}:3000/v1/scans`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tag: `https://id.brandme.local/01/${g.gtin}/21/${g.serial}` })
    })
    const decision = scan.status === 200 ? (JSON.parse(scan.body) as { decision?: unknown }).decision : undefined
    checks.scan = { status: scan.status, decision }
    check(
      scan.status === 200 && decision !== undefined,
      `scan through ${plan.gatewayHost}: ${scan.status} ${scan.body.slice(0, 300)}`
    )

    // knowledge's port answers its declared callers only (finding 4): the same call without the gateway's
    // service token is refused (the scan above passed only because the gateway's calls carried one)
    const knowledge = services.find((w) => w.process === "knowledge")
    const bare = await get(
      `http://${knowledge?.hosts[0] ?? "knowledge"}:${knowledge?.port ?? 8101}/internal/garments/resolve`,
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ref: { _tag: "DigitalLink", gtin: g.gtin, serial: g.serial, batch: null } })
      }
    )
    checks.internalWithoutServiceToken = bare.status
    check(bare.status === 401, `knowledge /internal/garments/resolve without a service token: ${bare.status}`)

    // persisted by the orchestrator workload
    const persisted = await waitFor(
      "scan_events row",
      async () => Number((await db.query("SELECT count(*)::int AS n FROM scan_events")).rows[0]?.n) > 0,
      30_000
    ).catch(() => -1)
    checks.scanPersistedMs = Math.round(persisted)
    check(persisted >= 0, "the scan was not persisted in scan_events by the orchestrator")

    // a checkpoint scheduled by the beat workload (signed by the worker)
    const checkpoint = await waitFor(
      "audit checkpoint",
      async () => Number((await db.query("SELECT count(*)::int AS n FROM audit_checkpoints")).rows[0]?.n) > 0,
      45_000
    ).catch(() => -1)
    checks.checkpointMs = Math.round(checkpoint)
    check(checkpoint >= 0, "no audit checkpoint was signed (beat → worker)")

    // the console's auditor page and its proxied checkpoint, as a signed-in auditor
    const page = await get(`http://${plan.consoleHost}:3002/auditor`)
    checks.auditorPage = page.status
    check(page.status === 200 && page.type.startsWith("text/html"), `console /auditor: ${page.status}`)
    // the session is checked where the console forwards to: compliance, on its Redis
    const complianceEnv = services.find((w) => w.process === "compliance")!
    const tokens = await makeTokens({
      issuer: "brandme-identity",
      secret: "unused",
      privateKeyPem: secrets.jwtPrivateKey,
      publicKeyPem: secrets.jwtPublicKey
    })
    const sid = randomUUID()
    const auditorId = randomUUID()
    const token = await Effect.runPromise(
      tokens.issue({ userId: auditorId, role: "auditor", brandId: null, sessionId: sid }, 600)
    )
    const redisUrl = plan.secrets.REDIS_URL ?? complianceEnv.env.REDIS_URL ?? ""
    const redis = new IORedis(redisUrl, {
      keyPrefix: "brandme:",
      ...(tls === undefined ? {} : { tls: { ca: readFileSync(tls.caFile) } })
    })
    // a live session holds its user's id (identity's sign-in writes the same; the check binds sid to sub)
    await redis.set(sessionKey(sid), auditorId, "EX", SESSION_TTL_SECONDS)
    redis.disconnect()
    const proxied = await get(`http://${plan.consoleHost}:3002/v1/audit/checkpoint`, {
      headers: { authorization: `Bearer ${token}` }
    })
    checks.proxiedCheckpoint = { status: proxied.status, body: proxied.body.slice(0, 200) }
    check(proxied.status === 200, `console /v1/audit/checkpoint: ${proxied.status} ${proxied.body.slice(0, 300)}`)
  }
  await db.end()

  // ---- SIGTERM every workload: each must drain within its grace period
  const drained = await Promise.all(
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
  for (const d of daemons) d.child.kill("SIGTERM")
  const report = {
    shape,
    workloads: running.length + 1,
    infraMs,
    migrateMs,
    ready,
    checks,
    drained,
    totalMs: since(),
    failures,
    logs: dir
  }
  console.log(`TOPOLOGY_REPORT ${JSON.stringify(report)}`)
  process.exit(failures.length === 0 ? 0 : 1)
}

main().catch((e: unknown) => {
  console.log(
    `TOPOLOGY_REPORT ${JSON.stringify({ shape, failures: [e instanceof Error ? e.message : String(e)], logs: dir })}`
  )
  process.exit(1)
})
