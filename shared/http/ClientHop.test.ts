import { IncomingMessage } from "node:http"
import { Socket } from "node:net"
import { describe, expect, it } from "vitest"
import { clientHopOf, trustedClientHop } from "./ClientHop.js"

describe("trustedClientHop", () => {
  const xff = "6.6.6.6, 198.51.100.7, 10.0.0.2"

  it("hops = 0 (the local default): the socket peer, whatever X-Forwarded-For says", () => {
    expect(clientHopOf(xff, "10.0.0.3", 0)).toEqual({ address: "10.0.0.3", viaTrustedProxy: false })
  })

  it("hops = n: the address our outermost proxy saw, and the request came through our proxies", () => {
    expect(clientHopOf(xff, "10.0.0.3", 1)).toEqual({ address: "10.0.0.2", viaTrustedProxy: true })
    expect(clientHopOf(xff, "10.0.0.3", 2)).toEqual({ address: "198.51.100.7", viaTrustedProxy: true })
  })

  it("fewer entries than trusted hops (the proxies were bypassed): the socket peer, not trusted", () => {
    expect(clientHopOf("198.51.100.7", "10.0.0.3", 3)).toEqual({ address: "10.0.0.3", viaTrustedProxy: false })
    expect(clientHopOf(undefined, undefined, 1)).toEqual({ address: "unknown", viaTrustedProxy: false })
  })

  it("reads a plain node:http request the same way", () => {
    const socket = new Socket()
    Object.defineProperty(socket, "remoteAddress", { value: "10.0.0.3" })
    const req = new IncomingMessage(socket)
    req.headers = { "x-forwarded-for": xff }
    expect(trustedClientHop(req, 1)).toEqual({ address: "10.0.0.2", viaTrustedProxy: true })
    expect(trustedClientHop(req, 0)).toEqual({ address: "10.0.0.3", viaTrustedProxy: false })
  })
})
