import { Context, Effect, Layer } from "effect"
import { AppConfig, type AppConfigShape } from "../../shared/config/AppConfig.js"
import type { Redis as IORedis } from "ioredis"
import { DependencyError, describeCause } from "../../shared/layers/Errors.js"

/**
 * Pattern detection over `brandme.scan.recorded`, with its sliding windows in Redis so every agentic
 * replica sees the same history and a restart forgets nothing:
 * - clone: the same garment (one serial) scanned from two countries within AGENTIC_CLONE_WINDOW_SECONDS;
 * - auth failures: AGENTIC_FAILED_AUTH_THRESHOLD denied authenticity checks of one garment within
 *   AGENTIC_FAILED_AUTH_WINDOW_SECONDS.
 * Windows are measured on the scans' own times, so replayed or redelivered events decide the same way.
 * Each finding carries a dedupe key (garment + window bucket): a redelivered event never opens a
 * second escalation for the same incident.
 * The windows live on the cache Redis (agentic's declared dependency, allkeys-lru): under memory pressure
 * an evicted window forgets its earlier sightings, so a pattern spanning the eviction goes unseen; nothing
 * is ever reported that did not happen. Redis down: the message is nak'ed and redelivered once it is back.
 */
/** the windows (AGENTIC_*), read and checked in AppConfig (shared/config/ServiceSettings.ts) */
export type DetectorSettingsShape = AppConfigShape["agentic"]

export class DetectorSettings extends Context.Tag("brandme/agentic/DetectorSettings")<
  DetectorSettings,
  DetectorSettingsShape
>() {
  static readonly layer = Layer.effect(
    DetectorSettings,
    Effect.map(AppConfig, (c) => c.agentic)
  )
}

export interface ScanFact {
  readonly scanId: string
  readonly garmentId: string
  readonly gtin?: string | undefined
  readonly regionCode: string
  readonly intent: string
  readonly outcome: string
  readonly scannedAt: string
}

export interface Finding {
  readonly kind: "clone_suspected" | "auth_failure_burst"
  readonly severity: "warning" | "critical"
  readonly garmentId: string
  readonly dedupeKey: string
  readonly details: Readonly<Record<string, unknown>>
}

export const countryOf = (regionCode: string): string => regionCode.slice(0, 2)

const fail = (operation: string) => (e: unknown) =>
  new DependencyError({ dependency: "redis", operation, message: describeCause(e) })

/** Records the scan in the windows and returns what it reveals. `key` prefixes Redis keys. */
export const detect = (redis: IORedis, key: (k: string) => string, s: DetectorSettingsShape, f: ScanFact) =>
  Effect.gen(function* () {
    const t = Date.parse(f.scannedAt)
    if (Number.isNaN(t)) return []
    const findings: Array<Finding> = []
    const cloneMs = s.cloneWindowSeconds * 1000
    const scansKey = key(`agentic:scans:${f.garmentId}`)
    const member = `${countryOf(f.regionCode)}|${f.scanId}`
    const seen = yield* Effect.tryPromise({
      try: () =>
        redis
          .multi()
          .zadd(scansKey, t, member)
          .zremrangebyscore(scansKey, "-inf", t - 2 * cloneMs)
          .zrangebyscore(scansKey, t - cloneMs, t + cloneMs)
          .pexpire(scansKey, 4 * cloneMs)
          .exec(),
      catch: fail("clone window")
    })
    const inWindow = seen?.[2]?.[1]
    const members = Array.isArray(inWindow) ? inWindow.filter((m): m is string => typeof m === "string") : []
    const countries = [...new Set(members.map((m) => m.split("|")[0] ?? ""))].sort()
    if (countries.length > 1)
      findings.push({
        kind: "clone_suspected",
        severity: "critical",
        garmentId: f.garmentId,
        dedupeKey: `clone:${f.garmentId}:${Math.floor(t / cloneMs)}`,
        details: { countries, gtin: f.gtin ?? null, windowSeconds: s.cloneWindowSeconds, scanId: f.scanId }
      })

    if (f.intent === "authenticity_check" && f.outcome === "denied") {
      const authMs = s.failedAuthWindowSeconds * 1000
      const failKey = key(`agentic:authfail:${f.garmentId}`)
      const counted = yield* Effect.tryPromise({
        try: () =>
          redis
            .multi()
            .zadd(failKey, t, f.scanId)
            .zremrangebyscore(failKey, "-inf", t - 2 * authMs)
            .zcount(failKey, t - authMs, t)
            .pexpire(failKey, 4 * authMs)
            .exec(),
        catch: fail("auth failure window")
      })
      const n = Number(counted?.[2]?.[1] ?? 0)
      if (n >= s.failedAuthThreshold)
        findings.push({
          kind: "auth_failure_burst",
          severity: "warning",
          garmentId: f.garmentId,
          dedupeKey: `authfail:${f.garmentId}:${Math.floor(t / authMs)}`,
          details: { failures: n, threshold: s.failedAuthThreshold, windowSeconds: s.failedAuthWindowSeconds }
        })
    }
    return findings
  }).pipe(Effect.withSpan("Agentic.detect"))
