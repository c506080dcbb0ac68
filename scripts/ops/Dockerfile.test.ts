import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { Services } from "../../shared/ServiceCatalog.js"
import { defaultTarget, envOf, parseDockerfile } from "./Dockerfile.js"

const stages = parseDockerfile(readFileSync("Dockerfile", "utf8"))
const stage = (name: string) => stages.find((s) => s.name === name)

describe("Dockerfile", () => {
  it("runs services with the V8 settings the benchmarks measure them with", () => {
    // the image's default is for processes that set none; each workload sets its catalog flags
    expect(envOf(stage("runtime")?.instructions ?? []).get("NODE_OPTIONS") ?? "").toContain("--max-semi-space-size=")
    const scripts = (JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> }).scripts
    // the queue bench runs the worker in its own process with the orchestrator's young-generation size; the scan
    // bench spawns the gateway with the gateway's flags and the memory bench every workload with its own
    const semi = /--max-semi-space-size=\d+/.exec(Services.orchestrator.memory.nodeOptions)?.[0] ?? "missing"
    expect(scripts["bench:queue"]).toContain(semi)
    expect(readFileSync("scripts/bench-scan.ts", "utf8")).toContain(
      "GATEWAY_NODE_OPTIONS ?? Services.gateway.memory.nodeOptions"
    )
    expect(readFileSync("scripts/bench-memory.ts", "utf8")).toContain("w.extraEnv.NODE_OPTIONS")
  })

  it("builds in stages: deps (npm ci), build (npm run build), production deps only, runtime on Node 24", () => {
    expect(stage("deps")?.instructions.some((i) => i.op === "RUN" && /npm ci\b/.test(i.args))).toBe(true)
    expect(stage("build")?.instructions.some((i) => i.op === "RUN" && i.args.includes("npm run build"))).toBe(true)
    expect(stage("prod-deps")?.instructions.some((i) => i.op === "RUN" && i.args.includes("npm ci --omit=dev"))).toBe(
      true
    )
    const text = readFileSync("Dockerfile", "utf8")
    expect(text).toMatch(/ARG NODE_IMAGE=node:24-bookworm-slim/)
    const runtime = stage("runtime")!
    expect(runtime.base).toBe(`\${NODE_IMAGE}`)
    const copies = runtime.instructions.filter((i) => i.op === "COPY").map((i) => i.args)
    expect(copies.some((c) => c.includes("--from=prod-deps") && c.includes("node_modules"))).toBe(true)
    expect(copies.some((c) => c.includes("--from=build") && c.includes("/app/dist"))).toBe(true)
    expect(copies.some((c) => c.includes("migrations/sql"))).toBe(true)
    expect(copies.some((c) => c.includes(".env.production"))).toBe(true)
    // the runtime never copies the dev dependency tree
    expect(copies.some((c) => c.includes("--from=deps"))).toBe(false)
  })

  it("runs as the non-root user brandme (uid 1000), with a health check on the catalog port and the one entry point", () => {
    const runtime = stage("runtime")!
    expect(runtime.instructions.find((i) => i.op === "USER")?.args).toBe("brandme:brandme")
    expect(runtime.instructions.some((i) => i.op === "RUN" && i.args.includes("--login brandme"))).toBe(true)
    const hc = runtime.instructions.find((i) => i.op === "HEALTHCHECK")?.args ?? ""
    expect(hc).toContain("dist/scripts/healthcheck.js")
    expect(hc).not.toMatch(/curl|wget/)
    expect(runtime.instructions.find((i) => i.op === "CMD")?.args).toBe('["node", "dist/services/main.js"]')
  })

  it("its default target (the last stage) is the runtime every Deployment, the Job and compose run", () => {
    const { stage: last, env } = defaultTarget(stages)
    expect(last.name).toBe("runtime")
    // one image: SERVICE comes from the Deployment or compose service, never from a per-service target
    expect(env.SERVICE).toBeUndefined()
    expect(env.APP_ENV).toBe("production")
    expect(readFileSync("scripts/healthcheck.ts", "utf8")).toContain("Services[name].port")
  })

  it("builds from every folder tsconfig.build.json compiles, and keeps secrets and tests out of the context", () => {
    const build = stage("build")!
    const copied = build.instructions.filter((i) => i.op === "COPY").map((i) => i.args.split(/\s+/)[0])
    const tsconfig = JSON.parse(readFileSync("tsconfig.build.json", "utf8")) as { include: Array<string> }
    // operator scripts import stacks/ and observability/: the image build compiles what the local build does
    for (const dir of [...tsconfig.include, "stacks", "observability"]) expect(copied, dir).toContain(dir)
    const ignore = readFileSync(".dockerignore", "utf8").split("\n")
    for (const p of ["**/node_modules", "dist", ".git", "**/*.test.ts", "**/*.itest.ts", ".env", "docs"]) {
      expect(ignore).toContain(p)
    }
    // the per-environment defaults are needed in the image
    expect(ignore).not.toContain(".env.*")
  })
})
