import { spawn, spawnSync } from "node:child_process"
import { openSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Redacted } from "effect"
import type { AppConfigShape } from "../shared/config/AppConfig.js"
import { projectRoot } from "../shared/runtime/Process.js"
import { HealthPaths, Services } from "../shared/ServiceCatalog.js"
import { errorText, fail, info, loadConfig, parseCommand, redactUrl, renderTable, runCli, step } from "./ops/Cli.js"
import { initDatabase } from "./ops/DbInit.js"
import {
  type Component,
  type DeployRequest,
  missingToolsMessage,
  nodeVersionOk,
  onPath,
  parseTarget,
  requiredTools,
  serviceOf,
  StackOf
} from "./ops/Deploy.js"
import { pingNats, withRedis } from "./ops/Smoke.js"

const usage = `Usage: npm run deploy -- <development|staging|production> [all|<component>[,<component>…]] [options]

Components: every service of shared/ServiceCatalog.ts and orchestrator-beat.

development  checks Node, Postgres, Redis and NATS; runs db-init (migrations, demo data when
             FEATURE_DEMO_DATA=true); starts the platform in the background like \`npm start\` (one process,
             logs in $TMPDIR/brandme-dev-<PORT_OFFSET>.log) — or only the chosen components — and waits until every one
             answers ${HealthPaths.ready}. With --compose it runs \`docker compose up -d --build\` instead.
staging,     checks the pulumi and kubectl CLIs; \`pulumi up\` on stack dev|staging|prod through the Automation
production   API (the stack runs the migration Job before the rollout; a component limits the update to its
             Deployment); then waits for each Deployment's rollout (readiness probe = ${HealthPaths.ready})
             and asks the gateway's public ${HealthPaths.ready}.

Options:
  --logs              follow the logs afterwards (development: stays in the foreground)
  --image-tag <tag>   staging/production: set brandme:imageTag before \`pulumi up\`
  --compose           development: use docker compose
  --timeout <s>       how long to wait for health (default 180)`

const NAME = "deploy"

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Polls each URL until it answers 200 or the deadline passes; prints progress; fails naming the laggards. */
const waitHealthy = async (targets: ReadonlyArray<{ name: string; url: string }>, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs
  const pending = new Map(targets.map((t) => [t.name, t.url]))
  const last = new Map<string, string>()
  let reported = ""
  let rounds = 0
  while (pending.size > 0) {
    await Promise.all(
      [...pending].map(async ([name, url]) => {
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(3000) })
          if (res.status === 200) pending.delete(name)
          else last.set(name, `${res.status}`)
        } catch (e) {
          last.set(name, errorText(e))
        }
      })
    )
    if (pending.size === 0) break
    if (Date.now() > deadline) {
      fail(
        `not healthy after ${timeoutMs / 1000}s: ${[...pending.keys()].map((n) => `${n} (${last.get(n) ?? "?"})`).join(", ")}`
      )
    }
    // a line when the set changes, else every ~20 s: progress without flooding the terminal
    const now = [...pending.keys()].join(", ")
    if (now !== reported || rounds % 10 === 0) info(NAME, `waiting for ${pending.size}/${targets.length}: ${now}`)
    reported = now
    rounds++
    await sleep(2000)
  }
  process.stdout.write(
    `${renderTable(
      ["COMPONENT", "HEALTH"],
      targets.map((t) => [t.name, `200 ${t.url}`])
    )}\n`
  )
}

const localUrl = (config: AppConfigShape, c: Component) =>
  `http://127.0.0.1:${Services[serviceOf(c)].port + config.http.portOffset}${HealthPaths.ready}`

const deployDevelopment = async (req: DeployRequest, config: AppConfigShape, logs: boolean, timeoutMs: number) => {
  const root = projectRoot()
  const url = Redacted.value(config.database.url)
  await step(NAME, "Redis and NATS", async () => {
    const problems: Array<string> = []
    await withRedis(Redacted.value(config.redis.url), (r) => r.ping()).catch((e: unknown) =>
      problems.push(`Redis at ${redactUrl(Redacted.value(config.redis.url))}: ${errorText(e)}`)
    )
    await pingNats(Redacted.value(config.nats.url)).catch((e: unknown) =>
      problems.push(`NATS at ${Redacted.value(config.nats.url)}: ${errorText(e)}`)
    )
    if (problems.length > 0)
      fail(`dependencies not reachable:\n  ${problems.join("\n  ")}\n  (see docs/runbooks/service-down.md)`)
  })
  await initDatabase({ config, url, seed: config.features.demoData, waitTimeoutMs: 60_000 })

  // the beat runs inside the orchestrator locally; a subset runs through services/main.ts
  const services = [...new Set(req.components.map(serviceOf))]
  const [script, env] = req.all
    ? ["scripts/start.ts", { ...process.env }]
    : ["services/main.ts", { ...process.env, SERVICE: services.join(",") }]
  // on this process's Node (under npm run: the project's own Node 24), tsx as the loader
  const args = ["--import", "tsx", script]
  if (logs) {
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: "inherit" })
    await waitHealthy(
      services.map((s) => ({ name: s, url: localUrl(config, s) })),
      timeoutMs
    )
    info(NAME, "following logs; Ctrl-C stops the platform")
    return new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? 0)))
  }
  const logFile = join(tmpdir(), `brandme-dev-${config.http.portOffset}.log`)
  const out = openSync(logFile, "a")
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ["ignore", out, out], detached: true })
  child.unref()
  info(NAME, `started ${script} (pid ${child.pid}), logs: ${logFile}`)
  await waitHealthy(
    services.map((s) => ({ name: s, url: localUrl(config, s) })),
    timeoutMs
  )
  info(NAME, `running. Stop with: kill ${child.pid}   Logs: tail -f ${logFile}`)
  return 0
}

const deployCompose = async (req: DeployRequest, config: AppConfigShape, logs: boolean, timeoutMs: number) => {
  const root = projectRoot()
  if (spawnSync("docker", ["compose", "version"], { stdio: "ignore" }).status !== 0) {
    fail("`docker compose` is not available: install the Docker compose plugin (docker compose version must work)")
  }
  const names = req.all ? [] : [...req.components]
  const up = spawnSync("docker", ["compose", "up", "-d", "--build", ...names], { cwd: root, stdio: "inherit" })
  if (up.status !== 0) fail(`docker compose up exited with ${up.status}`)
  const services = [...new Set(req.components.map(serviceOf))]
  await waitHealthy(
    services.map((s) => ({ name: s, url: localUrl(config, s) })),
    timeoutMs
  )
  if (logs) spawnSync("docker", ["compose", "logs", "-f", ...names], { cwd: root, stdio: "inherit" })
  return 0
}

const deployCloud = async (req: DeployRequest, imageTag: string | undefined, logs: boolean, timeoutMs: number) => {
  const root = projectRoot()
  const stackName = StackOf[req.env]
  // the SDK root re-exports the Automation API (its subpath is a directory, which ESM cannot import)
  const { LocalWorkspace } = (await import("@pulumi/pulumi")).automation
  const stack = await step(NAME, `select stack ${stackName}`, () =>
    LocalWorkspace.selectStack({ stackName, workDir: root })
  )
  if (imageTag !== undefined) await stack.setConfig("brandme:imageTag", { value: imageTag })
  // a component limits the update to its Deployment (and what depends on it); the first deploy is always whole
  const target = req.all
    ? undefined
    : ((await stack.exportStack()).deployment?.resources ?? [])
        .filter((r: { type?: string; urn?: string }) => r.type === "kubernetes:apps/v1:Deployment")
        .map((r: { urn: string }) => r.urn)
        .filter((urn: string) => req.components.some((c) => urn.endsWith(`::${c}`)))
  if (target !== undefined && target.length === 0) {
    fail(`no Deployment for ${req.components.join(", ")} in stack ${stackName} yet: deploy "all" first`)
  }
  info(NAME, "migrations run in the stack's migration Job, before the rollout")
  const result = await step(NAME, `pulumi up (${stackName})`, () =>
    stack.up({
      onOutput: (s: string) => process.stdout.write(s),
      ...(target === undefined ? {} : { target, targetDependents: true })
    })
  )
  info(NAME, `pulumi up: ${result.summary.result}, ${JSON.stringify(result.summary.resourceChanges ?? {})}`)
  const namespace = String(result.outputs.appNamespace?.value ?? "brandme")
  const kubeconfig = join(tmpdir(), `brandme-${stackName}-kubeconfig`)
  writeFileSync(kubeconfig, String(result.outputs.kubeconfig?.value ?? ""), { mode: 0o600 })
  const kenv = { ...process.env, KUBECONFIG: kubeconfig }
  for (const c of req.components) {
    await step(NAME, `rollout ${c}`, async () => {
      const r = spawnSync(
        "kubectl",
        ["-n", namespace, "rollout", "status", `deployment/${c}`, `--timeout=${Math.round(timeoutMs / 1000)}s`],
        { env: kenv, stdio: "inherit" }
      )
      if (r.status !== 0)
        fail(`${c} did not become ready (kubectl rollout status exited ${r.status}); see docs/runbooks/service-down.md`)
    })
  }
  const gatewayUrl = result.outputs.gatewayUrl?.value
  if (typeof gatewayUrl === "string")
    await waitHealthy([{ name: "gateway (public)", url: `${gatewayUrl}${HealthPaths.ready}` }], timeoutMs)
  if (logs) {
    spawnSync(
      "kubectl",
      ["-n", namespace, "logs", "-f", "--prefix", "--max-log-requests=40", "-l", "app.kubernetes.io/part-of=brandme"],
      { env: kenv, stdio: "inherit" }
    )
  }
  return 0
}

runCli(NAME, async () => {
  const { values, positionals } = parseCommand(
    {
      name: NAME,
      usage,
      options: {
        logs: { type: "boolean" },
        compose: { type: "boolean" },
        "image-tag": { type: "string" },
        timeout: { type: "string" }
      }
    },
    process.argv.slice(2)
  )
  const parsed = parseTarget(positionals)
  if (!parsed.ok) return fail(`${parsed.message}\n\n${usage}`)
  const req = parsed.value
  const timeoutMs = Math.max(10, Number(values.timeout ?? "180") || 180) * 1000
  info(NAME, `${req.env}: ${req.all ? "all components" : req.components.join(", ")}`)

  if (!nodeVersionOk(process.version))
    fail(`Node ${process.version} is too old: the platform needs >= 24 (package.json engines)`)
  const missing = requiredTools(req.env, values.compose === true).filter((t) => !onPath(t.command))
  if (missing.length > 0) fail(missingToolsMessage(missing))

  const config = loadConfig({ ...process.env, APP_ENV: req.env })
  if (req.env === "development") {
    return values.compose === true
      ? deployCompose(req, config, values.logs === true, timeoutMs)
      : deployDevelopment(req, config, values.logs === true, timeoutMs)
  }
  return deployCloud(req, values["image-tag"], values.logs === true, timeoutMs)
})
