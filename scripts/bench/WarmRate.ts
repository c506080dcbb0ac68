import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { Schema } from "effect"

/**
 * The scan ingest `npm run bench:scan` sustained on this machine (its warm phase: scans/s through the gateway),
 * kept beside the bench's other machine-local files (node_modules/.cache, never committed) so `npm run bench:queue`
 * offers its leaf-latency phase the rate this machine's gateway really sustains, not a figure from another machine.
 */
const file = join(process.cwd(), "node_modules", ".cache", "brandme-bench", "warm-rate.json")

const WarmRate = Schema.Struct({
  scansPerSecond: Schema.Number.pipe(Schema.positive()),
  bareRequestsPerSecond: Schema.Number.pipe(Schema.positive()),
  measuredAt: Schema.String
})
export type WarmRate = typeof WarmRate.Type

export const recordWarmRate = (r: WarmRate): void => {
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, `${JSON.stringify(r)}\n`)
}

/** the last bench:scan figure of this machine, if there is one (an unreadable file counts as none) */
export const lastWarmRate = (): WarmRate | undefined => {
  try {
    return Schema.decodeUnknownSync(Schema.parseJson(WarmRate))(readFileSync(file, "utf8"))
  } catch {
    return undefined
  }
}
