/**
 * The node log agent: the OpenTelemetry Collector as a DaemonSet (stacks Observability.ts, release
 * `otel-agent`) tails the pods' log files of our namespaces, parses each service's JSON line
 * (shared/telemetry/Logging.ts: time, level, service, message, trace_id, span_id), adds the Kubernetes
 * attributes, redacts PII **on the node** (the same `transform/redact-pii` as the gateway collector), and sends
 * the records to Loki over OTLP. Chosen over Promtail / an agent chart because the collector chart is already
 * pinned and its redaction statements are already tested; one configuration language for traces and logs.
 *
 * Labels stay low-cardinality: Loki indexes only the resource attributes in `LokiIndexLabels` (its
 * `otlp_config` ignores its defaults, observability/loki/loki-config.yml), so a stream is one service in one
 * namespace and environment; pod, container, node, trace and span ids are structured metadata. The guide's
 * LogQL (`{service="brain"} |= "ERROR"`, `{service="orchestrator"} | json | task=…`) reads the `service`
 * label and the JSON body, which is kept whole.
 */

/** Resource attributes Loki turns into index labels (dots become underscores: `k8s_namespace_name`). */
export const LokiIndexLabels = ["service", "k8s.namespace.name", "deployment.environment"] as const

/** Where the kubelet writes pod logs: `/var/log/pods/<namespace>_<pod>_<uid>/<container>/<n>.log`. */
export const podLogGlob = (namespace: string): string => `/var/log/pods/${namespace}_*/*/*.log`

export interface LogsAgentOptions {
  /** the namespaces whose pods' logs are shipped (the app namespaces) */
  readonly namespaces: ReadonlyArray<string>
  /** Loki's OTLP endpoint */
  readonly lokiOtlpEndpoint: string
  /** the gateway collector's `transform/redact-pii` processor, reused as is */
  readonly redaction: unknown
  readonly memoryLimitMib: number
}

export const LogsPipeline = [
  "memory_limiter",
  "k8sattributes",
  "transform/labels",
  "resource",
  "transform/redact-pii",
  "batch"
] as const

export const logsAgentConfig = (o: LogsAgentOptions) => ({
  receivers: {
    filelog: {
      include: o.namespaces.map(podLogGlob),
      start_at: "end",
      include_file_path: true,
      include_file_name: false,
      retry_on_failure: { enabled: true },
      operators: [
        // the CRI line format; sets k8s.namespace.name, k8s.pod.name, k8s.pod.uid, k8s.container.name from the path
        { type: "container", id: "container-parser" },
        // a service's JSON line: its fields become attributes, the body stays the whole line (LogQL `| json`)
        {
          type: "json_parser",
          id: "service-json",
          if: 'body matches "^\\\\{"',
          parse_from: "body",
          parse_to: "attributes",
          on_error: "send_quiet"
        },
        {
          type: "trace_parser",
          if: "attributes.trace_id != nil",
          trace_id: { parse_from: "attributes.trace_id" },
          span_id: { parse_from: "attributes.span_id" }
        },
        { type: "severity_parser", if: "attributes.level != nil", parse_from: "attributes.level" }
      ]
    }
  },
  processors: {
    memory_limiter: {
      check_interval: "1s",
      limit_mib: o.memoryLimitMib,
      spike_limit_mib: Math.floor(o.memoryLimitMib / 4)
    },
    k8sattributes: {
      auth_type: "serviceAccount",
      passthrough: false,
      filter: { node_from_env_var: "K8S_NODE_NAME" },
      extract: { metadata: ["k8s.namespace.name", "k8s.deployment.name", "k8s.node.name"] },
      pod_association: [{ sources: [{ from: "resource_attribute", name: "k8s.pod.uid" }] }]
    },
    // the `service` label: the line's own service (one process may log for several), else the Deployment
    "transform/labels": {
      error_mode: "ignore",
      log_statements: [
        {
          context: "log",
          statements: [
            'set(resource.attributes["service"], attributes["service"]) where attributes["service"] != nil',
            'set(resource.attributes["service"], resource.attributes["k8s.deployment.name"]) where resource.attributes["service"] == nil'
          ]
        }
      ]
    },
    resource: {
      attributes: [
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the collector's own env expansion, not JavaScript's
        { key: "deployment.environment", value: "${env:APP_ENV}", action: "upsert" },
        { key: "service.namespace", value: "brandme", action: "upsert" }
      ]
    },
    "transform/redact-pii": o.redaction,
    batch: { send_batch_size: 1024, timeout: "5s" }
  },
  exporters: {
    "otlphttp/loki": { endpoint: o.lokiOtlpEndpoint }
  },
  service: {
    pipelines: {
      logs: { receivers: ["filelog"], processors: [...LogsPipeline], exporters: ["otlphttp/loki"] },
      // the chart's default pipelines (OTLP, Jaeger, Zipkin in): the agent only ships logs
      traces: null,
      metrics: null
    }
  }
})
