import { Effect, Logger } from "effect"
import { describe, expect, it } from "vitest"
import { makeJsonLogger } from "../shared/telemetry/Logging.js"
import { withRemoteParent } from "../shared/telemetry/TraceContext.js"
import { LogsPipeline, LokiIndexLabels, logsAgentConfig, podLogGlob } from "./logsAgent.js"
import { arr, readYaml, rec, str, strs } from "./testSupport.js"

/**
 * Logs as deployed, up to Loki's door (Loki, the collector and Grafana cannot run here): a service's JSON line
 * written while it works on a scan carries the scan's trace id; the node agent's configuration reads that line
 * from the pod's log file, keeps the trace id, redacts before it exports, and gives Loki exactly the
 * low-cardinality labels the guide's LogQL queries select on. The filelog operators are modelled below (CRI
 * line → JSON attributes → trace ids → `service`), step by step as the collector's docs describe them.
 */
const gateway = rec(readYaml("otel-collector/otel-collector-config.yml"))
const agent = logsAgentConfig({
  namespaces: ["brandme", "brandme-staging"],
  lokiOtlpEndpoint: "http://loki.observability.svc.cluster.local:3100/otlp",
  redaction: rec(gateway, "processors", "transform/redact-pii"),
  memoryLimitMib: 200
})

/** The guide's LogQL examples (GUIDE.md "Logs"), kept here verbatim. */
const GuideQueries = [
  '{service="brain"} |= "ERROR"',
  '{service="orchestrator"} | json | task="persist_scan_event"',
  '{service="compliance"} | json | integrity_valid="false"'
]

/** The filelog receiver's operators applied to one kubelet log line, as the agent's config orders them. */
const agentRecord = (file: string, criLine: string) => {
  const ops = arr(agent.receivers.filelog, "operators").map((o) => rec(o))
  expect(ops.map((o) => o.type)).toEqual(["container", "json_parser", "trace_parser", "severity_parser"])
  // container: `<time> <stream> <F|P> <log>`; the path gives namespace, pod, uid, container
  const m = criLine.match(/^(\S+) (stdout|stderr) ([FP]) (.*)$/)
  const p = file.match(/^\/var\/log\/pods\/([^_]+)_([^_]+)_([^/]+)\/([^/]+)\/\d+\.log$/)
  if (m === null || p === null) throw new Error(`not a CRI line of a pod log file: ${file} ${criLine}`)
  const resource: Record<string, string> = {
    "k8s.namespace.name": p[1] ?? "",
    "k8s.pod.name": p[2] ?? "",
    "k8s.pod.uid": p[3] ?? "",
    "k8s.container.name": p[4] ?? ""
  }
  const body = m[4] ?? ""
  // json_parser into attributes, the body kept
  const attributes: Record<string, unknown> = body.startsWith("{") ? JSON.parse(body) : {}
  // trace_parser
  const traceId = typeof attributes.trace_id === "string" ? attributes.trace_id : undefined
  // k8sattributes (by pod uid) adds the Deployment; transform/labels sets `service`
  resource["k8s.deployment.name"] = "gateway"
  resource.service = typeof attributes.service === "string" ? attributes.service : resource["k8s.deployment.name"]
  resource["deployment.environment"] = "production"
  return { resource, attributes, body, traceId }
}

/** What Loki makes of a record: index labels from the resource attributes it indexes, dots → underscores. */
const lokiLabels = (resource: Record<string, string>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(resource)
      .filter(([k]) => (LokiIndexLabels as ReadonlyArray<string>).includes(k))
      .map(([k, v]) => [k.replaceAll(".", "_"), v])
  )

describe("logs: service line → node agent → Loki labels", () => {
  it("a line logged while a service works on a scan carries the scan's trace id and span id", async () => {
    // the scan's traceparent, as the gateway puts it on the scan event and the orchestrator continues it
    const scanTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
    const lines: Array<string> = []
    await Effect.runPromise(
      withRemoteParent(
        "job persist_scan_event",
        `00-${scanTrace}-00f067aa0ba902b7-01`
      )(Effect.logWarning("persist_scan_event: retrying for owner olivia@example.com")).pipe(
        Effect.annotateLogs({ service: "orchestrator", task: "persist_scan_event" }),
        Effect.provide(
          Logger.replace(
            Logger.defaultLogger,
            makeJsonLogger("orchestrator", (l) => lines.push(l))
          )
        )
      )
    )
    const line = JSON.parse(lines[0] ?? "{}") as Record<string, unknown>
    expect(line.trace_id).toBe(scanTrace)
    expect(String(line.span_id)).toMatch(/^[0-9a-f]{16}$/)
    expect(line.message).not.toContain("olivia@example.com")

    // the kubelet writes it to the pod's file; the agent reads the app namespaces' files only
    const file = "/var/log/pods/brandme_orchestrator-7d9f_0b1c2d3e/orchestrator/0.log"
    expect(strs(agent.receivers.filelog, "include")).toContain(podLogGlob("brandme"))
    expect(strs(agent.receivers.filelog, "include").some((g) => g.includes("observability"))).toBe(false)
    const record = agentRecord(file, `2026-12-03T12:00:00.000000000Z stdout F ${lines[0]?.trimEnd()}`)
    expect(record.traceId).toBe(scanTrace)
    expect(lokiLabels(record.resource)).toEqual({
      service: "orchestrator",
      k8s_namespace_name: "brandme",
      deployment_environment: "production"
    })
    // the guide's query finds it: its stream selector and its `| json` field
    expect(record.attributes.task).toBe("persist_scan_event")
  })

  it("the guide's LogQL queries select on index labels only; Loki indexes exactly those", () => {
    for (const q of GuideQueries) {
      const selector = q.match(/^\{([^}]*)\}/)?.[1] ?? ""
      for (const label of [...selector.matchAll(/([a-z_]+)\s*=/g)].map((x) => x[1] ?? "")) {
        expect(
          LokiIndexLabels.map((l) => l.replaceAll(".", "_")),
          q
        ).toContain(label)
      }
    }
    const loki = readYaml("loki/loki-config.yml")
    const config = rec(loki, "limits_config", "otlp_config", "resource_attributes")
    expect(config.ignore_defaults).toBe(true)
    expect(strs(config, "attributes_config", 0, "attributes")).toEqual([...LokiIndexLabels])
    expect(str(config, "attributes_config", 0, "action")).toBe("index_label")
    // Tempo's trace → logs link filters on the same label
    const ds = readYaml("grafana/provisioning/datasources/datasources.yml")
    const tempo = arr(ds, "datasources")
      .map((d) => rec(d))
      .find((d) => d.type === "tempo")
    expect(rec(tempo, "jsonData", "tracesToLogsV2", "tags", 0)).toEqual({ key: "service.name", value: "service" })
  })

  it("the agent redacts on the node, before the only exporter, and ships logs alone", () => {
    const pipelines = rec(agent.service, "pipelines")
    expect(pipelines.traces).toBeNull()
    expect(pipelines.metrics).toBeNull()
    const logs = rec(pipelines, "logs")
    expect(strs(logs, "receivers")).toEqual(["filelog"])
    expect(strs(logs, "processors")).toEqual([...LogsPipeline])
    expect(strs(logs, "exporters")).toEqual(["otlphttp/loki"])
    const order = strs(logs, "processors")
    expect(order.indexOf("transform/redact-pii")).toBeGreaterThan(order.indexOf("k8sattributes"))
    expect(order.at(-1)).toBe("batch")
    // the same statements as the gateway collector's, which configs.test.ts exercises
    expect(agent.processors["transform/redact-pii"]).toEqual(rec(gateway, "processors", "transform/redact-pii"))
    expect(str(agent.exporters, "otlphttp/loki", "endpoint")).toMatch(
      /^http:\/\/loki\.observability\.svc\.cluster\.local:3100\/otlp$/
    )
  })
})
