import { existsSync, readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { Backends, Exporters } from "../../observability/topology.js"
import { checkProcessEnv } from "../../services/ServiceConfig.js"
import { isServiceName, ServiceNames, Services } from "../../shared/ServiceCatalog.js"
import { MigrateCommand } from "../../stacks/components/AppServices.js"
import { ComposePath, composeWithPlatform, interpolate } from "./Compose.js"
import { defaultTarget, readDockerfile } from "./Dockerfile.js"
import { ComposePrometheusPath, renderComposePrometheus } from "./ComposePrometheus.js"

interface ComposeService {
  readonly image?: string
  readonly build?: { readonly context: string; readonly target?: string }
  readonly environment?: Record<string, string>
  readonly ports?: ReadonlyArray<string>
  readonly volumes?: ReadonlyArray<string>
  readonly healthcheck?: { readonly test: ReadonlyArray<string> }
  readonly depends_on?: Record<string, { readonly condition: string }>
  readonly restart?: string
}

const compose = parse(readFileSync("docker-compose.yml", "utf8"), { merge: true }) as {
  services: Record<string, ComposeService>
  "x-no-probe-images": Record<string, string>
}
const services = compose.services

const hostPort = (p: string): string => {
  const parts = p.split(":")
  return parts.length === 3 ? `${parts[0]}:${parts[1]}` : (parts[0] ?? "")
}

describe("docker-compose.yml", () => {
  it("mounts only files and folders that exist", () => {
    for (const [name, s] of Object.entries(services)) {
      for (const v of s.volumes ?? []) {
        const source = v.split(":")[0] ?? ""
        if (source.startsWith("./")) expect(existsSync(source), `${name}: ${source}`).toBe(true)
      }
      if (s.build !== undefined) expect(existsSync(`${s.build.context}/Dockerfile`)).toBe(true)
    }
  })

  it("publishes every host port once", () => {
    const seen = new Map<string, string>()
    for (const [name, s] of Object.entries(services)) {
      for (const p of s.ports ?? []) {
        const host = hostPort(p)
        expect(seen.get(host), `host port ${host}: ${name} and ${seen.get(host)}`).toBeUndefined()
        seen.set(host, name)
      }
    }
    expect(seen.size).toBeGreaterThan(20)
  })

  it("runs every catalog service from the one image (the Dockerfile's default target), SERVICE set, on its catalog port", () => {
    for (const name of ServiceNames) {
      const s = services[name]
      expect(s, name).toBeDefined()
      expect(s!.build?.target).toBeUndefined()
      expect(s!.image).toBe(services.gateway?.image)
      expect(s!.environment?.SERVICE).toBe(name)
      expect(s!.ports).toContain(`${Services[name].port}:${Services[name].port}`)
      expect(s!.healthcheck?.test.join(" ")).toContain(`127.0.0.1:${Services[name].port}/healthz`)
      // the app talks to the compose hosts, not to localhost
      for (const [v, host] of [
        ["DATABASE_URL", "@postgres:5432/"],
        ["REDIS_URL", "@redis-cache:6379"],
        ["REDIS_QUEUE_URL", "@redis-queue:6379"]
      ] as const) {
        if (s!.environment?.[v] !== undefined) expect(s!.environment[v]).toContain(host)
      }
      expect(s!.environment?.NATS_URL).toBe("nats://nats:4222")
      expect(s!.environment?.OTEL_EXPORTER_OTLP_ENDPOINT).toBe("http://otel-collector:4318")
      expect(s!.depends_on?.migrate?.condition).toBe("service_completed_successfully")
    }
    expect(services["orchestrator-beat"]?.environment).toMatchObject({
      SERVICE: "orchestrator",
      ORCHESTRATOR_ROLE: "beat"
    })
    // the migration: the stacks' Job command on the same image
    expect(services.migrate?.image).toBe(services.gateway?.image)
    expect((services.migrate as { command?: ReadonlyArray<string> }).command).toEqual([...MigrateCommand])
    expect(services.migrate?.restart).toBe("no")
  })

  it("generates the platform services from the catalog (not stale: npm run gen:compose)", () => {
    const text = readFileSync(ComposePath, "utf8")
    expect(text).toBe(composeWithPlatform(text))
  })

  it("gives every platform service an env its own service's configuration accepts: its secrets, the addresses it calls", () => {
    const image = defaultTarget(readDockerfile()).env
    const problems = [...ServiceNames, "orchestrator-beat", "migrate"].flatMap((name) => {
      const s = services[name]!
      const env: Record<string, string> = { ...image }
      const refs = new Set<string>()
      for (const [k, v] of Object.entries(s.environment ?? {})) {
        const r = interpolate(String(v), undefined)
        if ("ref" in r) refs.add(k)
        else env[k] = r.value
      }
      const process = env.SERVICE === "migrate" ? "migrate" : env.SERVICE
      if (process === undefined || !(process === "migrate" || isServiceName(process)))
        return [`${name}: SERVICE=${process}`]
      return checkProcessEnv({ process, env, secretRefs: refs }).map((p) => `compose ${name}: ${p}`)
    })
    expect(problems).toEqual([])
  })

  it("has a health check on every long-running container that can run one", () => {
    const noProbe = compose["x-no-probe-images"]
    for (const [name, s] of Object.entries(services)) {
      if (s.restart === "no") continue // one-shot
      if (name in noProbe) {
        expect(s.healthcheck, `${name} is listed as unprobeable`).toBeUndefined()
        continue
      }
      expect(s.healthcheck?.test.length, `${name} has a healthcheck`).toBeGreaterThan(0)
    }
    // nothing may depend on the health of a container that has no check
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, c] of Object.entries(s.depends_on ?? {})) {
        if (c.condition === "service_healthy") expect(services[dep]?.healthcheck, `${name} → ${dep}`).toBeDefined()
      }
    }
  })

  it("runs the guide's stack: Postgres 15, two Redis 7 with their configs, NATS JetStream, observability, exporters", () => {
    expect(services.postgres?.image).toBe("postgres:15")
    expect(services.postgres?.volumes).toContain(
      "./deploy/postgres/init.sql:/docker-entrypoint-initdb.d/01-extensions.sql:ro"
    )
    expect(services["redis-cache"]?.volumes?.[0]).toContain("./deploy/redis/redis-cache.conf")
    expect(services["redis-queue"]?.volumes?.[0]).toContain("./deploy/redis/redis-queue.conf")
    for (const r of ["redis-cache", "redis-queue"]) expect(services[r]?.image).toBe("redis:7")
    expect(services.nats?.image).toMatch(/^nats:/)
    expect(services.nats?.ports).toContain("8222:8222")
    const natsCmd = (services.nats as { command?: ReadonlyArray<string> }).command ?? []
    expect(natsCmd).toContain("-js")
    for (const o of ["prometheus", "alertmanager", "grafana", "loki", "tempo", "otel-collector"])
      expect(services[o], o).toBeDefined()
    for (const e of Object.keys(Exporters)) {
      expect(services[e], e).toBeDefined()
      expect(services[e]?.ports).toContain(
        `${Exporters[e as keyof typeof Exporters].port}:${Exporters[e as keyof typeof Exporters].port}`
      )
    }
    expect(services.grafana?.ports).toContain(`${Backends.grafana.port}:${Backends.grafana.port}`)
    expect(services.grafana?.environment?.GF_SERVER_HTTP_PORT).toBe(String(Backends.grafana.port))
    expect(services.prometheus?.volumes).toContain("./observability/prometheus/rules:/etc/prometheus/rules:ro")
  })

  it("keeps passwords out of the repository: every secret is a required variable", () => {
    const text = readFileSync("docker-compose.yml", "utf8")
    for (const v of ["POSTGRES_PASSWORD", "REDIS_PASSWORD", "GRAFANA_ADMIN_PASSWORD"]) {
      expect(text).toContain(`\${${v}:?`)
      expect(text).not.toMatch(new RegExp(`\\$\\{${v}:-`))
    }
  })

  it("scrapes the compose hosts with a Prometheus config generated from the observability one (not stale)", () => {
    expect(readFileSync(ComposePrometheusPath, "utf8")).toBe(renderComposePrometheus())
    const prom = parse(renderComposePrometheus()) as {
      scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: Array<string> }> }>
    }
    for (const job of prom.scrape_configs) {
      for (const t of job.static_configs.flatMap((s) => s.targets)) {
        const host = t.split(":")[0] ?? ""
        expect(services[host], `${job.job_name} scrapes ${t}: no such compose service`).toBeDefined()
      }
    }
  })
})
