import * as pulumi from "@pulumi/pulumi"
import { ExporterImages } from "../components/Exporters.js"
import { isRecord } from "../../shared/Guards.js"
import type { RecordedResource } from "./harness.js"

/** A value Pulumi marks secret arrives in mock inputs wrapped like this. */
export const isSecretWrapper = (v: unknown): v is { readonly value: unknown } =>
  isRecord(v) && v[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig

export const SecretPlaceholder = "[secret]"

/**
 * Plain data from mock inputs. Secrets are revealed (for checks) or masked leaf by leaf, so a
 * masked Secret keeps its shape (`stringData: { value: "[secret]" }`).
 */
export const plain = (v: unknown, reveal = false, inSecret = false): unknown => {
  if (isSecretWrapper(v)) return plain(v.value, reveal, true)
  if (Array.isArray(v)) return v.map((x) => plain(x, reveal, inSecret))
  if (isRecord(v)) {
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = plain(x, reveal, inSecret)
    return out
  }
  return inSecret && !reveal ? SecretPlaceholder : v
}

export interface K8sObject {
  readonly apiVersion: string
  readonly kind: string
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string> }
  readonly [key: string]: unknown
}

const isK8sObject = (v: unknown): v is K8sObject =>
  isRecord(v) &&
  typeof v.apiVersion === "string" &&
  typeof v.kind === "string" &&
  isRecord(v.metadata) &&
  typeof v.metadata.name === "string"

/** Kubernetes objects (not Helm releases, not providers) as the API server would receive them. */
export const isKubernetesObjectResource = (r: RecordedResource): boolean =>
  r.custom && r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:helm.sh/")

export const kubernetesObjects = (
  resources: ReadonlyArray<RecordedResource>,
  reveal = false
): ReadonlyArray<{ readonly resource: RecordedResource; readonly object: K8sObject | undefined }> =>
  resources.filter(isKubernetesObjectResource).map((resource) => {
    const object = plain(resource.inputs, reveal)
    return { resource, object: isK8sObject(object) ? object : undefined }
  })

export const manifestFileName = (o: K8sObject): string =>
  `${o.kind.toLowerCase()}-${o.metadata.namespace ?? "cluster"}-${o.metadata.name}.yaml`

/** The data stores' exporters (components/Exporters.ts): Deployments beside the workloads, not catalog services. */
export const isExporter = (o: K8sObject): boolean =>
  Object.keys(ExporterImages).includes(o.metadata.labels?.["app.kubernetes.io/component"] ?? "")
