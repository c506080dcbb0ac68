/**
 * Runs the real Prometheus and Alertmanager checkers (Debian packages `prometheus` and
 * `prometheus-alertmanager`, which give `promtool` and `amtool`) over the committed configs.
 */
import { spawnSync } from "node:child_process"
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { observabilityDir } from "./generate.js"

// promtool evaluates days of samples; leave room when the shared machine is busy
const slow = 120_000

const run = (cmd: string, args: ReadonlyArray<string>, cwd = observabilityDir) => {
  const r = spawnSync(cmd, [...args], { cwd, encoding: "utf8" })
  if (r.error !== undefined) {
    return {
      status: -1,
      output: `${cmd} could not run (${r.error.message}); apt-get install -y prometheus prometheus-alertmanager`
    }
  }
  return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` }
}

const promDir = join(observabilityDir, "prometheus")
const testFiles = readdirSync(join(promDir, "tests"))
  .filter((f) => f.endsWith(".test.yml"))
  .map((f) => `tests/${f}`)

describe("promtool", () => {
  it("check config accepts prometheus.yml and its rule files", () => {
    const r = run("promtool", ["check", "config", "prometheus.yml"], promDir)
    expect(r.output).toContain("SUCCESS: 2 rule files found")
    expect(r.status, r.output).toBe(0)
  })

  it("check rules accepts every rule file", () => {
    const r = run("promtool", ["check", "rules", "rules/alerts.yml", "rules/slo.yml"], promDir)
    expect(r.status, r.output).toBe(0)
  })

  it(
    "test rules passes every rule test file",
    () => {
      const r = run("promtool", ["test", "rules", ...testFiles], promDir)
      expect(r.status, r.output).toBe(0)
      expect(r.output.match(/SUCCESS/g)?.length).toBe(testFiles.length)
    },
    slow
  )

  const scratch = mkdtempSync(join(tmpdir(), "brandme-promtool-"))
  afterAll(() => rmSync(scratch, { recursive: true, force: true }))

  it(
    "test rules fails when a threshold drifts from what the tests pin",
    () => {
      // the same tests against a rule file whose error-rate threshold moved from 10 % to 50 %
      mkdirSync(join(scratch, "rules"))
      mkdirSync(join(scratch, "tests"))
      const rules = readFileSync(join(promDir, "rules/alerts.yml"), "utf8")
      const drifted = rules.replace(/\) > 0\.1\n/, ") > 0.5\n")
      expect(drifted).not.toBe(rules)
      writeFileSync(join(scratch, "rules/alerts.yml"), drifted)
      copyFileSync(join(promDir, "tests/service-health.test.yml"), join(scratch, "tests/service-health.test.yml"))
      const r = run("promtool", ["test", "rules", "tests/service-health.test.yml"], scratch)
      expect(r.status).not.toBe(0)
      expect(r.output).toContain("alertname: HighErrorRate")
    },
    slow
  )

  it(
    "the absence tests fail against rules that only compare (no absent() arm)",
    () => {
      const dir = join(scratch, "absent")
      mkdirSync(join(dir, "rules"), { recursive: true })
      mkdirSync(join(dir, "tests"))
      const rules = readFileSync(join(promDir, "rules/alerts.yml"), "utf8")
      const comparing = rules.replace(/\n\s+or\n\s+absent\([^\n]*\)/g, "")
      expect(comparing).not.toBe(rules)
      writeFileSync(join(dir, "rules/alerts.yml"), comparing)
      copyFileSync(join(promDir, "tests/absence.test.yml"), join(dir, "tests/absence.test.yml"))
      const r = run("promtool", ["test", "rules", "tests/absence.test.yml"], dir)
      expect(r.status).not.toBe(0)
      for (const alert of ["ServiceDown", "ExporterDown", "QueueWorkersDown"])
        expect(r.output).toContain(`alertname: ${alert}`)
    },
    slow
  )
})

describe("amtool", () => {
  const amDir = join(observabilityDir, "alertmanager")

  it("check-config accepts alertmanager.yml", () => {
    const r = run("amtool", ["check-config", "alertmanager.yml"], amDir)
    expect(r.status, r.output).toBe(0)
    expect(r.output).toContain("2 inhibit rules")
  })

  it.each([
    ["severity=critical", "pagerduty-critical"],
    ["severity=warning", "slack-warnings"],
    // kube-prometheus-stack's always-firing heartbeat: nowhere, not to Slack every 4 hours
    ["alertname=Watchdog", "null"],
    ["alertname=InfoInhibitor", "null"]
  ])("routes %s to %s", (label, receiver) => {
    const labels = label.startsWith("alertname=") ? [label, "severity=none"] : [label, "alertname=Any"]
    const r = run("amtool", ["config", "routes", "test", "--config.file=alertmanager.yml", ...labels], amDir)
    expect(r.status, r.output).toBe(0)
    expect(r.output.trim().split("\n")[0]).toBe(receiver)
  })
})
