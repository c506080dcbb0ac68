/**
 * Writes every generated observability file. `generatedFiles()` is pure so the staleness test can
 * regenerate in memory and compare with what is committed.
 *
 *   npx tsx observability/generate.ts [all|rules|dashboards]
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { allDashboards, renderDashboard } from "./grafana/dashboards.js"
import { renderAbsenceTests, renderBackupTests } from "./prometheus/absenceTests.js"
import { AlertGroups } from "./prometheus/alerts.js"
import { renderPrometheusConfig } from "./prometheus/scrape.js"
import { renderRuleFile } from "./rules.js"
import { sloRuleGroup } from "./slos/rules.js"
import { Slos } from "./slos/specs.js"

export type Target = "rules" | "dashboards"

/** Paths relative to `observability/`. */
export const generatedFiles = (target?: Target): ReadonlyMap<string, string> => {
  const files = new Map<string, string>()
  if (target === undefined || target === "rules") {
    files.set("prometheus/prometheus.yml", renderPrometheusConfig())
    files.set("prometheus/rules/alerts.yml", renderRuleFile("observability/prometheus/alerts.ts", AlertGroups))
    files.set("prometheus/rules/slo.yml", renderRuleFile("observability/slos/rules.ts", Slos.map(sloRuleGroup)))
    files.set("prometheus/tests/absence.test.yml", renderAbsenceTests())
    files.set("prometheus/tests/backup.test.yml", renderBackupTests())
  }
  if (target === undefined || target === "dashboards") {
    for (const d of allDashboards()) files.set(`grafana/dashboards/${d.file}`, renderDashboard(d.dashboard))
  }
  return files
}

export const observabilityDir = dirname(fileURLToPath(import.meta.url))

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]
if (isMain) {
  const arg = process.argv[2] ?? "all"
  if (arg !== "all" && arg !== "rules" && arg !== "dashboards") {
    console.error(`usage: generate.ts [all|rules|dashboards], got ${arg}`)
    process.exit(1)
  }
  const files = generatedFiles(arg === "all" ? undefined : arg)
  for (const [path, content] of files) {
    const full = join(observabilityDir, path)
    mkdirSync(dirname(full), { recursive: true })
    writeFileSync(full, content)
  }
  console.log(`wrote ${files.size} files under observability/`)
}
