import { existsSync, readdirSync, readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { RunbookBaseUrl, RunbookNames, runbookPath } from "../../observability/runbooks.js"

const ruleDir = "observability/prometheus/rules"
const runbookUrls = (): ReadonlyArray<{ file: string; alert: string; url: string }> =>
  readdirSync(ruleDir)
    .filter((f) => f.endsWith(".yml"))
    .flatMap((file) => {
      const doc = parse(readFileSync(`${ruleDir}/${file}`, "utf8")) as {
        groups: Array<{ rules: Array<{ alert?: string; annotations?: { runbook_url?: string } }> }>
      }
      return doc.groups.flatMap((g) =>
        g.rules
          .filter((r) => r.alert !== undefined)
          .map((r) => ({ file, alert: r.alert ?? "", url: r.annotations?.runbook_url ?? "" }))
      )
    })

describe("runbooks", () => {
  it("has one file per runbook name, each with the sections an on-call engineer needs", () => {
    for (const name of RunbookNames) {
      const path = runbookPath(name)
      expect(existsSync(path), path).toBe(true)
      const text = readFileSync(path, "utf8")
      for (const section of ["## Alert", "## Symptoms", "## First checks", "## Mitigation", "## Escalation"]) {
        expect(text, `${path}: ${section}`).toContain(section)
      }
      // first checks are concrete commands, not prose
      expect(text, `${path} has a command block`).toMatch(/```bash\n/)
    }
  })

  it("resolves every alert's runbook_url to an existing runbook", () => {
    const urls = runbookUrls()
    expect(urls.length).toBeGreaterThan(10)
    for (const { file, alert, url } of urls) {
      expect(url.startsWith(`${RunbookBaseUrl}/`), `${file} ${alert}: ${url}`).toBe(true)
      const path = `docs/runbooks/${url.slice(RunbookBaseUrl.length + 1)}`
      expect(existsSync(path), `${file} ${alert} → ${path}`).toBe(true)
    }
  })

  it("names in each runbook the alerts that link to it", () => {
    for (const { alert, url } of runbookUrls()) {
      const text = readFileSync(`docs/runbooks/${url.slice(RunbookBaseUrl.length + 1)}`, "utf8")
      expect(text, `${url} mentions ${alert}`).toContain(alert)
    }
  })
})
