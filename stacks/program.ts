// submodule imports: the root @pulumi/gcp module makes tsc load every GCP service's types
import { Provider } from "@pulumi/gcp/provider.js"
import * as k8s from "@pulumi/kubernetes"
import * as pulumi from "@pulumi/pulumi"
import { awsFoundation } from "./aws/foundation.js"
import type { GcpConfig, StackConfig } from "./config.js"
import { ExternalSecrets, StaticSecrets } from "./components/AppSecrets.js"
import { AppServices, WorkloadServiceAccount } from "./components/AppServices.js"
import { Cluster } from "./components/Cluster.js"
import { Database } from "./components/Database.js"
import { Ingress, IngressGeoHeader, IngressNamespace, IngressProxyHops } from "./components/Ingress.js"
import { Namespaces } from "./components/Namespaces.js"
import { Nats } from "./components/Nats.js"
import { Network } from "./components/Network.js"
import { NetworkPolicies } from "./components/NetworkPolicies.js"
import { Observability, OtlpHttpEndpoint } from "./components/Observability.js"
import { Redis } from "./components/Redis.js"
import { Registry } from "./components/Registry.js"
import { SecretStore } from "./components/SecretStore.js"
import type { Foundation } from "./foundation.js"
import { readObservabilityFiles } from "./observabilityFiles.js"
import type { SecretNamespace } from "./secrets.js"
import { clusterHost, workloadsFor } from "./workloads.js"

const CloudProviderName = "gcp"

/** Cloud layer: network → cluster → data services → secrets, on GCP. */
const gcpFoundation = (cfg: StackConfig, g: GcpConfig, root: pulumi.ComponentResourceOptions): Foundation => {
  const provider = new Provider(CloudProviderName, { project: g.project, region: g.region, zone: g.zone }, root)
  const network = new Network("brandme", { gcp: g, provider }, root)
  const cluster = new Cluster(
    "brandme",
    {
      gcp: g,
      provider,
      network,
      deletionProtection: g.dbDeletionProtection
    },
    root
  )
  const database = new Database("brandme-pg", { gcp: g, provider, network }, root)
  const redis = new Redis("brandme-redis", { gcp: g, provider, network }, root)
  const registry = new Registry("brandme-images", { project: g.project, region: g.region, provider }, root)
  const s = cfg.secrets
  const secrets = new SecretStore(
    "brandme-secrets",
    {
      project: g.project,
      provider,
      workloadPool: cluster.workloadPool,
      ksa: { namespace: cfg.appNamespace, name: WorkloadServiceAccount },
      values: {
        databasePassword: g.databasePassword,
        redisCacheAuth: redis.cache.authString,
        redisQueueAuth: redis.queue.authString,
        databaseUrl: database.url,
        redisUrl: redis.cache.url,
        redisQueueUrl: redis.queue.url,
        // every configured application secret (AppSecrets), as is
        ...s
      }
    },
    root
  )
  return {
    kubeconfig: cluster.kubeconfig,
    dependsOn: [cluster],
    imageRepository: cfg.imageRepository === "" ? registry.imageRepository : cfg.imageRepository,
    managedControlPlane: true,
    ingress: { loadBalancerIp: network.ingressAddress, serviceAnnotations: {} },
    dataServicesCidr: g.privateServiceCidr,
    caBundle: pulumi
      .all([database.caCert, redis.cache.caCert, redis.queue.caCert])
      .apply((certs) => certs.filter((c) => c.length > 0).join("\n")),
    workloadServiceAccountAnnotations: { "iam.gke.io/gcp-service-account": secrets.workloadServiceAccountEmail },
    secrets: (args, opts) =>
      new ExternalSecrets(
        "external-secrets",
        {
          ...args,
          project: g.project,
          clusterName: cluster.name,
          clusterLocation: cluster.location,
          serviceAccount: { namespace: cfg.appNamespace, name: WorkloadServiceAccount }
        },
        opts
      ),
    outputs: {
      clusterName: cluster.name,
      databaseConnectionName: database.connectionName,
      databasePrivateIp: database.privateIp,
      redisCacheHost: redis.cache.host,
      redisQueueHost: redis.queue.host,
      imageRepository: registry.imageRepository,
      workloadServiceAccount: secrets.workloadServiceAccountEmail,
      ingressIp: network.ingressAddress
    }
  }
}

export type BrandmeOutputs = Record<string, pulumi.Input<unknown>>

export interface BrandmeOptions {
  /** where the observability configs live (tests point elsewhere) */
  readonly observabilityDir?: string
  /** applied to every resource (children inherit them): the offline harness records dependsOn with it */
  readonly transformations?: ReadonlyArray<pulumi.ResourceTransformation>
}

/** The whole stack: cloud layer (gcp, aws) or an existing cluster, then platform, then observability. */
export const brandme = (cfg: StackConfig, options: BrandmeOptions = {}): BrandmeOutputs => {
  const root: pulumi.ComponentResourceOptions =
    options.transformations === undefined ? {} : { transformations: [...options.transformations] }
  let foundation: Foundation
  if (cfg.gcp !== undefined) {
    foundation = gcpFoundation(cfg, cfg.gcp, root)
  } else if (cfg.aws !== undefined) {
    foundation = awsFoundation(cfg, cfg.aws, root)
  } else if (cfg.existing !== undefined) {
    if (cfg.imageRepository === "") {
      throw new pulumi.RunError("cloud existing has no Artifact Registry: set brandme:imageRepository")
    }
    const e = cfg.existing
    const s = cfg.secrets
    foundation = {
      kubeconfig: e.kubeconfig,
      dependsOn: [],
      imageRepository: cfg.imageRepository,
      // a cluster we do not know: assume the control plane's components are ours to scrape
      managedControlPlane: false,
      ingress: { loadBalancerIp: undefined, serviceAnnotations: {} },
      dataServicesCidr: e.dataServicesCidr,
      caBundle: undefined,
      workloadServiceAccountAnnotations: {},
      secrets: (args, opts) =>
        new StaticSecrets(
          "static-secrets",
          {
            ...args,
            values: {
              databaseUrl: e.databaseUrl,
              redisUrl: e.redisUrl,
              redisQueueUrl: e.redisQueueUrl,
              // every configured application secret (AppSecrets), as is
              ...s
            }
          },
          opts
        ),
      outputs: {}
    }
  } else {
    throw new pulumi.RunError(`config brandme:cloud=${cfg.cloud} has no matching settings`)
  }

  // ---- platform layer: needs only this provider
  const provider = new k8s.Provider(
    "k8s",
    { kubeconfig: foundation.kubeconfig, enableServerSideApply: true },
    { ...root, dependsOn: [...foundation.dependsOn] }
  )
  const namespaces = new Namespaces("namespaces", { provider }, root)
  const appNs = cfg.appNamespace === "brandme" ? namespaces.byName.brandme : namespaces.byName["brandme-staging"]
  const obsNs = namespaces.byName.observability

  // ---- observability first: its operator owns the CRDs (ServiceMonitor, PrometheusRule) the rest uses
  const observability = new Observability(
    "observability",
    {
      provider,
      namespace: obsNs,
      files: readObservabilityFiles(options.observabilityDir),
      prometheusRetention: cfg.prometheusRetention,
      prometheusStorageGb: cfg.prometheusStorageGb,
      appEnv: cfg.app.appEnv,
      managedControlPlane: foundation.managedControlPlane
    },
    root
  )
  const monitoring = observability.operator

  const namespaceFor = (ns: SecretNamespace): pulumi.Input<string> =>
    ns === "observability" ? obsNs.metadata.name : appNs.metadata.name
  const secrets = foundation.secrets({ provider, namespaceFor, after: [appNs, obsNs], monitoring }, root)

  const nats = new Nats("nats", { provider, namespace: appNs, monitoring }, root)
  const ingress = new Ingress(
    "ingress",
    {
      provider,
      appNamespace: appNs,
      domain: cfg.domain,
      acmeEmail: cfg.acmeEmail,
      acmeServer: cfg.acmeServer,
      loadBalancerIp: foundation.ingress.loadBalancerIp,
      serviceAnnotations: foundation.ingress.serviceAnnotations,
      maxBodyBytes: cfg.app.httpMaxBodyBytes,
      monitoring
    },
    root
  )
  new NetworkPolicies(
    "network-policies",
    {
      provider,
      namespaces: namespaces.byName,
      appNamespace: cfg.appNamespace,
      observabilityNamespace: "observability",
      ingressNamespace: IngressNamespace,
      dataServicesCidr: foundation.dataServicesCidr
    },
    root
  )

  const a = cfg.app
  const services = new AppServices(
    "services",
    {
      provider,
      namespace: appNs,
      image: pulumi.interpolate`${foundation.imageRepository}:${cfg.imageTag}`,
      imageTag: cfg.imageTag,
      workloads: workloadsFor(cfg.workloadProfile, (s) => clusterHost(s, cfg.appNamespace)),
      env: {
        APP_ENV: a.appEnv,
        LOG_LEVEL: a.logLevel,
        DATABASE_POOL_MAX: String(a.databasePoolMax),
        DATABASE_SSL: a.databaseSsl,
        NATS_URL: nats.url,
        OTEL_EXPORTER_OTLP_ENDPOINT: OtlpHttpEndpoint,
        HTTP_MAX_BODY_BYTES: String(a.httpMaxBodyBytes),
        HTTP_TRUSTED_PROXY_HOPS: String(IngressProxyHops),
        GEO_REGION_HEADER: IngressGeoHeader,
        SHUTDOWN_GRACE_MS: String(a.shutdownGraceMs),
        AUDIT_LOG_ORIGIN: a.auditLogOrigin,
        CHAIN_PROVIDER: a.chainProvider,
        CHAIN_NETWORK: a.chainNetwork,
        BLOCKFROST_URL: a.blockfrostUrl,
        OGMIOS_URL: a.ogmiosUrl
      },
      serviceAccountAnnotations: foundation.workloadServiceAccountAnnotations,
      caBundle: foundation.caBundle,
      // the process drains for SHUTDOWN_GRACE_MS; Kubernetes must wait a little longer before SIGKILL
      terminationGracePeriodSeconds: Math.ceil(a.shutdownGraceMs / 1000) + 10,
      secretsReady: [...secrets.ready, nats.release],
      monitoring
    },
    root
  )

  return {
    cloud: cfg.cloud,
    appNamespace: cfg.appNamespace,
    gatewayUrl: `https://${ingress.host}`,
    kubeconfig: foundation.kubeconfig,
    migrationJob: services.migration.metadata.name,
    deployments: services.deployments.map((d) => d.metadata.name),
    ...foundation.outputs
  }
}
