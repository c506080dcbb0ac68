/**
 * Redis keys that are part of knowledge's public contract.
 *
 * A garment's generation is the last version of its row that a writer announced: whoever changes what a scan of
 * it shows (a facet update here; an ownership claim or transfer in identity) bumps the row's `version` in its
 * commit, then raises the generation to that version (`raiseGeneration`: never lowered, so two writers in either
 * order leave the higher). Every replica's caches keyed by it miss on their very next scan, and a reader can tell
 * a record read before the change from one read after it: a record whose version is below the generation is
 * stale, however late it was written to a cache (a cached record is served only when `version >= generation`).
 * (Until 5 December 2026 the generation was a bare counter under `knowledge:gen:garment:<id>`; the new key name
 * keeps the two meanings apart.)
 */
export const garmentGenerationKey = (garmentId: string): string => `knowledge:genv:garment:${garmentId}`

/** Lua: raise KEYS[1] to ARGV[1] unless it is already there or above; answers the generation after */
const RAISE_GENERATION = `local c = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local v = tonumber(ARGV[1])
if v > c then redis.call('SET', KEYS[1], ARGV[1]) return v end
return c`

/** the Redis client's part that raising needs (ioredis's `eval`) */
export interface EvalClient {
  readonly eval: (script: string, numKeys: number, ...args: Array<string>) => Promise<unknown>
}

/** raise the generation at `key` (already prefixed) to the committed `version`: one atomic step */
export const raiseGeneration = (client: EvalClient, key: string, version: number): Promise<number> =>
  client.eval(RAISE_GENERATION, 1, key, String(version)).then(Number)

/** whether a cached record may be served: read at or after the generation's version */
export const isCurrent = (version: number, generation: string | null | undefined): boolean =>
  version >= Number(generation ?? "0")

export const garmentMetadataKey = (garmentId: string): string => `knowledge:garment:${garmentId}`
export const garmentRefKey = (gtin: string, serial: string): string => `knowledge:ref:${gtin}:${serial}`
