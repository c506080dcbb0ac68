/**
 * Loki, Tempo, the OTel Collector and Grafana cannot run on this machine: these tests parse their
 * configs and check structure and every cross-reference (names, ports, UIDs) instead.
 */
import { describe, expect, it } from "vitest"
import { arr, hostOf, num, portOf, readText, readYaml, rec, str, strs } from "./testSupport.js"
import { Backends, DataSourceUids } from "./topology.js"

const otel = readYaml("otel-collector/otel-collector-config.yml")
const loki = readYaml("loki/loki-config.yml")
const tempo = readYaml("tempo/tempo.yml")
const datasources = readYaml("grafana/provisioning/datasources/datasources.yml")
const alertmanager = readYaml("alertmanager/alertmanager.yml")

const tempoOtlpGrpc = str(tempo, "distributor", "receivers", "otlp", "protocols", "grpc", "endpoint")
const lokiHttpPort = num(loki, "server", "http_listen_port")
const tempoHttpPort = num(tempo, "server", "http_listen_port")

describe("otel collector", () => {
  const pipelines = rec(otel, "service", "pipelines")

  it("receives OTLP on gRPC 4317 and HTTP 4318 and answers health checks on 13133", () => {
    expect(str(otel, "receivers", "otlp", "protocols", "grpc", "endpoint")).toBe(
      `0.0.0.0:${Backends.otelCollector.otlpGrpcPort}`
    )
    expect(str(otel, "receivers", "otlp", "protocols", "http", "endpoint")).toBe(
      `0.0.0.0:${Backends.otelCollector.otlpHttpPort}`
    )
    expect(Backends.otelCollector).toMatchObject({ otlpGrpcPort: 4317, otlpHttpPort: 4318, healthPort: 13133 })
    expect(str(otel, "extensions", "health_check", "endpoint")).toBe("0.0.0.0:13133")
    expect(strs(otel, "service", "extensions")).toEqual(["health_check"])
  })

  it("has traces, metrics and logs pipelines", () => {
    expect(Object.keys(pipelines).sort()).toEqual(["logs", "metrics", "traces"])
  })

  it.each(["receivers", "processors", "exporters"] as const)(
    "every %s named in a pipeline is defined, and every defined one is used",
    (kind) => {
      const defined = Object.keys(rec(otel, kind))
      const used = new Set(Object.keys(pipelines).flatMap((p) => strs(pipelines, p, kind)))
      for (const name of used) expect(defined).toContain(name)
      expect(new Set(defined)).toEqual(used)
    }
  )

  it("limits memory first and batches last in every pipeline", () => {
    for (const p of Object.keys(pipelines)) {
      const processors = strs(pipelines, p, "processors")
      expect(processors[0]).toBe("memory_limiter")
      expect(processors.at(-1)).toBe("batch")
      expect(processors).toContain("transform/redact-pii")
      expect(processors).toContain("resource")
    }
    expect(num(otel, "processors", "memory_limiter", "limit_mib")).toBe(512)
    expect(num(otel, "processors", "batch", "send_batch_size")).toBe(1024)
    const keys = arr(otel, "processors", "resource", "attributes").map((_, i) =>
      str(otel, "processors", "resource", "attributes", i, "key")
    )
    expect(keys).toContain("deployment.environment")
  })

  it("sends traces to Tempo's OTLP gRPC port, logs to Loki's OTLP endpoint, metrics to the scraped exporter", () => {
    const tempoEndpoint = str(otel, "exporters", "otlp/tempo", "endpoint")
    expect(hostOf(tempoEndpoint)).toBe(Backends.tempo.host)
    expect(portOf(tempoEndpoint)).toBe(portOf(tempoOtlpGrpc))
    expect(portOf(tempoEndpoint)).toBe(Backends.tempo.otlpGrpcPort)
    expect(strs(pipelines, "traces", "exporters")).toEqual(["otlp/tempo"])

    const lokiEndpoint = str(otel, "exporters", "otlphttp/loki", "endpoint")
    expect(lokiEndpoint).toBe(`http://${Backends.loki.host}:${lokiHttpPort}/otlp`)
    expect(strs(pipelines, "logs", "exporters")).toEqual(["otlphttp/loki"])

    expect(portOf(str(otel, "exporters", "prometheus", "endpoint"))).toBe(Backends.otelCollector.metricsExporterPort)
    const scrape = readYaml("prometheus/prometheus.yml")
    const job = arr(scrape, "scrape_configs").findIndex(
      (_, i) => str(scrape, "scrape_configs", i, "job_name") === "otel-collector"
    )
    expect(portOf(strs(scrape, "scrape_configs", job, "static_configs", 0, "targets")[0] ?? "")).toBe(
      Backends.otelCollector.metricsExporterPort
    )
  })
})

/** The OTTL patterns, as the collector sees them after YAML and `$$` unescaping, run through JS RegExp. */
const redactions = (): ReadonlyArray<{ readonly re: RegExp; readonly replacement: string }> => {
  const statements = arr(otel, "processors", "transform/redact-pii", "log_statements").flatMap((_, i) =>
    strs(otel, "processors", "transform/redact-pii", "log_statements", i, "statements")
  )
  return statements.flatMap((s) => {
    const m = s.match(/^replace_pattern\(body, "((?:[^"\\]|\\.)*)", "((?:[^"\\]|\\.)*)"\)/)
    if (m?.[1] === undefined || m[2] === undefined) return []
    const ottl = m[1].replace(/\\\\/g, "\\")
    const insensitive = ottl.startsWith("(?i)")
    return [
      {
        re: new RegExp(insensitive ? ottl.slice(4) : ottl, insensitive ? "gi" : "g"),
        replacement: m[2].replace(/\$\$/g, "$")
      }
    ]
  })
}

const redact = (line: string) => redactions().reduce((acc, r) => acc.replace(r.re, r.replacement), line)

describe("PII redaction", () => {
  it("drops person-name, e-mail and credential attributes", () => {
    const text = readText("otel-collector/otel-collector-config.yml")
    for (const key of [
      "user\\\\.(name|full_name|email)",
      "person\\\\..+",
      "(first|last|full|given|family)_?name",
      "authorization"
    ]) {
      expect(text).toContain(key)
    }
  })

  it.each([
    ["contact jane.doe+tag@example.co.uk now", "contact [REDACTED_EMAIL] now"],
    ["Authorization: Bearer abc.DEF-123_x", "Authorization: Bearer [REDACTED]"],
    ["token eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl seen", "token [REDACTED_JWT] seen"],
    ["GET /v1/x?api_key=sk_live_123&page=2", "GET /v1/x?api_key=[REDACTED]&page=2"],
    ["blockfrost project_id: mainnetAbCdEf0123456789", "blockfrost project_id: [REDACTED]"]
  ])("redacts %s", (line, expected) => {
    expect(redact(line)).toBe(expected)
  })

  it("leaves ordinary log lines alone", () => {
    const line = "scan 01J9 resolved intent=public_view in 12ms (gtin 09506000134352)"
    expect(redact(line)).toBe(line)
  })
})

describe("loki", () => {
  it("keeps logs 7 days, with retention enforced by the compactor", () => {
    expect(str(loki, "limits_config", "retention_period")).toBe("168h")
    expect(rec(loki, "compactor").retention_enabled).toBe(true)
    expect(str(loki, "compactor", "delete_request_store")).toBe("filesystem")
  })

  it("ingests 10 MB/s and stores on the filesystem with a shipped index", () => {
    expect(num(loki, "limits_config", "ingestion_rate_mb")).toBe(10)
    const schema = rec(loki, "schema_config", "configs", 0)
    expect(["tsdb", "boltdb-shipper"]).toContain(str(schema, "store"))
    expect(str(schema, "object_store")).toBe("filesystem")
    expect(rec(loki, "storage_config")).toHaveProperty(
      str(schema, "store") === "tsdb" ? "tsdb_shipper" : "boltdb_shipper"
    )
    expect(rec(loki, "limits_config").allow_structured_metadata).toBe(true)
  })

  it("listens where the topology says and sends ruler alerts to Alertmanager", () => {
    expect(lokiHttpPort).toBe(Backends.loki.port)
    expect(num(loki, "server", "grpc_listen_port")).toBe(Backends.loki.grpcPort)
    expect(str(loki, "ruler", "alertmanager_url")).toBe(
      `http://${Backends.alertmanager.host}:${Backends.alertmanager.port}`
    )
  })
})

describe("tempo", () => {
  it("receives OTLP over gRPC and HTTP and stores blocks locally", () => {
    expect(portOf(tempoOtlpGrpc)).toBe(Backends.tempo.otlpGrpcPort)
    expect(portOf(str(tempo, "distributor", "receivers", "otlp", "protocols", "http", "endpoint"))).toBe(
      Backends.tempo.otlpHttpPort
    )
    expect(str(tempo, "storage", "trace", "backend")).toBe("local")
    expect(tempoHttpPort).toBe(Backends.tempo.port)
  })

  it("writes generated metrics to Prometheus", () => {
    const url = str(tempo, "metrics_generator", "storage", "remote_write", 0, "url")
    expect(url).toBe(`http://${Backends.prometheus.host}:${Backends.prometheus.port}/api/v1/write`)
  })
})

describe("grafana provisioning", () => {
  const list = arr(datasources, "datasources").map((_, i) => rec(datasources, "datasources", i))
  const byType = (type: string) => {
    const ds = list.find((d) => d.type === type)
    expect(ds, `no ${type} data source`).toBeDefined()
    return ds ?? {}
  }

  it("provisions Prometheus, Loki, Tempo and Alertmanager with the fixed UIDs", () => {
    expect(list.map((d) => [d.type, d.uid])).toEqual([
      ["prometheus", DataSourceUids.prometheus],
      ["loki", DataSourceUids.loki],
      ["tempo", DataSourceUids.tempo],
      ["alertmanager", DataSourceUids.alertmanager]
    ])
  })

  it("points each data source at the port its service listens on", () => {
    expect(str(byType("prometheus"), "url")).toBe(`http://${Backends.prometheus.host}:${Backends.prometheus.port}`)
    expect(str(byType("loki"), "url")).toBe(`http://${Backends.loki.host}:${lokiHttpPort}`)
    expect(str(byType("tempo"), "url")).toBe(`http://${Backends.tempo.host}:${tempoHttpPort}`)
  })

  it("links logs to traces and traces to logs through existing UIDs", () => {
    const uids = new Set(list.map((d) => d.uid))
    const loki = byType("loki")
    const derived = arr(loki, "jsonData", "derivedFields")
    expect(derived.length).toBeGreaterThan(0)
    for (let i = 0; i < derived.length; i++) {
      expect(str(loki, "jsonData", "derivedFields", i, "datasourceUid")).toBe(DataSourceUids.tempo)
      expect(str(loki, "jsonData", "derivedFields", i, "url")).toBe("$${__value.raw}")
    }
    const tempoDs = byType("tempo")
    expect(str(tempoDs, "jsonData", "tracesToLogsV2", "datasourceUid")).toBe(DataSourceUids.loki)
    expect(rec(tempoDs, "jsonData", "tracesToLogsV2").filterByTraceID).toBe(true)
    for (const path of [["tracesToMetrics"], ["serviceMap"], ["lokiSearch"]] as const) {
      expect(uids).toContain(str(tempoDs, "jsonData", ...path, "datasourceUid"))
    }
    expect(str(byType("prometheus"), "jsonData", "exemplarTraceIdDestinations", 0, "datasourceUid")).toBe(
      DataSourceUids.tempo
    )
  })

  it("has a file provider for the generated dashboards", () => {
    const providers = readYaml("grafana/provisioning/dashboards/dashboards.yml")
    expect(str(providers, "providers", 0, "type")).toBe("file")
    expect(str(providers, "providers", 0, "options", "path")).toMatch(/^\/var\/lib\/grafana\/dashboards/)
    expect(rec(providers, "providers", 0).allowUiUpdates).toBe(false)
  })
})

describe("alertmanager", () => {
  const receivers = arr(alertmanager, "receivers").map((_, i) => rec(alertmanager, "receivers", i))
  const receiver = (name: string) => receivers.find((r) => r.name === name) ?? {}
  const routes = arr(alertmanager, "route", "routes").map((_, i) => rec(alertmanager, "route", "routes", i))
  const routeFor = (severity: string) => routes.find((r) => strs(r, "matchers").includes(`severity="${severity}"`))

  it("pages critical alerts through PagerDuty with the routing key read from a file", () => {
    const name = str(routeFor("critical"), "receiver")
    const pd = rec(receiver(name), "pagerduty_configs", 0)
    expect(str(pd, "routing_key_file")).toMatch(/^\/etc\/alertmanager\/secrets\//)
    expect(pd).not.toHaveProperty("routing_key")
  })

  it("sends warnings to Slack with the webhook URL read from a file", () => {
    const name = str(routeFor("warning"), "receiver")
    const slack = rec(receiver(name), "slack_configs", 0)
    expect(str(slack, "api_url_file")).toMatch(/^\/etc\/alertmanager\/secrets\//)
    expect(slack).not.toHaveProperty("api_url")
  })

  it("lets a critical alert inhibit the warning of the same alert and service", () => {
    const rule = rec(alertmanager, "inhibit_rules", 0)
    expect(strs(rule, "source_matchers")).toEqual(['severity="critical"'])
    expect(strs(rule, "target_matchers")).toEqual(['severity="warning"'])
    expect(strs(rule, "equal")).toEqual(["alertname", "service"])
  })

  it("holds no secret", () => {
    const text = readText("alertmanager/alertmanager.yml")
    expect(text).not.toMatch(/hooks\.slack\.com|routing_key:|service_key:|api_url:/)
  })
})
