import { randomUUID } from "node:crypto"
import { DateTime, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { ScanEvent, type ScanEventEncoded } from "../../../shared/domain/Scan.js"
import { eventHead, eventTailOf } from "./Enqueue.js"

/** an encoded event as the gateway caches it: the per-scan fields are placeholders */
const cached: ScanEventEncoded = Schema.encodeSync(ScanEvent)({
  scanId: "00000000-0000-4000-8000-000000000000",
  garmentId: randomUUID(),
  scannerUserId: null,
  deviceId: randomUUID(),
  role: "owner",
  intent: "ownership_transfer",
  regionCode: "US-CA",
  decision: {
    regime: "ccpa",
    reason: 'scanner in US-CA, owner "unknown" \\ strictest',
    policyVersion: "rules-7",
    allowed: [{ group: "care", reason: "always shown" }],
    denied: [{ group: "owner_identity", reason: "no consent — été" }]
  },
  scannedAt: DateTime.unsafeMake(0)
})

describe("a scan's event, spliced from the cached answer", () => {
  const cases: ReadonlyArray<{ scanner: string | null; traceparent: string | undefined }> = [
    { scanner: null, traceparent: undefined },
    { scanner: randomUUID(), traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
    // a header the client sent, whatever it holds: quoted, never read as more fields
    { scanner: null, traceparent: '","scanId":"not-this","x":"\\\n🌿' }
  ]
  for (const c of cases)
    it(`is the encoded event's JSON (scanner ${c.scanner === null ? "none" : "signed in"}, traceparent ${c.traceparent === undefined ? "absent" : JSON.stringify(c.traceparent).slice(0, 24)})`, () => {
      const scanId = randomUUID()
      const at = new Date("2026-12-07T13:45:01.234Z").toISOString()
      const text = eventHead(scanId, c.scanner, at, c.traceparent) + eventTailOf(cached)
      const expected = {
        ...cached,
        scanId,
        scannerUserId: c.scanner,
        scannedAt: at,
        ...(c.traceparent !== undefined ? { traceparent: c.traceparent } : {})
      }
      expect(JSON.parse(text)).toEqual(expected)
      // the orchestrator decodes it with the contract's schema, to the same event
      expect(Schema.decodeUnknownSync(ScanEvent)(JSON.parse(text))).toEqual(
        Schema.decodeUnknownSync(ScanEvent)(expected)
      )
    })

  it("keeps none of the cached event's per-scan fields", () => {
    const tail = eventTailOf({ ...cached, traceparent: "00-aa-bb-01" })
    for (const k of ["scanId", "scannerUserId", "scannedAt", "traceparent"]) expect(tail).not.toContain(`"${k}"`)
    expect(JSON.parse(`{${tail}`)).toMatchObject({ garmentId: cached.garmentId, decision: cached.decision })
  })
})
