/**
 * The metric catalog: every metric the platform emits, in one place. Services emit only these;
 * dashboards, alert rules and SLOs are generated from or checked against this list.
 * Naming follows Prometheus conventions: `brandme_` prefix, `_total` counters, base units.
 */
export type MetricType = "counter" | "gauge" | "histogram"

export interface MetricSpec {
  readonly name: string
  readonly type: MetricType
  readonly help: string
  readonly labelNames: ReadonlyArray<string>
  readonly buckets?: ReadonlyArray<number>
}

const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10] as const
const jobBuckets = [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300] as const

const spec = <const S extends MetricSpec>(s: S): S => s

export const MetricCatalog = {
  httpRequestsTotal: spec({
    name: "brandme_http_requests_total",
    type: "counter",
    help: "HTTP requests served, by service, route, method and status code",
    labelNames: ["service", "route", "method", "status"]
  }),
  httpRequestDuration: spec({
    name: "brandme_http_request_duration_seconds",
    type: "histogram",
    help: "HTTP request duration in seconds, by service, route and method",
    labelNames: ["service", "route", "method"],
    buckets: latencyBuckets
  }),
  httpRequestsInFlight: spec({
    name: "brandme_http_requests_in_flight",
    type: "gauge",
    help: "HTTP requests being served right now",
    labelNames: ["service"]
  }),
  scansTotal: spec({
    name: "brandme_scans_total",
    type: "counter",
    help: "Scans answered, by resolved intent and decision outcome (full, partial, denied)",
    labelNames: ["intent", "decision"]
  }),
  scanDuration: spec({
    name: "brandme_scan_duration_seconds",
    type: "histogram",
    help: "Time to answer a scan, in seconds",
    labelNames: ["intent"],
    buckets: latencyBuckets
  }),
  blockchainTransactionsTotal: spec({
    name: "brandme_blockchain_transactions_total",
    type: "counter",
    help: "Chain transactions by provider and lifecycle status (submitted, confirmed, failed)",
    labelNames: ["provider", "status"]
  }),
  auditEntriesTotal: spec({
    name: "brandme_audit_entries_total",
    type: "counter",
    help: "Audit entries appended to the Merkle log, by kind",
    labelNames: ["kind"]
  }),
  auditIntegrityViolationsTotal: spec({
    name: "brandme_audit_integrity_violations_total",
    type: "counter",
    help: "Audit log integrity violations detected, by kind (modified, deleted, inserted, reordered, truncated)",
    labelNames: ["kind"]
  }),
  auditTreeSize: spec({
    name: "brandme_audit_tree_size",
    type: "gauge",
    help: "Leaves in the audit Merkle log at the last checkpoint",
    labelNames: []
  }),
  queueJobsTotal: spec({
    name: "brandme_queue_jobs_total",
    type: "counter",
    help: "Queue jobs finished, by queue, task and outcome (completed, failed, retried, dead_lettered)",
    labelNames: ["queue", "task", "outcome"]
  }),
  queueJobDuration: spec({
    name: "brandme_queue_job_duration_seconds",
    type: "histogram",
    help: "Queue job processing time in seconds, by queue and task",
    labelNames: ["queue", "task"],
    buckets: jobBuckets
  }),
  queueDepth: spec({
    name: "brandme_queue_depth",
    type: "gauge",
    help: "Jobs in a queue, by queue and state (waiting, active, delayed, failed; logged: scan log entries not yet relayed into scans jobs)",
    labelNames: ["queue", "state"]
  }),
  queueWorkers: spec({
    name: "brandme_queue_workers",
    type: "gauge",
    help: "Workers attached to a queue",
    labelNames: ["queue"]
  }),
  deadLettersTotal: spec({
    name: "brandme_dead_letters_total",
    type: "counter",
    help: "Jobs moved to the dead-letter queue, by source queue and task",
    labelNames: ["queue", "task"]
  }),
  policyDecisionsTotal: spec({
    name: "brandme_policy_decisions_total",
    type: "counter",
    help: "Policy decisions, by regional regime and whether the cache answered",
    labelNames: ["regime", "cache"]
  }),
  policyEscalationsTotal: spec({
    name: "brandme_policy_escalations_total",
    type: "counter",
    help: "Escalations opened for a person to review, by kind",
    labelNames: ["kind"]
  }),
  dbPoolConnections: spec({
    name: "brandme_db_pool_connections",
    type: "gauge",
    help: "Database pool connections, by service and state (total, idle, waiting, max)",
    labelNames: ["service", "state"]
  }),
  dbQueryDuration: spec({
    name: "brandme_db_query_duration_seconds",
    type: "histogram",
    help: "Database query duration in seconds, by service and operation",
    labelNames: ["service", "operation"],
    buckets: latencyBuckets
  }),
  internalCallDuration: spec({
    name: "brandme_internal_call_duration_seconds",
    type: "histogram",
    help:
      "An internal call's time in the caller, by caller service, callee and stage: waited (for a batch window: " +
      "at most two batches out to one callee) and round_trip (the batch request, the callee's work included)",
    labelNames: ["service", "callee", "stage"],
    buckets: latencyBuckets
  }),
  dependencyUp: spec({
    name: "brandme_dependency_up",
    type: "gauge",
    help: "1 when a dependency answered its last health check, 0 otherwise",
    labelNames: ["service", "dependency"]
  }),
  cacheRequestsTotal: spec({
    name: "brandme_cache_requests_total",
    type: "counter",
    help: "Cache look-ups, by cache and result (hit, miss)",
    labelNames: ["cache", "result"]
  }),
  rateLimitedTotal: spec({
    name: "brandme_rate_limited_total",
    type: "counter",
    help: "Requests refused with 429, by service and limit (client, ip)",
    labelNames: ["service", "limit"]
  })
} as const

export type MetricKey = keyof typeof MetricCatalog

export const allMetricSpecs = (): ReadonlyArray<MetricSpec> => Object.values(MetricCatalog)
