/**
 * Refreshes the pinned charts' values fixtures (stacks/charts/<chart>-<version>/) from unpacked
 * chart sources. This machine cannot reach the chart repositories: fetch the charts where you
 * can, unpack them into one folder and point this script at it.
 *
 *   helm pull <repo>/<chart> --version <pinned> --untar --untardir /tmp/charts   # each chart in stacks/charts.ts
 *   npm run charts:refresh -- /tmp/charts
 *
 * Layout read: <dir>/<chart>/Chart.yaml, values.yaml, values.schema.json (if the chart ships one),
 * charts/<subchart>/… the same for each subchart, and an optional PROVENANCE file (how the
 * sources were obtained: repository, path, tag, commit) that SOURCE.md quotes.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Charts } from "../stacks/charts.js"
import { chartYaml, FixtureFiles, FixturesRoot, fixtureDir, sha256 } from "../stacks/offline/chartFixtures.js"

const fail = (message: string): never => {
  console.error(message)
  process.exit(1)
}

const source = process.argv[2]
if (source === undefined || source === "--help") {
  fail("usage: npm run charts:refresh -- <folder of unpacked charts, one sub-folder per chart name>")
}
const root = path.resolve(String(source))

const copyChart = (from: string, to: string): ReadonlyArray<string> => {
  fs.mkdirSync(to, { recursive: true })
  const copied = FixtureFiles.filter((f) => fs.existsSync(path.join(from, f)))
  for (const f of copied) fs.copyFileSync(path.join(from, f), path.join(to, f))
  const subcharts = path.join(from, "charts")
  const subs = fs.existsSync(subcharts)
    ? fs
        .readdirSync(subcharts)
        .filter((d) => fs.existsSync(path.join(subcharts, d, "Chart.yaml")))
        .sort()
    : []
  return [
    ...copied,
    ...subs.flatMap((d) =>
      copyChart(path.join(subcharts, d), path.join(to, "charts", d)).map((f) => path.posix.join("charts", d, f))
    )
  ]
}

const licenceOf = (dir: string, meta: Record<string, unknown>): string => {
  const annotations = meta.annotations
  const declared =
    typeof annotations === "object" && annotations !== null
      ? Reflect.get(annotations, "artifacthub.io/license")
      : undefined
  if (typeof declared === "string") return declared
  const file = ["LICENSE", "LICENSE.txt", "LICENSE.md"].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f))
  return file === undefined
    ? "not stated in the chart package: see PROVENANCE"
    : (
        fs
          .readFileSync(file, "utf8")
          .split("\n")
          .find((l) => l.trim() !== "") ?? ""
      ).trim()
}

const written: Array<string> = []
for (const ref of Object.values(Charts)) {
  const from = path.join(root, ref.chart)
  if (!fs.existsSync(path.join(from, "Chart.yaml"))) fail(`${from}/Chart.yaml not found (chart ${ref.chart})`)
  const meta = chartYaml(from)
  if (String(meta.version) !== ref.version) {
    fail(`${from} is ${ref.chart} ${String(meta.version)}, stacks/charts.ts pins ${ref.version}`)
  }
  const to = fixtureDir(ref)
  fs.rmSync(to, { recursive: true, force: true })
  const files = copyChart(from, to)
  const subcharts = files
    .filter((f) => f.startsWith("charts/") && f.endsWith("/Chart.yaml"))
    .map((f) => {
      const sub = chartYaml(path.join(to, path.dirname(f)))
      return `- \`${path.dirname(f)}\`: ${String(sub.name)} ${String(sub.version)}`
    })
  const provenance = path.join(from, "PROVENANCE")
  const sourceMd = [
    `# ${ref.chart} ${ref.version}`,
    "",
    "Test fixture: the chart's own values.yaml / values.schema.json (and its subcharts'), against which",
    "stacks/offline/chartValues.ts checks the values the stack sets. Written by `npm run charts:refresh`;",
    "do not edit by hand (the hashes below are checked).",
    "",
    `- Helm repository: ${ref.repo}`,
    `- Chart version: ${ref.version} (appVersion ${String(meta.appVersion)})`,
    `- Chart sources: ${Array.isArray(meta.sources) ? meta.sources.join(", ") : String(meta.home)}`,
    `- Licence: ${licenceOf(from, meta)}`,
    ...(subcharts.length > 0 ? ["", "Subcharts (as packaged in the parent):", ...subcharts] : []),
    ...(fs.existsSync(provenance) ? ["", "## Provenance", "", fs.readFileSync(provenance, "utf8").trim()] : []),
    "",
    "## Files (sha256)",
    "",
    ...files.map((f) => `- \`${f}\` ${sha256(path.join(to, f))}`),
    ""
  ].join("\n")
  fs.writeFileSync(path.join(to, "SOURCE.md"), sourceMd)
  written.push(path.basename(to))
}

// fixtures of versions no longer pinned
for (const d of fs.readdirSync(FixturesRoot)) {
  if (fs.statSync(path.join(FixturesRoot, d)).isDirectory() && !written.includes(d)) {
    fs.rmSync(path.join(FixturesRoot, d), { recursive: true })
    console.log(`removed ${d} (no longer pinned)`)
  }
}
console.log(`refreshed ${written.join(", ")}`)
