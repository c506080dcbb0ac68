import type * as pulumi from "@pulumi/pulumi"
import type { ProcessName } from "../../shared/ServiceCatalog.js"
import { secretsFor } from "../secrets.js"
import type { Resources } from "../workloads.js"

/** What every Brand.Me pod shares: the image, the environment, the service account, the CA bundle. */
export interface PodShape {
  readonly image: pulumi.Input<string>
  readonly serviceAccountName: string
  readonly env: Readonly<Record<string, pulumi.Input<string>>>
  /** ConfigMap with the Cloud SQL / Memorystore CAs (cloud gcp), mounted for NODE_EXTRA_CA_CERTS */
  readonly caBundleConfigMap: string | undefined
  readonly terminationGracePeriodSeconds: number
}

export const CaBundleDir = "/etc/brandme/ca"
export const CaBundleFile = "ca.pem"
export const RunAsUser = 1000

export interface ContainerArgs {
  readonly name: string
  readonly env: Readonly<Record<string, string>>
  readonly secretsOf: ProcessName
  readonly resources: Resources
  readonly command?: ReadonlyArray<string>
}

/**
 * The restricted pod every workload runs: non-root uid 1000, read-only root filesystem with a
 * writable emptyDir /tmp, no privilege escalation, no capabilities, secrets only via secretKeyRef.
 */
export const podSpec = (shape: PodShape, c: ContainerArgs) => {
  const plain = Object.entries({ ...shape.env, ...c.env }).map(([name, value]) => ({ name, value }))
  const secret = secretsFor(c.secretsOf).map((def) => ({
    name: def.env,
    valueFrom: { secretKeyRef: { name: def.target.secret, key: def.target.key, optional: false } }
  }))
  const ca = shape.caBundleConfigMap
  return {
    serviceAccountName: shape.serviceAccountName,
    // the services never call the Kubernetes API
    automountServiceAccountToken: false,
    terminationGracePeriodSeconds: shape.terminationGracePeriodSeconds,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: RunAsUser,
      runAsGroup: RunAsUser,
      fsGroup: RunAsUser,
      seccompProfile: { type: "RuntimeDefault" }
    },
    volumes: [
      { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
      ...(ca === undefined ? [] : [{ name: "ca-bundle", configMap: { name: ca } }])
    ],
    containers: [
      {
        name: c.name,
        image: shape.image,
        imagePullPolicy: "IfNotPresent",
        ...(c.command === undefined ? {} : { command: [...c.command] }),
        env: [
          ...plain,
          ...(ca === undefined ? [] : [{ name: "NODE_EXTRA_CA_CERTS", value: `${CaBundleDir}/${CaBundleFile}` }]),
          ...secret
        ],
        resources: c.resources,
        securityContext: {
          runAsNonRoot: true,
          runAsUser: RunAsUser,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] }
        },
        volumeMounts: [
          { name: "tmp", mountPath: "/tmp" },
          ...(ca === undefined ? [] : [{ name: "ca-bundle", mountPath: CaBundleDir, readOnly: true }])
        ]
      }
    ]
  }
}
