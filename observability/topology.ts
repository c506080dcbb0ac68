/**
 * Where each observability component listens. The generated Prometheus config reads these ports,
 * and the config tests check the hand-written Loki, Tempo, collector, Grafana and Alertmanager files
 * against them, so a port is written down once.
 *
 * Two address spaces: a local run scrapes everything at 127.0.0.1 (Prometheus and the exporters run as
 * host processes beside `npm start`); inside the container network (compose / Kubernetes) components
 * reach each other by host name (`tempo`, `loki`, ...).
 */
export const LocalHost = "127.0.0.1"

export const Backends = {
  prometheus: { host: "prometheus", port: 9090 },
  alertmanager: { host: "alertmanager", port: 9093 },
  grafana: { host: "grafana", port: 3030 },
  loki: { host: "loki", port: 3100, grpcPort: 9096 },
  tempo: { host: "tempo", port: 3200, otlpGrpcPort: 4317, otlpHttpPort: 4318 },
  otelCollector: {
    host: "otel-collector",
    otlpGrpcPort: 4317,
    otlpHttpPort: 4318,
    healthPort: 13133,
    /** the collector's `prometheus` exporter, scraped by Prometheus */
    metricsExporterPort: 8889
  }
} as const

/** Exporters the platform guide names, at their upstream default ports. */
export const Exporters = {
  "postgres-exporter": { port: 9187, path: "/metrics" },
  "redis-exporter": { port: 9121, path: "/metrics" },
  "nats-exporter": { port: 7777, path: "/metrics" },
  "node-exporter": { port: 9100, path: "/metrics" },
  cadvisor: { port: 8080, path: "/metrics" }
} as const

export type ExporterName = keyof typeof Exporters

/** Data source UIDs: dashboards, derived fields and trace links refer to these. */
export const DataSourceUids = {
  prometheus: "brandme-prometheus",
  loki: "brandme-loki",
  tempo: "brandme-tempo",
  alertmanager: "brandme-alertmanager"
} as const

export const ScrapeInterval = "15s"
export const EvaluationInterval = "15s"

/**
 * The scheduled logical backup (`npm run backup`, a CronJob in the stacks): when it runs, where it records its
 * last success (a key of the queue Redis the redis exporter exports as `redis_key_value{key=…}`), and how old
 * that success may get before `BackupStale` fires (a day plus the slack of a slow run).
 */
export const Backups = {
  schedule: "30 2 * * *",
  successKey: "brandme:ops:backup:last-success-seconds",
  maxAgeSeconds: 26 * 3600
} as const
