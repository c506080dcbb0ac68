/**
 * Test helpers: read committed config files and walk their parsed YAML/JSON without casts. Each
 * accessor fails with the path it was asked for, so a broken config names the key that broke it.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { parse } from "yaml"
import { observabilityDir } from "./generate.js"
import { isRecord } from "../shared/Guards.js"

export const readText = (path: string): string => readFileSync(join(observabilityDir, path), "utf8")
export const readYaml = (path: string): unknown => parse(readText(path))

export const at = (v: unknown, ...path: ReadonlyArray<string | number>): unknown => {
  let cur = v
  for (const key of path) {
    if (typeof key === "number") cur = Array.isArray(cur) ? cur[key] : undefined
    else cur = isRecord(cur) ? cur[key] : undefined
    if (cur === undefined) throw new Error(`missing ${path.join(".")} (at ${String(key)})`)
  }
  return cur
}

export const rec = (v: unknown, ...path: ReadonlyArray<string | number>): Record<string, unknown> => {
  const x = at(v, ...path)
  if (!isRecord(x)) throw new Error(`${path.join(".")} is not a mapping`)
  return x
}

export const arr = (v: unknown, ...path: ReadonlyArray<string | number>): ReadonlyArray<unknown> => {
  const x = at(v, ...path)
  if (!Array.isArray(x)) throw new Error(`${path.join(".")} is not a list`)
  return x
}

export const str = (v: unknown, ...path: ReadonlyArray<string | number>): string => {
  const x = at(v, ...path)
  if (typeof x !== "string") throw new Error(`${path.join(".")} is not a string`)
  return x
}

export const num = (v: unknown, ...path: ReadonlyArray<string | number>): number => {
  const x = at(v, ...path)
  if (typeof x !== "number") throw new Error(`${path.join(".")} is not a number`)
  return x
}

export const strs = (v: unknown, ...path: ReadonlyArray<string | number>): ReadonlyArray<string> =>
  arr(v, ...path).map((_, i) => str(v, ...path, i))

/** Port of `host:port`, `http://host:port/path` or `:port`. */
export const portOf = (endpoint: string): number => {
  const m = endpoint.match(/:(\d+)(?:\/|$)/)
  if (m?.[1] === undefined) throw new Error(`no port in ${endpoint}`)
  return Number(m[1])
}

export const hostOf = (endpoint: string): string => {
  const m = endpoint.replace(/^[a-z]+:\/\//, "").match(/^([^:/]+)/)
  if (m?.[1] === undefined) throw new Error(`no host in ${endpoint}`)
  return m[1]
}

export interface RuleInFile {
  readonly file: string
  readonly group: string
  readonly rule: Record<string, unknown>
}

export const RuleFilePaths = ["prometheus/rules/alerts.yml", "prometheus/rules/slo.yml"] as const

export const allRules = (): ReadonlyArray<RuleInFile> =>
  RuleFilePaths.flatMap((file) => {
    const doc = readYaml(file)
    return arr(doc, "groups").flatMap((_, gi) =>
      arr(doc, "groups", gi, "rules").map((_, ri) => ({
        file,
        group: str(doc, "groups", gi, "name"),
        rule: rec(doc, "groups", gi, "rules", ri)
      }))
    )
  })
