import type { IncomingMessage } from "node:http"
import { Socket } from "node:net"
import { describe, expect, it } from "vitest"
import { headerRegion, trustedGeoRegion } from "./Region.js"

const request = (headers: Record<string, string>): IncomingMessage => {
  const socket = new Socket()
  Object.defineProperty(socket, "remoteAddress", { value: "10.0.0.5" })
  return Object.assign(Object.create(null), { headers, socket })
}

describe("the scanner's region", () => {
  it("reads a geo header's country or subdivision; unusable values are unknown", () => {
    expect(headerRegion("fr")).toBe("FR")
    expect(headerRegion(" us-ca ")).toBe("US-CA")
    expect(headerRegion(["DE", "FR"])).toBe("DE")
    for (const v of [undefined, "", "XX", "T1", "ZZ", "France", "1", "US-CALIF"])
      expect(headerRegion(v)).toBeUndefined()
  })

  it("believes the geo header only from a request that came through our trusted hops", () => {
    const viaIngress = request({ "x-forwarded-for": "198.51.100.7", "x-client-region": "US" })
    const direct = request({ "x-client-region": "US" })
    expect(trustedGeoRegion(viaIngress, 1, "x-client-region")).toBe("US")
    expect(trustedGeoRegion(direct, 1, "x-client-region")).toBeUndefined()
    // no proxy of ours configured (local, compose): every header is the client's own
    expect(trustedGeoRegion(viaIngress, 0, "x-client-region")).toBeUndefined()
    // the header the stack names, no other
    expect(trustedGeoRegion(viaIngress, 1, "x-goog-client-region")).toBeUndefined()
  })
})
