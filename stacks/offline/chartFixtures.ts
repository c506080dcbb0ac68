import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { parse } from "yaml"
import type { ChartRef } from "../charts.js"
import { isRecord } from "../../shared/Guards.js"

/**
 * The pinned charts' own values.yaml / values.schema.json, kept as fixtures in stacks/charts/
 * (`npm run charts:refresh` writes them). A chart's defaults are its values.yaml with each
 * packaged subchart's values.yaml under the subchart's name, as Helm coalesces them.
 */

export const FixturesRoot = fileURLToPath(new URL("../charts/", import.meta.url))
export const FixtureFiles = ["Chart.yaml", "values.yaml", "values.schema.json"] as const

export const fixtureDir = (ref: ChartRef, root = FixturesRoot): string => path.join(root, `${ref.chart}-${ref.version}`)

export const sha256 = (file: string): string => createHash("sha256").update(fs.readFileSync(file)).digest("hex")

const readYaml = (file: string): Record<string, unknown> => {
  const doc: unknown = parse(fs.readFileSync(file, "utf8"))
  return isRecord(doc) ? doc : {}
}

export const chartYaml = (dir: string): Record<string, unknown> => readYaml(path.join(dir, "Chart.yaml"))

/**
 * Helm's coalescing of values: maps merge key by key, anything else in `over` replaces, and a
 * null in `over` removes the key (user values over defaults; chart defaults keep their nulls).
 */
export const coalesce = (base: unknown, over: unknown, nullRemoves = true): unknown => {
  if (!isRecord(base) || !isRecord(over)) return over === undefined ? base : over
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(over)) {
    if (v === null && nullRemoves) delete out[k]
    else out[k] = coalesce(base[k], v, nullRemoves)
  }
  return out
}

export interface ChartFixture {
  readonly ref: ChartRef
  /** the chart's defaults, subcharts' values under their names */
  readonly defaults: Record<string, unknown>
  /** values.schema.json of the chart and of each subchart that ships one (key "" = the chart itself) */
  readonly schemas: Readonly<Record<string, unknown>>
  /** subchart name → version, as packaged */
  readonly subcharts: Readonly<Record<string, string>>
}

const readSchema = (dir: string): unknown => {
  const file = path.join(dir, "values.schema.json")
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : undefined
}

export class MissingFixture extends Error {}

export const loadFixture = (ref: ChartRef, root = FixturesRoot): ChartFixture => {
  const dir = fixtureDir(ref, root)
  if (!fs.existsSync(path.join(dir, "values.yaml"))) {
    throw new MissingFixture(
      `no values fixture for ${ref.chart} ${ref.version} (${path.relative(process.cwd(), dir)}): run npm run charts:refresh`
    )
  }
  const subDir = path.join(dir, "charts")
  const subs = fs.existsSync(subDir) ? fs.readdirSync(subDir).sort() : []
  let defaults: unknown = {}
  const schemas: Record<string, unknown> = {}
  const subcharts: Record<string, string> = {}
  for (const name of subs) {
    defaults = coalesce(defaults, { [name]: readYaml(path.join(subDir, name, "values.yaml")) }, false)
    subcharts[name] = String(chartYaml(path.join(subDir, name)).version)
    const schema = readSchema(path.join(subDir, name))
    if (schema !== undefined) schemas[name] = schema
  }
  defaults = coalesce(defaults, readYaml(path.join(dir, "values.yaml")), false)
  const schema = readSchema(dir)
  if (schema !== undefined) schemas[""] = schema
  return { ref, defaults: isRecord(defaults) ? defaults : {}, schemas, subcharts }
}

/** The fixture is the pinned version and unchanged since `charts:refresh` wrote it (SOURCE.md's hashes). */
export const checkFixture = (ref: ChartRef, root = FixturesRoot): ReadonlyArray<string> => {
  const dir = fixtureDir(ref, root)
  const source = path.join(dir, "SOURCE.md")
  if (!fs.existsSync(source)) return [`${ref.chart} ${ref.version}: no fixture (run npm run charts:refresh)`]
  const v: Array<string> = []
  const version = String(chartYaml(dir).version)
  if (version !== ref.version) v.push(`${ref.chart}: fixture Chart.yaml is ${version}, pinned ${ref.version}`)
  const listed = [...fs.readFileSync(source, "utf8").matchAll(/^- `([^`]+)` ([0-9a-f]{64})$/gm)]
  if (listed.length === 0) v.push(`${ref.chart} ${ref.version}: SOURCE.md lists no files`)
  for (const [, file, hash] of listed) {
    const full = path.join(dir, file ?? "")
    if (!fs.existsSync(full)) v.push(`${ref.chart} ${ref.version}: ${file} missing`)
    else if (sha256(full) !== hash)
      v.push(`${ref.chart} ${ref.version}: ${file} differs from what charts:refresh wrote`)
  }
  return v
}
