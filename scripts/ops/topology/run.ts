/**
 * One topology run, inside a private network + mount namespace (the test starts it with `unshare -m -n`):
 * renders a shape, starts private Postgres/Redis/NATS, runs the migration, starts every workload as its own
 * process on its own loopback address with the env its manifest gives it, checks the platform end to end,
 * then SIGTERMs every workload. Prints one line `TOPOLOGY_REPORT <json>`; exit 1 when a check failed.
 *
 *   unshare -m -n -- node --import tsx scripts/ops/topology/run.ts --shape prod [--app <image layout dir>]
 */
import { randomUUID } from "node:crypto"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { Effect } from "effect"
import { Redis as IORedis } from "ioredis"
import pg from "pg"
import { makeTokens, SESSION_TTL_SECONDS, sessionKey } from "../../../shared/auth/Tokens.js"
import { waitFor } from "./Infra.js"
import { buildImageLayout } from "./ImageLayout.js"
import { isTopologyShape } from "./Shapes.js"
import { drain, get, startTopology, stopDaemons, type Topology, topologyDir } from "./Topology.js"

const { values } = parseArgs({ options: { shape: { type: "string" }, app: { type: "string" } }, strict: true })
const shapeArg = values.shape ?? ""
if (!isTopologyShape(shapeArg)) {
  console.error("usage: run.ts --shape <dev|prod|compose> [--app <image layout: dist/, node_modules, .env.*>]")
  process.exit(2)
}
const shape = shapeArg
const app = values.app ?? join(mkdtempSync(join(tmpdir(), "brandme-topology-app-")), "app")
if (values.app === undefined) await buildImageLayout(process.cwd(), app)
const t0 = performance.now()
const since = () => Math.round(performance.now() - t0)

const failures: Array<string> = []
const check = (ok: boolean, what: string) => {
  if (!ok) failures.push(what)
}
const dir = topologyDir(shape)

const main = async () => {
  const topo: Topology = await startTopology(shape, app, dir, failures)
  const { plan, tls, secrets, running, ready, garment: g } = topo
  const services = running.map((r) => r.w)
  const db = new pg.Client(topo.admin)
  await db.connect()

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
  const drained = await drain(running, failures)
  stopDaemons(topo.daemons)
  const report = {
    shape,
    workloads: running.length + 1,
    infraMs: topo.infraMs,
    migrateMs: topo.migrateMs,
    ready,
    checks,
    drained,
    totalMs: since(),
    failures,
    logs: topo.dir
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
