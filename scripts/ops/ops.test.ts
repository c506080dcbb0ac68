import { describe, expect, it } from "vitest"
import { ServiceNames } from "../../shared/ServiceCatalog.js"
import { backupFileName, backupTime, expiredBackups, pgToolConnection } from "./Backup.js"
import { renderTable } from "./Cli.js"
import { Components, missingToolsMessage, nodeVersionOk, parseTarget, requiredTools, Tools } from "./Deploy.js"
import { serviceUrls } from "./Smoke.js"
import { expectedTables, tablesFromSql } from "./Tables.js"

describe("backup names and retention", () => {
  it("names a backup by database and UTC time, and reads the time back", () => {
    const at = new Date("2026-11-26T01:02:03.456Z")
    const name = backupFileName("brandme", at)
    expect(name).toBe("brandme-20261126T010203Z.dump")
    expect(backupTime("brandme", `/backups/${name}`)?.toISOString()).toBe("2026-11-26T01:02:03.000Z")
    expect(backupTime("other", name)).toBeUndefined()
    expect(backupTime("brandme", "brandme-20261126T010203Z.dump.partial")).toBeUndefined()
  })

  it("expires backups older than the retention, never the newest, never other databases' files", () => {
    const now = new Date("2026-11-30T00:00:00Z")
    const files = [
      "brandme-20261129T000000Z.dump", // 1 day
      "brandme-20261101T000000Z.dump", // 29 days
      "brandme-20261030T000000Z.dump", // 31 days
      "brandme-20260101T000000Z.dump", // old
      "brandme_other-20200101T000000Z.dump",
      "notes.txt"
    ]
    expect([...expiredBackups("brandme", files, now, 30)].sort()).toEqual([
      "brandme-20260101T000000Z.dump",
      "brandme-20261030T000000Z.dump"
    ])
    // the newest is kept even when everything is old
    expect(
      expiredBackups("brandme", ["brandme-20200101T000000Z.dump", "brandme-20200102T000000Z.dump"], now, 30)
    ).toEqual(["brandme-20200101T000000Z.dump"])
  })

  it("passes the database password through PGPASSWORD, not the command line", () => {
    const c = pgToolConnection("postgres://app:s%40cret@db:5432/brandme?sslmode=require")
    expect(c.url).toBe("postgres://app@db:5432/brandme?sslmode=require")
    expect(c.env.PGPASSWORD).toBe("s@cret")
  })
})

describe("expected tables", () => {
  it("reads CREATE TABLE and later DROP TABLE statements, ignoring comments", () => {
    expect(
      tablesFromSql([
        "CREATE TABLE a (id int);\n-- CREATE TABLE ghost (x int);\nCREATE TABLE IF NOT EXISTS public.b (x int);",
        "/* CREATE TABLE hidden (x int) */ DROP TABLE a; CREATE UNLOGGED TABLE c (y int);"
      ])
    ).toEqual(["b", "c"])
  })

  it("finds the core, audit and chain tables in the repository's migrations", () => {
    const tables = expectedTables()
    for (const t of ["brands", "users", "garments", "scan_events", "consents", "audit_leaves", "chain_transactions"]) {
      expect(tables).toContain(t)
    }
  })
})

describe("deploy arguments", () => {
  it("takes an environment and all, one component or a list", () => {
    expect(parseTarget(["production"])).toEqual({
      ok: true,
      value: { env: "production", components: Components, all: true }
    })
    expect(parseTarget(["staging", "gateway,orchestrator-beat"])).toEqual({
      ok: true,
      value: { env: "staging", components: ["gateway", "orchestrator-beat"], all: false }
    })
    expect(parseTarget(["prod"]).ok).toBe(false)
    expect(parseTarget(["development", "gatewya"])).toMatchObject({
      ok: false,
      message: expect.stringContaining("gatewya")
    })
    expect(parseTarget([]).ok).toBe(false)
  })

  it("needs pulumi and kubectl for the cloud, docker only for compose, and says how to get them", () => {
    expect(requiredTools("production", false)).toEqual([Tools.pulumi, Tools.kubectl])
    expect(requiredTools("development", false)).toEqual([])
    expect(requiredTools("development", true)).toEqual([Tools.docker])
    const msg = missingToolsMessage([Tools.pulumi])
    expect(msg).toContain("`pulumi` is not on PATH")
    expect(msg).toContain("get.pulumi.com")
  })

  it("checks the Node floor of package.json engines", () => {
    expect(nodeVersionOk("v24.0.0")).toBe(true)
    expect(nodeVersionOk("v26.1.0")).toBe(true)
    expect(nodeVersionOk("v22.23.5")).toBe(false)
    expect(nodeVersionOk("v20.20.2")).toBe(false)
  })
})

describe("smoke targets", () => {
  it("derives each service URL from the catalog port and offset, with per-service overrides", () => {
    const urls = serviceUrls({ GATEWAY_URL: "https://api.brandme.io/" }, "10.0.0.5", 100)
    expect(urls.gateway).toBe("https://api.brandme.io")
    expect(urls.brain).toBe("http://10.0.0.5:8100")
    expect(Object.keys(urls).sort()).toEqual([...ServiceNames].sort())
  })

  it("renders an aligned table", () => {
    expect(renderTable(["A", "BB"], [["xyz", "1"]])).toBe("A    BB\n---  --\nxyz  1")
  })
})
