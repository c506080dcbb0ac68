/**
 * Helm charts the platform installs, pinned. Bump deliberately (`helm search repo <chart> --versions`)
 * and read the chart's upgrade notes: CRD API versions used below depend on these. A bump needs
 * the chart's values fixtures (`npm run charts:refresh`, stacks/charts/): npm test fails without them.
 */
export interface ChartRef {
  readonly chart: string
  readonly repo: string
  readonly version: string
}

export const Charts = {
  nats: { chart: "nats", repo: "https://nats-io.github.io/k8s/helm/charts/", version: "1.2.6" },
  ingressNginx: { chart: "ingress-nginx", repo: "https://kubernetes.github.io/ingress-nginx", version: "4.11.3" },
  certManager: { chart: "cert-manager", repo: "https://charts.jetstack.io", version: "v1.16.2" },
  // 0.10.x serves external-secrets.io/v1beta1, the API version the ExternalSecrets below use
  externalSecrets: { chart: "external-secrets", repo: "https://charts.external-secrets.io", version: "0.10.7" },
  kubePrometheusStack: {
    chart: "kube-prometheus-stack",
    repo: "https://prometheus-community.github.io/helm-charts",
    version: "65.8.1"
  },
  loki: { chart: "loki", repo: "https://grafana.github.io/helm-charts", version: "6.21.0" },
  tempo: { chart: "tempo", repo: "https://grafana.github.io/helm-charts", version: "1.14.0" },
  otelCollector: {
    chart: "opentelemetry-collector",
    repo: "https://open-telemetry.github.io/opentelemetry-helm-charts",
    version: "0.110.0"
  }
} as const satisfies Record<string, ChartRef>
