/**
 * `npm run chaos -- --scans 100000 [--rate 1000] [--kills 5]`: the chaos run of scripts/chaos/Chaos.ts at any
 * size (the integration test runs it small). Prints every recovery and the figures; exits 1 when a check fails.
 */
import { parseArgs } from "node:util"
import { failures, formatReport, runChaos } from "./chaos/Chaos.js"

const { values } = parseArgs({
  options: {
    scans: { type: "string", default: "3000" },
    rate: { type: "string" },
    kills: { type: "string", default: "5" }
  }
})
const positive = (name: string, v: string | undefined, fallback: number) => {
  const n = Number(v ?? fallback)
  if (!Number.isInteger(n) || n <= 0) {
    process.stderr.write(`--${name} must be a positive integer, got ${v}\n`)
    process.exit(2)
  }
  return n
}
const scans = positive("scans", values.scans, 3000)
// default: about a minute of load for small runs, up to 1000 scans/s for big ones
const rate = positive("rate", values.rate, Math.min(1000, Math.max(50, Math.ceil(scans / 60))))
const kills = Math.max(5, positive("kills", values.kills, 5))

const report = await runChaos({ scans, rate, kills })
process.stdout.write(`${formatReport(report)}\n`)
const failed = failures(report)
for (const f of failed) process.stdout.write(`FAILED: ${f}\n`)
process.exit(failed.length === 0 ? 0 : 1)
