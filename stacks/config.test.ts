import * as fs from "node:fs"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { isRecord } from "../shared/Guards.js"
import { Project, projectConfigKeys, RepoRoot } from "./offline/harness.js"

// Pulumi.yaml documents every key the program reads; stack files use only those keys, with the
// declared types, and hold no secret in plain text.

const keys = projectConfigKeys()
const byName = new Map(keys.map((k) => [k.key, k]))
const source = fs.readFileSync(new URL("./config.ts", import.meta.url), "utf8")
const readKeys = [
  ...source.matchAll(/cfg\.require\w*\("(\w+)"/g),
  ...source.matchAll(/(?:nonEmptySecret|stringList|authToken)\(cfg, "(\w+)"\)/g)
].map((m) => m[1] ?? "")

const typeOk = (type: string | undefined, v: unknown): boolean =>
  type === "integer"
    ? Number.isInteger(v)
    : type === "boolean"
      ? typeof v === "boolean"
      : type === "array"
        ? Array.isArray(v)
        : typeof v === "string"

describe("Pulumi.yaml", () => {
  it("declares every key config.ts reads, each with a type and a description", () => {
    expect(readKeys.length).toBeGreaterThan(40)
    for (const k of readKeys) expect(byName.has(k), `config key ${k} is not declared in Pulumi.yaml`).toBe(true)
    for (const k of keys) {
      expect(k.type, k.key).toBeDefined()
      expect(k.description?.length ?? 0, k.key).toBeGreaterThan(2)
    }
  })

  it("gives every non-secret key a default of its declared type; secrets have none", () => {
    for (const k of keys) {
      if (k.secret && k.default === undefined) continue
      expect(k.default, k.key).toBeDefined()
      expect(typeOk(k.type, k.default), `${k.key} default is not ${k.type}`).toBe(true)
    }
    expect(keys.filter((k) => k.secret && k.default === undefined).length).toBeGreaterThan(5)
  })
})

describe.each(["dev", "staging", "prod", "dev-aws", "prod-aws"])("Pulumi.%s.yaml", (stack) => {
  const doc: unknown = parse(fs.readFileSync(`${RepoRoot}/Pulumi.${stack}.yaml`, "utf8"))
  const config = isRecord(doc) && isRecord(doc.config) ? doc.config : {}

  it("uses only declared keys, with their declared types", () => {
    expect(Object.keys(config).length).toBeGreaterThan(10)
    for (const [full, value] of Object.entries(config)) {
      const [ns, key] = full.split(":")
      expect(ns).toBe(Project)
      const spec = byName.get(key ?? "")
      expect(spec, full).toBeDefined()
      if (isRecord(value) && "secure" in value) continue
      expect(typeOk(spec?.type, value), `${full} is not ${spec?.type}`).toBe(true)
    }
  })

  it("holds secrets only as secure: ciphertext", () => {
    for (const [full, value] of Object.entries(config)) {
      if (byName.get(full.split(":")[1] ?? "")?.secret) expect(isRecord(value) && "secure" in value, full).toBe(true)
    }
  })

  it("never opens the control plane to 0.0.0.0/0", () => {
    expect(JSON.stringify(config["brandme:masterAuthorizedNetworks"])).not.toContain("0.0.0.0/0")
  })
})
