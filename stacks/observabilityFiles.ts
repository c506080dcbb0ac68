import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as pulumi from "@pulumi/pulumi"
import { parse } from "yaml"
import { isRecord } from "../shared/Guards.js"

/**
 * Reads observability/ at program time: the configs are owned there and never copied into the
 * stack. Missing files or empty folders are fine: the stack includes whatever exists.
 */

export const DefaultObservabilityDir = fileURLToPath(new URL("../observability/", import.meta.url))

export interface RuleFile {
  /** DNS-1123 name derived from the file name */
  readonly name: string
  readonly file: string
  readonly groups: ReadonlyArray<unknown>
}

export interface DashboardFile {
  readonly name: string
  readonly file: string
  readonly json: string
}

export interface ObservabilityFiles {
  readonly rules: ReadonlyArray<RuleFile>
  readonly dashboards: ReadonlyArray<DashboardFile>
  readonly loki: Record<string, unknown> | undefined
  readonly tempo: Record<string, unknown> | undefined
  readonly otelCollector: Record<string, unknown> | undefined
  readonly alertmanager: Record<string, unknown> | undefined
  /** Grafana's provisioned data sources (grafana/provisioning/datasources/datasources.yml) */
  readonly grafanaDatasources: ReadonlyArray<Record<string, unknown>>
}

export const dnsName = (file: string): string =>
  path
    .basename(file)
    .replace(/\.(ya?ml|json)$/i, "")
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 50)

const listFiles = (dir: string, exts: ReadonlyArray<string>): ReadonlyArray<string> =>
  fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => exts.some((e) => f.toLowerCase().endsWith(e)))
        .sort()
        .map((f) => path.join(dir, f))
    : []

const readYaml = (file: string): unknown => {
  try {
    return parse(fs.readFileSync(file, "utf8"))
  } catch (cause) {
    throw new pulumi.RunError(`cannot parse ${file}: ${String(cause)}`)
  }
}

const optionalYaml = (file: string): Record<string, unknown> | undefined => {
  if (!fs.existsSync(file)) return undefined
  const doc = readYaml(file)
  return isRecord(doc) ? doc : undefined
}

export const readObservabilityFiles = (root: string = DefaultObservabilityDir): ObservabilityFiles => {
  // rule files only: promtool test files (rule_files/tests) sit beside them and have no `groups`
  const rules = listFiles(path.join(root, "prometheus", "rules"), [".yml", ".yaml"]).flatMap((file) => {
    const doc = readYaml(file)
    return isRecord(doc) && Array.isArray(doc.groups) ? [{ name: dnsName(file), file, groups: doc.groups }] : []
  })
  const dashboards = listFiles(path.join(root, "grafana", "dashboards"), [".json"]).map((file) => {
    const json = fs.readFileSync(file, "utf8")
    try {
      JSON.parse(json)
    } catch (cause) {
      throw new pulumi.RunError(`dashboard ${file} is not valid JSON: ${String(cause)}`)
    }
    return { name: dnsName(file), file, json }
  })
  return {
    rules,
    dashboards,
    loki: optionalYaml(path.join(root, "loki", "loki-config.yml")),
    tempo: optionalYaml(path.join(root, "tempo", "tempo.yml")),
    otelCollector: optionalYaml(path.join(root, "otel-collector", "otel-collector-config.yml")),
    alertmanager: optionalYaml(path.join(root, "alertmanager", "alertmanager.yml")),
    grafanaDatasources: (() => {
      const doc = optionalYaml(path.join(root, "grafana", "provisioning", "datasources", "datasources.yml"))
      return Array.isArray(doc?.datasources) ? doc.datasources.filter(isRecord) : []
    })()
  }
}

/** Applies `f` to every string in a parsed document. */
const mapStrings = (value: unknown, f: (s: string) => string): unknown => {
  if (typeof value === "string") return f(value)
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f))
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, f)]))
  return value
}

/**
 * The observability files are written for docker-compose, where services are reached by
 * their compose names; in the cluster the same services have these DNS names, and where a
 * chart fixes a port that differs from compose's, `ports` maps host → compose port → cluster port.
 */
export const rewriteHosts = (
  value: unknown,
  hosts: Readonly<Record<string, string>>,
  ports: Readonly<Record<string, Readonly<Record<number, number>>>> = {}
): unknown =>
  mapStrings(value, (s) =>
    s.replace(
      /^(\w+:\/\/)?([a-z][a-z0-9-]*):(\d+)/,
      (whole, scheme: string | undefined, host: string, port: string) => {
        const target = hosts[host]
        const p = ports[host]?.[Number(port)] ?? port
        return target === undefined ? whole : `${scheme ?? ""}${target}:${p}`
      }
    )
  )

/** Moves every absolute path under `from` to the same place under `to` (a data volume mounted elsewhere). */
export const rebasePaths = (value: unknown, from: string, to: string): unknown =>
  mapStrings(value, (s) => (s === from || s.startsWith(`${from}/`) ? `${to}${s.slice(from.length)}` : s))
