import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { buildImageLayout } from "./topology/ImageLayout.js"
import { runUnshared } from "./topology/Unshared.js"
import { TopologyShapes } from "./topology/Shapes.js"

/**
 * The shapes we ship, run as an operator would run them: for the dev, prod and prod-aws stacks and for compose, every
 * workload is its own OS process (the compiled image layout, its command, the image's ENV under the
 * manifest's env, secret references filled from a test secret map) on its own loopback address, inside a
 * private network + mount namespace (`unshare -m -n`, root) whose /etc/hosts maps the cluster/compose DNS
 * names to those addresses. Nothing listens on 127.0.0.1 there, so a call that falls back to a local default
 * fails. Private Postgres (TLS + password), Redis (AUTH; TLS for the stacks, as Memorystore) and NATS
 * JetStream run inside, with a local CA standing in for the mounted CA bundle. The migration runs first;
 * then each workload's readiness probe, a scan through the gateway's Service name, the scan persisted by
 * the orchestrator, a checkpoint scheduled by the beat, the console's auditor page and its proxied
 * checkpoint; then SIGTERM, each workload exiting within its grace period. scripts/ops/topology/run.ts does
 * one shape; this file runs every shape of TopologyShapes.
 *
 * What cannot be reproduced here: replicas and the HPA (one process per Deployment), NetworkPolicy
 * enforcement (the namespace's loopback lets every workload reach every other), the ingress and TLS at
 * the edge (the scan goes to the gateway's Service), pod security context (processes run as root), the
 * container's read-only filesystem, resource limits, and Kubernetes' own probe timing. Two deliberate
 * departures from the manifests: HTTP_HOST is the workload's own address (a pod's IP; the image's 0.0.0.0
 * would bind every address of the shared loopback), and the beat schedules checkpoints every 3 s instead of
 * 10 min so the test need not wait.
 */
const repo = resolve(".")
const app = mkdtempSync(join(tmpdir(), "brandme-topology-app-"))
const runner = join(repo, "scripts", "ops", "topology", "run.ts")

interface Report {
  readonly shape: string
  readonly workloads?: number
  readonly ready?: ReadonlyArray<{ workload: string; readyMs: number }>
  readonly drained?: ReadonlyArray<{ workload: string; drainMs: number; exit: number | string; graceSeconds: number }>
  readonly checks?: Record<string, unknown>
  readonly totalMs?: number
  readonly failures: ReadonlyArray<string>
  readonly logs?: string
}

const runShape = (shape: string) => runUnshared<Report>({ repo, runner, app, shape, marker: "TOPOLOGY_REPORT" })

beforeAll(async () => {
  await buildImageLayout(repo, app)
}, 60_000)

afterAll(() => rmSync(app, { recursive: true, force: true }))

describe("the deployed shapes run: one process per workload, each with its manifest's env", () => {
  for (const shape of TopologyShapes) {
    it(`${shape}: migration, every workload ready, scan → decision → persisted, checkpoint, console proxy, SIGTERM drains`, async () => {
      const { code, report, output } = await runShape(shape)
      expect(report, output.slice(-3000)).toBeDefined()
      const r = report!
      const figures = {
        shape,
        totalMs: r.totalMs,
        readyMs: Object.fromEntries((r.ready ?? []).map((x) => [x.workload, x.readyMs])),
        drainMs: Object.fromEntries((r.drained ?? []).map((x) => [x.workload, x.drainMs]))
      }
      console.log(`topology ${JSON.stringify(figures)}`)
      expect(r.failures, `logs in ${r.logs}`).toEqual([])
      expect(code).toBe(0)
      expect(r.ready?.every((x) => x.readyMs > 0)).toBe(true)
      // a drain is a clean exit within the grace period: not the shutdown watchdog's exit 1, not a SIGKILL
      const unclean = (r.drained ?? []).filter((x) => x.exit !== 0 || x.drainMs > x.graceSeconds * 1000)
      expect(unclean, `logs in ${r.logs}`).toEqual([])
      rmSync(r.logs ?? "", { recursive: true, force: true })
    }, 600_000)
  }
})
