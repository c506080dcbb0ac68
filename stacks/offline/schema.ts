import { Deployment } from "kubernetes-models/apps/v1"
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2"
import { CronJob, Job } from "kubernetes-models/batch/v1"
import { Ingress, NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1"
import { PodDisruptionBudget } from "kubernetes-models/policy/v1"
import { StorageClass } from "kubernetes-models/storage.k8s.io/v1"
import { ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service, ServiceAccount } from "kubernetes-models/v1"
import type { Violations } from "./policy.js"
import type { K8sObject } from "./render.js"

/** Built-in kinds the program creates, validated against the Kubernetes OpenAPI schema. */
const models: Readonly<Record<string, () => { validate(): void }>> = {
  "v1/Namespace": () => new Namespace(),
  "v1/Service": () => new Service(),
  "v1/ConfigMap": () => new ConfigMap(),
  "v1/Secret": () => new Secret(),
  "v1/ServiceAccount": () => new ServiceAccount(),
  "apps/v1/Deployment": () => new Deployment(),
  "batch/v1/Job": () => new Job(),
  "batch/v1/CronJob": () => new CronJob(),
  "v1/PersistentVolumeClaim": () => new PersistentVolumeClaim(),
  "autoscaling/v2/HorizontalPodAutoscaler": () => new HorizontalPodAutoscaler(),
  "policy/v1/PodDisruptionBudget": () => new PodDisruptionBudget(),
  "networking.k8s.io/v1/NetworkPolicy": () => new NetworkPolicy(),
  "networking.k8s.io/v1/Ingress": () => new Ingress(),
  "storage.k8s.io/v1/StorageClass": () => new StorageClass()
}

/** Custom resources (not in kubernetes-models): the groups the charts install, checked for shape only. */
const customGroups = ["cert-manager.io/", "external-secrets.io/", "monitoring.coreos.com/"]
const dns1123 = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/

export const validateObject = (o: K8sObject): Violations => {
  const where = `${o.kind} ${o.metadata.namespace ?? "-"}/${o.metadata.name}`
  const make = models[`${o.apiVersion}/${o.kind}`]
  if (make !== undefined) {
    const model = Object.assign(make(), o)
    try {
      model.validate()
      return []
    } catch (e) {
      return [`${where}: ${e instanceof Error ? e.message : String(e)}`]
    }
  }
  if (!customGroups.some((g) => o.apiVersion.startsWith(g))) return [`${where}: unknown apiVersion ${o.apiVersion}`]
  const v: Array<string> = []
  if (!/^[a-z0-9.-]+\/v[0-9a-z]+$/.test(o.apiVersion)) v.push(`${where}: malformed apiVersion`)
  if (!/^[A-Z][A-Za-z]+$/.test(o.kind)) v.push(`${where}: malformed kind`)
  if (!dns1123.test(o.metadata.name)) v.push(`${where}: name is not DNS-1123`)
  if (o.metadata.namespace !== undefined && !dns1123.test(o.metadata.namespace)) v.push(`${where}: bad namespace`)
  if (o.spec === undefined) v.push(`${where}: no spec`)
  return v
}
