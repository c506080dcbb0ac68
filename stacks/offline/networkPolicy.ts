import { isRecord } from "../../shared/Guards.js"
import type { RecordedResource } from "./harness.js"
import { type K8sObject, kubernetesObjects } from "./render.js"

/**
 * Kubernetes NetworkPolicy semantics over the resources a program run registered, so a test can ask who
 * reaches what (no API server or CNI here): a connection from one pod to another's port is allowed when the
 * policies selecting the sender allow it out (or none isolates its egress) and those selecting the receiver
 * allow it in (or none isolates its ingress). Label selectors with matchLabels and matchExpressions
 * (In, NotIn, Exists, DoesNotExist); namespaces matched by their `kubernetes.io/metadata.name` label.
 */

export interface Pod {
  readonly namespace: string
  readonly labels: Readonly<Record<string, string>>
}

type Labels = Pod["labels"]
const rec = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {})
const arr = (v: unknown): ReadonlyArray<unknown> => (Array.isArray(v) ? v : [])

export const selects = (selector: unknown, labels: Labels): boolean => {
  const s = rec(selector)
  const byLabel = Object.entries(rec(s.matchLabels)).every(([k, v]) => labels[k] === v)
  const byExpression = arr(s.matchExpressions)
    .map(rec)
    .every((e) => {
      const key = String(e.key)
      const value = labels[key]
      const values = arr(e.values).map(String)
      switch (e.operator) {
        case "In":
          return value !== undefined && values.includes(value)
        case "NotIn":
          return value === undefined || !values.includes(value)
        case "Exists":
          return value !== undefined
        case "DoesNotExist":
          return value === undefined
        default:
          return false
      }
    })
  return byLabel && byExpression
}

const namespaceLabels = (name: string): Labels => ({ "kubernetes.io/metadata.name": name })

/** Whether a rule's peer (`from` / `to` entry) of a policy in `policyNamespace` is `pod`. */
const peerIs = (peer: unknown, policyNamespace: string, pod: Pod): boolean => {
  const p = rec(peer)
  if (p.ipBlock !== undefined) return false
  const inNamespace =
    p.namespaceSelector === undefined
      ? pod.namespace === policyNamespace
      : selects(p.namespaceSelector, namespaceLabels(pod.namespace))
  return inNamespace && (p.podSelector === undefined || selects(p.podSelector, pod.labels))
}

const portMatches = (ports: unknown, port: number): boolean => {
  const list = arr(ports).map(rec)
  return list.length === 0 || list.some((p) => p.port === undefined || p.port === port)
}

/** One direction at one end: isolated by some policy, and allowed by one of their rules? */
const allows = (
  policies: ReadonlyArray<K8sObject>,
  end: Pod,
  direction: "Ingress" | "Egress",
  peer: Pod,
  port: number
): boolean => {
  const selecting = policies.filter(
    (p) =>
      p.metadata.namespace === end.namespace &&
      selects(rec(p.spec).podSelector, end.labels) &&
      arr(rec(p.spec).policyTypes).includes(direction)
  )
  if (selecting.length === 0) return true
  const field = direction === "Ingress" ? "ingress" : "egress"
  const peersField = direction === "Ingress" ? "from" : "to"
  return selecting.some((p) =>
    arr(rec(p.spec)[field])
      .map(rec)
      .some((rule) => {
        const peers = arr(rule[peersField])
        return (
          portMatches(rule.ports, port) &&
          (peers.length === 0 || peers.some((x) => peerIs(x, p.metadata.namespace ?? "", peer)))
        )
      })
  )
}

export const networkPolicies = (rs: ReadonlyArray<RecordedResource>): ReadonlyArray<K8sObject> =>
  kubernetesObjects(rs, true).flatMap(({ object }) =>
    object !== undefined && object.kind === "NetworkPolicy" ? [object] : []
  )

/** Whether `from` may open a TCP connection to `to` on `port` under these NetworkPolicies. */
export const reaches = (policies: ReadonlyArray<K8sObject>, from: Pod, to: Pod, port: number): boolean =>
  allows(policies, from, "Egress", to, port) && allows(policies, to, "Ingress", from, port)
