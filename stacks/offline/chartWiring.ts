import { isRecord } from "../../shared/Guards.js"
import { coalesce, loadFixture } from "./chartFixtures.js"
import { arr, at, type MonitorSpec, Models, num, type Rendered, rec, type ServiceSpec, str } from "./chartModels.js"
import type { ReleaseValues } from "./chartValues.js"
import type { Violations } from "./policy.js"
import type { K8sObject } from "./render.js"

/**
 * Cross-checks between what the pinned charts render (chartModels.ts) and what we wire to them:
 * data sources, dashboards, ServiceMonitors, listen ports, storage volumes, Alertmanager routes.
 */

const labelsMatch = (labels: Readonly<Record<string, string>>, selector: Readonly<Record<string, string>>) =>
  Object.entries(selector).every(([k, x]) => labels[k] === x)

export interface Wiring {
  readonly services: ReadonlyArray<ServiceSpec>
  readonly monitors: ReadonlyArray<MonitorSpec>
  readonly rendered: ReadonlyArray<{ readonly release: string } & Rendered>
}

/** The Services and ServiceMonitors of the charts (modelled) and of our own objects. */
export const wiring = (releases: ReadonlyArray<ReleaseValues>, objects: ReadonlyArray<K8sObject>): Wiring => {
  const rendered = releases.flatMap((r) => {
    const model = Models[r.chart.chart]
    if (model === undefined) return []
    const merged = rec(coalesce(loadFixture(r.chart).defaults, r.values))
    return [{ release: r.name, ...model(r, merged) }]
  })
  const ours = objects.filter((o) => o.kind === "Service")
  const services: Array<ServiceSpec> = [
    ...rendered.flatMap((x) => x.services),
    ...ours.map((s) => ({
      namespace: s.metadata.namespace ?? "default",
      name: s.metadata.name,
      labels: s.metadata.labels ?? {},
      ports: arr(rec(s.spec).ports).map((p) => ({ name: str(rec(p).name), port: num(rec(p).port) }))
    }))
  ]
  const monitors: Array<MonitorSpec> = [
    ...rendered.flatMap((x) => x.monitors),
    ...objects
      .filter((o) => o.kind === "ServiceMonitor")
      .map((m) => ({
        where: `ServiceMonitor ${m.metadata.namespace ?? "default"}/${m.metadata.name}`,
        namespace: m.metadata.namespace ?? "default",
        matchLabels: Object.fromEntries(
          Object.entries(rec(at(m.spec, "selector", "matchLabels"))).map(([k, x]) => [k, String(x)])
        ),
        ports: arr(rec(m.spec).endpoints).map((e) => str(rec(e).port))
      }))
  ]
  return { services, monitors, rendered }
}

/** Every ServiceMonitor selects a Service, and each endpoint's port name is one that Service has. */
export const checkServiceMonitors = (w: Wiring): Violations =>
  w.monitors.flatMap((m) => {
    const targets = w.services.filter((s) => s.namespace === m.namespace && labelsMatch(s.labels, m.matchLabels))
    if (targets.length === 0) return [`${m.where}: selects no Service`]
    return m.ports.flatMap((p) =>
      targets.flatMap((s) =>
        s.ports.some((x) => x.name === p) ? [] : [`${m.where}: port ${p} is not a port of Service ${s.name}`]
      )
    )
  })

/** Each chart Service port that the process's own config could move is where the process listens. */
export const checkListenPorts = (w: Wiring): Violations =>
  w.services.flatMap((s) =>
    s.ports.flatMap((p) =>
      p.listens === undefined || p.listens === p.port
        ? []
        : [`Service ${s.name}: port ${p.name} is ${p.port}, the process listens on ${p.listens}`]
    )
  )

/** Loki's and Tempo's storage paths lie on their persistent volumes. */
export const checkStoragePaths = (w: Wiring): Violations =>
  w.rendered.flatMap((r) => {
    if (r.storage === undefined) return []
    const { mount, paths } = r.storage
    if (mount === undefined) return [`${r.release}: no persistent volume`]
    return paths.flatMap((p) =>
      p === mount || p.startsWith(`${mount}/`)
        ? []
        : [`${r.release}: storage path ${p} is not on the volume at ${mount}`]
    )
  })

const dashboardUids = (json: unknown): ReadonlyArray<string> => {
  const out: Array<string> = []
  const walk = (v: unknown, key: string): void => {
    if (key === "datasource" && isRecord(v) && typeof v.uid === "string") out.push(v.uid)
    if (Array.isArray(v)) for (const x of v) walk(x, key)
    else if (isRecord(v)) for (const [k, x] of Object.entries(v)) walk(x, k)
  }
  walk(json, "")
  return out.filter((u) => !u.startsWith("$") && u !== "grafana" && u !== "-- Grafana --")
}

const referencedUids = (doc: unknown): ReadonlyArray<string> => {
  const out: Array<string> = []
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) for (const x of v) walk(x)
    else if (isRecord(v))
      for (const [k, x] of Object.entries(v)) {
        if (k === "datasourceUid" && typeof x === "string") out.push(x)
        else walk(x)
      }
  }
  walk(doc)
  return out
}

/** A ConfigMap holding dashboards: every entry is dashboard JSON. */
const dashboardsIn = (o: K8sObject): ReadonlyArray<unknown> | undefined => {
  if (o.kind !== "ConfigMap") return undefined
  const data = Object.entries(rec(o.data))
  if (data.length === 0 || !data.every(([k]) => k.endsWith(".json"))) return undefined
  return data.map(([, x]) => JSON.parse(String(x)))
}

/**
 * Grafana: the dashboards' data source uids and the data sources' cross-references exist; each data
 * source URL names a Service and one of its ports; dashboard ConfigMaps carry the sidecar's label.
 */
export const checkGrafana = (w: Wiring, objects: ReadonlyArray<K8sObject>): Violations => {
  const grafana = w.rendered.find((r) => r.grafana !== undefined)?.grafana
  if (grafana === undefined) return ["no Grafana among the releases"]
  const v: Array<string> = []
  const uids = new Set(grafana.datasources.map((d) => d.uid))
  for (const d of grafana.datasources) {
    for (const u of referencedUids(d.doc)) if (!uids.has(u)) v.push(`data source ${d.uid}: refers to unknown uid ${u}`)
    const url = URL.canParse(d.url) ? new URL(d.url) : undefined
    if (url === undefined) {
      v.push(`data source ${d.uid}: URL ${d.url} does not parse`)
      continue
    }
    const [name = "", ns = grafana.namespace] = url.hostname.split(".")
    const port = Number(url.port === "" ? (url.protocol === "https:" ? 443 : 80) : url.port)
    const service = w.services.find((s) => s.name === name && s.namespace === ns)
    if (service === undefined) v.push(`data source ${d.uid}: ${d.url} names no Service we know`)
    else if (!service.ports.some((p) => p.port === port))
      v.push(
        `data source ${d.uid}: ${d.url}: Service ${service.name} exposes ${service.ports.map((p) => p.port).join(", ")}, not ${port}`
      )
  }
  const [label, value] = grafana.dashboardLabel
  for (const o of objects) {
    const dashboards = dashboardsIn(o)
    if (dashboards === undefined) continue
    const where = `ConfigMap ${o.metadata.namespace ?? "default"}/${o.metadata.name}`
    if (o.metadata.labels?.[label] !== value) v.push(`${where}: no label ${label}=${value} (the Grafana sidecar's)`)
    if (grafana.searchNamespace !== "ALL" && o.metadata.namespace !== grafana.namespace)
      v.push(`${where}: outside the namespaces the sidecar searches`)
    for (const u of new Set(dashboards.flatMap(dashboardUids)))
      if (!uids.has(u)) v.push(`${where}: data source uid ${u} is not provisioned in Grafana`)
  }
  return v
}

export const checkWiring = (releases: ReadonlyArray<ReleaseValues>, objects: ReadonlyArray<K8sObject>): Violations => {
  const w = wiring(releases, objects)
  return [
    ...checkServiceMonitors(w),
    ...checkListenPorts(w),
    ...checkStoragePaths(w),
    ...checkGrafana(w, objects),
    ...checkAlertmanagerRoutes(releases)
  ]
}

const matcher = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*$/

const matches = (matchers: ReadonlyArray<unknown>, labels: Readonly<Record<string, string>>): boolean =>
  matchers.every((m) => {
    const [, name = "", op, value = ""] = matcher.exec(String(m)) ?? []
    const actual = labels[name] ?? ""
    const re = new RegExp(`^(?:${value})$`)
    return op === "="
      ? actual === value
      : op === "!="
        ? actual !== value
        : op === "=~"
          ? re.test(actual)
          : !re.test(actual)
  })

/** The receiver Alertmanager's routing tree picks for an alert (first matching child, depth first). */
export const routeOf = (route: unknown, labels: Readonly<Record<string, string>>, inherited = ""): string => {
  const receiver = str(rec(route).receiver, inherited)
  for (const child of arr(rec(route).routes))
    if (matches(arr(rec(child).matchers), labels)) return routeOf(child, labels, receiver)
  return receiver
}

/**
 * Our Alertmanager config replaces the chart's routes: each alert the chart's default routes send
 * to a receiver that notifies nobody (Watchdog → null) must still go to one.
 */
export const checkAlertmanagerRoutes = (releases: ReadonlyArray<ReleaseValues>): Violations =>
  releases
    .filter((r) => r.chart.chart === "kube-prometheus-stack")
    .flatMap((r) => {
      const defaults = rec(at(loadFixture(r.chart).defaults, "alertmanager", "config"))
      const config = rec(coalesce(defaults, at(r.values, "alertmanager", "config")))
      const silent = (c: Record<string, unknown>, name: string) =>
        arr(c.receivers)
          .map(rec)
          .some((x) => x.name === name && Object.keys(x).every((k) => k === "name"))
      return arr(at(defaults, "route", "routes")).flatMap((route) => {
        if (!silent(defaults, str(rec(route).receiver))) return []
        const labels = Object.fromEntries(
          arr(rec(route).matchers).flatMap((m) => {
            const [, name, op, value] = matcher.exec(String(m)) ?? []
            return op === "=" && name !== undefined && value !== undefined ? [[name, value]] : []
          })
        )
        const got = routeOf(config.route, { severity: "none", ...labels })
        return silent(config, got)
          ? []
          : [`release ${r.name}: ${JSON.stringify(labels)} goes to ${got || "no receiver"}, the chart sends it nowhere`]
      })
    })
