import { Option, Redacted } from "effect"
import { loadConfig, parseCommand, redactUrl, runCli } from "./ops/Cli.js"
import { renderResults, runSmoke, serviceUrls } from "./ops/Smoke.js"

const usage = `Usage: npm run smoke -- [--host <name>] [--timeout <ms>] [--json]

Checks the running platform and prints one row per check; exits 1 when any check fails:
  database (connect, version), schema (every table the migrations declare), cache (Redis PING, SET/GET;
  the queue Redis when REDIS_QUEUE_URL differs), messaging (NATS, JetStream enabled), every service's
  /health/ready and /metrics, orchestrator workers (a BullMQ worker on each queue), and the observability
  stack when configured: PROMETHEUS_URL, ALERTMANAGER_URL, GRAFANA_URL, LOKI_URL, TEMPO_URL,
  OTEL_COLLECTOR_HEALTH_URL (unset → "skipped", not passed).

Where the services are: <SERVICE>_URL (e.g. GATEWAY_URL) per service, else http://<host>:<port + PORT_OFFSET>
(--host or SMOKE_HOST, default 127.0.0.1). Dependencies: DATABASE_URL, REDIS_URL, REDIS_QUEUE_URL, NATS_URL
(APP_ENV selects .env.<APP_ENV>).`

runCli("smoke", async () => {
  const { values } = parseCommand(
    {
      name: "smoke",
      usage,
      options: { host: { type: "string" }, timeout: { type: "string" }, json: { type: "boolean" } }
    },
    process.argv.slice(2)
  )
  const env = process.env
  const config = loadConfig(env)
  const timeoutMs = Number(values.timeout ?? "5000")
  const host = values.host ?? env.SMOKE_HOST ?? "127.0.0.1"
  const nonEmpty = (v: string | undefined) => (v === undefined || v === "" ? undefined : v)
  const redisUrl = Redacted.value(config.redis.url)
  const target = {
    databaseUrl: Redacted.value(config.database.url),
    redisUrl,
    redisQueueUrl: Option.match(config.redis.queueUrl, { onNone: () => undefined, onSome: Redacted.value }),
    natsUrl: Redacted.value(config.nats.url),
    queuePrefix: config.queues.prefix,
    keyPrefix: config.redis.keyPrefix,
    services: serviceUrls(env, host, config.http.portOffset),
    observability: {
      prometheus: nonEmpty(env.PROMETHEUS_URL),
      alertmanager: nonEmpty(env.ALERTMANAGER_URL),
      grafana: nonEmpty(env.GRAFANA_URL),
      loki: nonEmpty(env.LOKI_URL),
      tempo: nonEmpty(env.TEMPO_URL),
      otelCollector: nonEmpty(env.OTEL_COLLECTOR_HEALTH_URL)
    },
    timeoutMs: Number.isFinite(timeoutMs) && timeoutMs > 0 ? timeoutMs : 5000
  }
  if (values.json !== true) {
    process.stdout.write(
      `smoke (${config.appEnv}): database ${redactUrl(target.databaseUrl)}, redis ${redactUrl(redisUrl)}, nats ${redactUrl(target.natsUrl)}, services at ${target.services.gateway} …\n\n`
    )
  }
  const results = await runSmoke(target)
  process.stdout.write(values.json === true ? `${JSON.stringify(results, null, 2)}\n` : `${renderResults(results)}\n`)
  return results.some((r) => r.status === "FAIL") ? 1 : 0
})
