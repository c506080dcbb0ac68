import * as k8s from "@pulumi/kubernetes"
import * as pulumi from "@pulumi/pulumi"
import { ScrapeTargets } from "../../observability/targets.js"
import { callersOf, MetricsPorts, type ServiceName, ServiceNames, Services } from "../../shared/ServiceCatalog.js"
import { ExporterDeployments } from "./Exporters.js"
import { NatsPodLabels } from "./Nats.js"
import { ServiceLabel } from "./Workload.js"

export interface NetworkPoliciesArgs {
  readonly provider: k8s.Provider
  /** every namespace we own, by name: each gets deny-all + DNS */
  readonly namespaces: Readonly<Record<string, k8s.core.v1.Namespace>>
  readonly appNamespace: string
  readonly observabilityNamespace: string
  readonly ingressNamespace: string
  /** where Postgres and Redis live (private service access range, or the operator's CIDR) */
  readonly dataServicesCidr: string
}

const partOf = { "app.kubernetes.io/part-of": "brandme" }
const nsSelector = (name: string) => ({ matchLabels: { "kubernetes.io/metadata.name": name } })
const tcp = (port: number) => ({ protocol: "TCP", port })
// RFC 1918, link-local (metadata server) and CGNAT ranges: the chain pod's internet egress must not reach them
const privateRanges = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10"]

/**
 * Default deny-all (ingress and egress) in every namespace, then explicit allows: DNS, the
 * ingress controller to the gateway, each service's port from the pods of its declared callers only
 * (the catalog's `calls`; the callee checks their service tokens too), services to Postgres/Redis/NATS,
 * OTLP to the collector, Prometheus scrapes, and internet egress on 443 for the chain pod only.
 */
export class NetworkPolicies extends pulumi.ComponentResource {
  constructor(name: string, args: NetworkPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("brandme:platform:NetworkPolicies", name, {}, opts)
    const policy = (namespace: string, policyName: string, spec: k8s.types.input.networking.v1.NetworkPolicySpec) =>
      new k8s.networking.v1.NetworkPolicy(
        `${namespace}-${policyName}`,
        { metadata: { name: policyName, namespace, labels: partOf }, spec },
        {
          parent: this,
          provider: args.provider,
          dependsOn: args.namespaces[namespace] === undefined ? [] : [args.namespaces[namespace]]
        }
      )

    for (const ns of Object.keys(args.namespaces)) {
      policy(ns, "default-deny-all", { podSelector: {}, policyTypes: ["Ingress", "Egress"] })
      policy(ns, "allow-dns-egress", {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
          {
            to: [
              { namespaceSelector: nsSelector("kube-system"), podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }
            ],
            ports: [
              { protocol: "UDP", port: 53 },
              { protocol: "TCP", port: 53 }
            ]
          }
        ]
      })
    }

    const app = args.appNamespace
    const obs = args.observabilityNamespace
    const brandmePods = { podSelector: { matchLabels: partOf } }
    // a service's pods (every workload of it: the orchestrator's worker and beat alike)
    const podsOf = (services: ReadonlyArray<ServiceName>) => ({
      podSelector: {
        matchLabels: partOf,
        matchExpressions: [{ key: ServiceLabel, operator: "In", values: [...services] }]
      }
    })
    const servicePods = (service: ServiceName) => ({ matchLabels: { ...partOf, [ServiceLabel]: service } })

    policy(app, "allow-ingress-to-gateway", {
      podSelector: { matchLabels: { "app.kubernetes.io/name": "gateway" } },
      policyTypes: ["Ingress"],
      ingress: [
        { from: [{ namespaceSelector: nsSelector(args.ingressNamespace) }], ports: [tcp(Services.gateway.port)] }
      ]
    })
    policy(app, "allow-acme-http01-solver", {
      podSelector: { matchLabels: { "acme.cert-manager.io/http01-solver": "true" } },
      policyTypes: ["Ingress"],
      ingress: [{ from: [{ namespaceSelector: nsSelector(args.ingressNamespace) }], ports: [tcp(8089)] }]
    })
    // service to service: exactly the catalog's calls, on the callee's port, both ends
    for (const service of ServiceNames) {
      const callers = callersOf(service)
      if (callers.length > 0) {
        policy(app, `allow-callers-to-${service}`, {
          podSelector: servicePods(service),
          policyTypes: ["Ingress"],
          ingress: [{ from: [podsOf(callers)], ports: [tcp(Services[service].port)] }]
        })
      }
      const calls = Services[service].calls
      if (calls.length > 0) {
        policy(app, `allow-${service}-calls`, {
          podSelector: servicePods(service),
          policyTypes: ["Egress"],
          egress: calls.map((callee) => ({ to: [podsOf([callee])], ports: [tcp(Services[callee].port)] }))
        })
      }
    }
    // Prometheus reaches the metrics ports only (a service's own port stays closed to the observability namespace)
    const exporterPorts = [
      ...new Set(ExporterDeployments.flatMap((e) => ScrapeTargets.filter((t) => t.job === e.job).map((t) => t.port)))
    ]
    policy(app, "allow-prometheus-scrape", {
      podSelector: { matchLabels: partOf },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [{ namespaceSelector: nsSelector(obs) }],
          ports: [...new Set([...Object.values(MetricsPorts), ...exporterPorts])].map(tcp)
        }
      ]
    })
    policy(app, "allow-data-services-egress", {
      podSelector: { matchLabels: partOf },
      policyTypes: ["Egress"],
      egress: [{ to: [{ ipBlock: { cidr: args.dataServicesCidr } }], ports: [tcp(5432), tcp(6378), tcp(6379)] }]
    })
    policy(app, "allow-nats-clients-egress", {
      podSelector: { matchLabels: partOf },
      policyTypes: ["Egress"],
      egress: [{ to: [{ podSelector: { matchLabels: NatsPodLabels } }], ports: [tcp(4222)] }]
    })
    policy(app, "allow-nats-server", {
      podSelector: { matchLabels: NatsPodLabels },
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        { from: [brandmePods], ports: [tcp(4222)] },
        { from: [{ podSelector: { matchLabels: NatsPodLabels } }], ports: [tcp(4222), tcp(6222)] },
        { from: [{ namespaceSelector: nsSelector(obs) }], ports: [tcp(7777), tcp(8222)] }
      ],
      egress: [{ to: [{ podSelector: { matchLabels: NatsPodLabels } }], ports: [tcp(4222), tcp(6222)] }]
    })
    policy(app, "allow-otlp-egress", {
      podSelector: { matchLabels: partOf },
      policyTypes: ["Egress"],
      egress: [{ to: [{ namespaceSelector: nsSelector(obs) }], ports: [tcp(4317), tcp(4318)] }]
    })
    // The chain provider (Blockfrost / Ogmios) is a public HTTPS API with no fixed address range:
    // 0.0.0.0/0 on 443 is allowed for the chain pod alone, minus every private range.
    policy(app, "allow-chain-provider-egress", {
      podSelector: { matchLabels: { "app.kubernetes.io/name": "chain" } },
      policyTypes: ["Egress"],
      egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: privateRanges } }], ports: [tcp(443)] }]
    })

    // observability: its charts talk among themselves, scrape every namespace and the nodes,
    // reach the API server and the alert receivers on 443
    policy(obs, "allow-same-namespace", {
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ from: [{ podSelector: {} }] }],
      egress: [{ to: [{ podSelector: {} }] }]
    })
    policy(obs, "allow-otlp-ingress", {
      podSelector: { matchLabels: { "app.kubernetes.io/name": "opentelemetry-collector" } },
      policyTypes: ["Ingress"],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: partOf } }], ports: [tcp(4317), tcp(4318)] }]
    })
    policy(obs, "allow-scrape-and-api-egress", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        { to: [{ namespaceSelector: {} }] },
        { to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [tcp(443), tcp(10250), tcp(9100)] }
      ]
    })
    this.registerOutputs({})
  }
}
