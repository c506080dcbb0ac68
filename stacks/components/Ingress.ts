import * as k8s from "@pulumi/kubernetes"
import * as pulumi from "@pulumi/pulumi"
import { Services } from "../../shared/ServiceCatalog.js"
import { Charts } from "../charts.js"
import { release } from "./helm.js"

export interface IngressArgs {
  readonly provider: k8s.Provider
  readonly appNamespace: k8s.core.v1.Namespace
  readonly domain: string
  readonly acmeEmail: string
  readonly acmeServer: "production" | "staging"
  /** the reserved static IP (cloud gcp); empty: the cloud assigns one */
  readonly loadBalancerIp: pulumi.Input<string> | undefined
  /** the cloud's annotations on the controller's LoadBalancer Service (cloud aws: an NLB) */
  readonly serviceAnnotations: Readonly<Record<string, string>>
  readonly monitoring: pulumi.Resource
  /** HTTP_MAX_BODY_BYTES: nginx must not refuse what the gateway accepts */
  readonly maxBodyBytes: number
}

export const IngressNamespace = "ingress-nginx"
/**
 * Proxies of ours that append to X-Forwarded-For in front of the gateway (HTTP_TRUSTED_PROXY_HOPS):
 * the nginx controller only. The cloud load balancer (GCP's passthrough LB; AWS's NLB, instance targets)
 * is layer 4 with externalTrafficPolicy Local, so
 * nginx sees the client's own address; it must not believe a client's X-Forwarded-For itself
 * (use-forwarded-headers false) and appends the peer it saw.
 */
export const IngressProxyHops = 1
/** open connections one client address may hold at the ingress */
export const IngressConnectionsPerClient = 64

/** a compressed GS1 Digital Link: one base64url segment of at least 10 characters (a GTIN alone takes 10) */
export const CompressedLinkPath = "/[A-Za-z0-9_-]{10,}$"

/**
 * The only paths the ingress routes to the gateway: the public API, the token keys and the API
 * reference. `/metrics` and `/health*` are not among them (scrapes and probes come from inside the
 * cluster); a gateway test checks every public route is covered.
 */
export const PublicPaths: ReadonlyArray<{
  readonly path: string
  readonly pathType: "Prefix" | "Exact" | "ImplementationSpecific"
}> = [
  { path: "/v1", pathType: "Prefix" },
  { path: "/.well-known/jwks.json", pathType: "Exact" },
  { path: "/docs", pathType: "Exact" },
  { path: "/openapi.json", pathType: "Exact" },
  // the GS1 Digital Link resolver (services/gateway/Resolver.ts, docs/resolver.md): uncompressed links,
  // the resolver description, and compressed links — one base64url segment at the root, a regex
  // (ImplementationSpecific under nginx's use-regex) that no operational path (/metrics, /health*) matches
  { path: "/01", pathType: "Prefix" },
  { path: "/.well-known/gs1resolver", pathType: "Exact" },
  { path: CompressedLinkPath, pathType: "ImplementationSpecific" }
]
/**
 * GEO_REGION_HEADER: the header that carries the client's region to the gateway, believed only from the
 * trusted hop above. nginx sets it on every proxied request (`proxySetHeaders` replaces whatever the
 * client sent), so a client cannot forge it through our hop. Its value is empty until a geo source is
 * configured (ingress-nginx GeoIP2, or GKE's HTTP(S) load balancer with a custom request header
 * `X-Client-Region: {client_region}`): an empty header is an unknown region, i.e. the strictest regime.
 * On AWS the NLB is layer 4 and adds no geo header (CloudFront's CloudFront-Viewer-Country would need
 * CloudFront in front, a second trusted hop): the header stays empty there too.
 */
export const IngressGeoHeader = "X-Client-Region"
export const ClusterIssuerName = "letsencrypt"

const acmeServers = {
  production: "https://acme-v02.api.letsencrypt.org/directory",
  staging: "https://acme-staging-v02.api.letsencrypt.org/directory"
} as const

/** ingress-nginx + cert-manager, a Let's Encrypt ClusterIssuer and the TLS Ingress to the gateway. */
export class Ingress extends pulumi.ComponentResource {
  readonly host: string

  constructor(name: string, args: IngressArgs, opts?: pulumi.ComponentResourceOptions) {
    super("brandme:platform:Ingress", name, {}, opts)
    const o = { parent: this, provider: args.provider }
    this.host = args.domain

    const controller = release(
      "ingress-nginx",
      {
        chart: Charts.ingressNginx,
        namespace: IngressNamespace,
        createNamespace: true,
        values: {
          controller: {
            replicaCount: 2,
            service: {
              externalTrafficPolicy: "Local",
              ...(args.loadBalancerIp === undefined ? {} : { loadBalancerIP: args.loadBalancerIp }),
              ...(Object.keys(args.serviceAnnotations).length === 0
                ? {}
                : { annotations: { ...args.serviceAnnotations } })
            },
            metrics: { enabled: true, serviceMonitor: { enabled: true } },
            config: {
              "use-forwarded-headers": "false",
              "enable-opentelemetry": "false",
              // slow clients: nginx gives up on a trickled head or body (seconds between reads)
              "client-header-timeout": "10",
              "client-body-timeout": "10"
            },
            // the client never sets its own region header through our hop (see IngressGeoHeader)
            proxySetHeaders: { [IngressGeoHeader]: "" },
            // with more than one replica the chart renders a PodDisruptionBudget from this
            minAvailable: 1
          }
        }
      },
      { ...o, dependsOn: [args.monitoring] }
    )
    const certManager = release(
      "cert-manager",
      {
        chart: Charts.certManager,
        namespace: "cert-manager",
        createNamespace: true,
        values: { crds: { enabled: true, keep: true }, prometheus: { servicemonitor: { enabled: true } } }
      },
      { ...o, dependsOn: [args.monitoring] }
    )
    const issuer = new k8s.apiextensions.CustomResource(
      "letsencrypt-issuer",
      {
        apiVersion: "cert-manager.io/v1",
        kind: "ClusterIssuer",
        metadata: { name: ClusterIssuerName },
        spec: {
          acme: {
            server: acmeServers[args.acmeServer],
            email: args.acmeEmail,
            privateKeySecretRef: { name: "letsencrypt-account-key" },
            solvers: [{ http01: { ingress: { ingressClassName: "nginx" } } }]
          }
        }
      },
      { ...o, dependsOn: [certManager] }
    )
    new k8s.networking.v1.Ingress(
      "gateway",
      {
        metadata: {
          name: "gateway",
          namespace: args.appNamespace.metadata.name,
          labels: { "app.kubernetes.io/name": "gateway", "app.kubernetes.io/part-of": "brandme" },
          annotations: {
            "cert-manager.io/cluster-issuer": ClusterIssuerName,
            "nginx.ingress.kubernetes.io/ssl-redirect": "true",
            "nginx.ingress.kubernetes.io/proxy-body-size": `${Math.ceil(args.maxBodyBytes / 1024)}k`,
            // behind the ingress every connection reaches the gateway from nginx: the per-client cap is here
            "nginx.ingress.kubernetes.io/limit-connections": String(IngressConnectionsPerClient),
            // the compressed Digital Link path is a regex (Prefix paths stay anchored prefixes, Exact stay exact)
            "nginx.ingress.kubernetes.io/use-regex": "true"
          }
        },
        spec: {
          ingressClassName: "nginx",
          tls: [{ hosts: [args.domain], secretName: "gateway-tls" }],
          rules: [
            {
              host: args.domain,
              http: {
                paths: PublicPaths.map((p) => ({
                  ...p,
                  backend: { service: { name: "gateway", port: { number: Services.gateway.port } } }
                }))
              }
            }
          ]
        }
      },
      { ...o, dependsOn: [controller, issuer, args.appNamespace] }
    )
    this.registerOutputs({ host: this.host })
  }
}
