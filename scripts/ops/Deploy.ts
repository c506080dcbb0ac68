import { spawnSync } from "node:child_process"
import { delimiter, join } from "node:path"
import { AppEnvs, type AppEnv } from "../../shared/config/EnvFile.js"
import { isServiceName, type ServiceName, ServiceNames } from "../../shared/ServiceCatalog.js"

/**
 * The pure half of `npm run deploy`: what an environment and component mean, which tools each path
 * needs, and how to say what is missing. The effects live in scripts/deploy.ts.
 */
export const StackOf: Readonly<Record<AppEnv, string>> = { development: "dev", staging: "staging", production: "prod" }

/** Components: every catalog service, the beat scheduler (a second orchestrator Deployment), or all. */
export const Components = [...ServiceNames, "orchestrator-beat"] as const
export type Component = ServiceName | "orchestrator-beat"

export const isAppEnv = (s: string): s is AppEnv => AppEnvs.some((e) => e === s)

export const isComponent = (s: string): s is Component => s === "orchestrator-beat" || isServiceName(s)

/** The catalog service a component runs (the beat is the orchestrator with ORCHESTRATOR_ROLE=beat). */
export const serviceOf = (c: Component): ServiceName => (c === "orchestrator-beat" ? "orchestrator" : c)

export interface DeployRequest {
  readonly env: AppEnv
  readonly components: ReadonlyArray<Component>
  readonly all: boolean
}

export const parseTarget = (
  positionals: ReadonlyArray<string>
): { readonly ok: true; readonly value: DeployRequest } | { readonly ok: false; readonly message: string } => {
  const [env, component = "all", ...rest] = positionals
  if (env === undefined || !isAppEnv(env)) {
    return { ok: false, message: `first argument must be the environment: ${AppEnvs.join(" | ")}` }
  }
  if (rest.length > 0) return { ok: false, message: `unexpected arguments: ${rest.join(" ")}` }
  if (component === "all") return { ok: true, value: { env, components: Components, all: true } }
  const names = component.split(",").map((s) => s.trim())
  const unknown = names.filter((n) => !isComponent(n))
  if (unknown.length > 0) {
    return { ok: false, message: `unknown component ${unknown.join(", ")}; one of all, ${Components.join(", ")}` }
  }
  return { ok: true, value: { env, components: names.filter(isComponent), all: false } }
}

/** A tool the chosen path needs, and how to get it. */
export interface Tool {
  readonly command: string
  readonly why: string
  readonly install: string
}

export const Tools = {
  pulumi: {
    command: "pulumi",
    why: "runs `pulumi up` (the Automation API drives the CLI)",
    install: "curl -fsSL https://get.pulumi.com | sh  (then `pulumi login` or set PULUMI_BACKEND_URL)"
  },
  kubectl: {
    command: "kubectl",
    why: "waits for each Deployment's rollout (readiness = /health/ready) and tails logs",
    install: "gcloud components install kubectl gke-gcloud-auth-plugin"
  },
  docker: {
    command: "docker",
    why: "builds and runs the compose stack",
    install: "https://docs.docker.com/engine/install/ (with the compose plugin)"
  }
} as const satisfies Record<string, Tool>

export const requiredTools = (env: AppEnv, compose: boolean): ReadonlyArray<Tool> =>
  env === "development" ? (compose ? [Tools.docker] : []) : [Tools.pulumi, Tools.kubectl]

/** Whether `command` is an executable on PATH (no shell, no `which`). */
export const onPath = (command: string, path: string = process.env.PATH ?? ""): boolean =>
  path
    .split(delimiter)
    .filter((d) => d !== "")
    .some((d) => spawnSync("test", ["-x", join(d, command)]).status === 0)

export const missingToolsMessage = (missing: ReadonlyArray<Tool>): string =>
  [
    "missing prerequisites:",
    ...missing.map((t) => `  - \`${t.command}\` is not on PATH: it ${t.why}.\n    install: ${t.install}`)
  ].join("\n")

/** The minimum Node the platform supports (package.json engines). */
export const nodeVersionOk = (version: string, min: readonly [number, number] = [24, 0]): boolean => {
  const [major = 0, minor = 0] = version.replace(/^v/, "").split(".").map(Number)
  return major > min[0] || (major === min[0] && minor >= min[1])
}
