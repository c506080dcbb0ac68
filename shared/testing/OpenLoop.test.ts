import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from "node:net"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import { afterEach, describe, expect, it } from "vitest"
import { rawRequests, responseEnd, runPaced, TAIL_WINDOW_MS, tailCrowded, tailWindows } from "./OpenLoop.js"

const bytes = (s: string) => Buffer.from(s, "latin1")

describe("responseEnd (the open loop's HTTP/1.1 response reader)", () => {
  it("ends a body by its content-length, and waits for all of it", () => {
    const r = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{"a":1}'
    expect(responseEnd(bytes(r))).toEqual({ status: 200, end: r.length, close: false })
    expect(responseEnd(bytes(r.slice(0, -1)))).toBeUndefined()
    expect(responseEnd(bytes(r.slice(0, 20)))).toBeUndefined()
    // the next response's bytes after it are not its own
    expect(responseEnd(bytes(`${r}HTTP/1.1 204`))?.end).toBe(r.length)
  })

  it("reads a chunked body to its last chunk and trailers", () => {
    const head = "HTTP/1.1 429 Too Many Requests\r\ntransfer-encoding: chunked\r\n\r\n"
    const body = "4\r\nabcd\r\na\r\n0123456789\r\n0\r\nx-trailer: 1\r\n\r\n"
    expect(responseEnd(bytes(head + body))).toEqual({ status: 429, end: head.length + body.length, close: false })
    for (const cut of [1, 5, 12, 30, body.length - 1])
      expect(responseEnd(bytes(head + body.slice(0, cut)))).toBeUndefined()
  })

  it("knows when the server closes after the response", () => {
    expect(responseEnd(bytes("HTTP/1.1 503 x\r\nConnection: close\r\ncontent-length: 0\r\n\r\n"))?.close).toBe(true)
    expect(responseEnd(bytes("HTTP/1.0 200 x\r\ncontent-length: 0\r\n\r\n"))?.close).toBe(true)
    expect(responseEnd(bytes("HTTP/1.0 200 x\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n"))?.close).toBe(
      false
    )
  })

  it("gives a 204 no body, and refuses bytes that are not a response", () => {
    const noContent = "HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n"
    expect(responseEnd(bytes(`${noContent}HTTP/1.1 200`))?.end).toBe(noContent.length)
    expect(() => responseEnd(bytes("GET / HTTP/1.1\r\n\r\n"))).toThrow(/not an HTTP\/1.x response/)
  })
})

describe("rawRequests", () => {
  it("serialises each request as a JSON POST with its token, one after another", () => {
    const { bytes: all, offsets } = rawRequests("h:1", "/v1/scans", [
      { body: '{"tag":"é"}' },
      { body: "{}", authorization: "Bearer t" }
    ])
    const first = all.toString("utf8", offsets[0], offsets[1])
    const second = all.toString("utf8", offsets[1], offsets[2])
    expect(first).toBe(
      'POST /v1/scans HTTP/1.1\r\nhost: h:1\r\ncontent-type: application/json\r\ncontent-length: 12\r\n\r\n{"tag":"é"}'
    )
    expect(second).toContain("authorization: Bearer t\r\ncontent-length: 2\r\n\r\n{}")
    expect(offsets[2]).toBe(all.length)
  })
})

describe("tailWindows (when a round's slowest 1 % were due)", () => {
  // 10 s at 1,000 a second: request i due at i ms
  const n = 10_000
  const due = Float64Array.from({ length: n }, (_, i) => i)

  it("finds a stall: the slow requests crowd into the windows it held up", () => {
    // every request 5 ms, but those due in 6.40–6.55 s waited out a pause (150 ms down to 10)
    const latencies = Float64Array.from(due, (d) => (d >= 6400 && d < 6550 ? 160 - (d - 6400) : 5))
    const t = tailWindows(due, latencies, 10_000)
    expect(t.of).toBe(10_000 / TAIL_WINDOW_MS)
    expect(t.threshold).toBeGreaterThan(5)
    // the top 1 %: the first 100 requests of the pause, due 6.40–6.50 s
    expect(t.requests).toBe(100)
    expect(t.windows).toBe(2)
    expect(t.worst).toEqual({ at: 6400, requests: 50 })
    expect(tailCrowded(t)).toBe(true)
  })

  it("finds a steady queue: the slow requests spread over the round", () => {
    // every 100th request slow, wherever it falls
    const latencies = Float64Array.from(due, (d) => (d % 100 === 37 ? 80 : 5 + (d % 7)))
    const t = tailWindows(due, latencies, 10_000)
    expect(t.requests).toBe(100)
    expect(t.windows).toBe(100)
    expect(t.worst.requests).toBe(1)
    expect(tailCrowded(t)).toBe(false)
  })

  it("reads an empty round as no tail", () => {
    const t = tailWindows([], [], 1000)
    expect(t).toEqual({
      threshold: 0,
      requests: 0,
      windows: 0,
      of: 1000 / TAIL_WINDOW_MS,
      worst: { at: 0, requests: 0 }
    })
    expect(tailCrowded(t)).toBe(false)
  })
})

describe("runPaced", () => {
  const servers: Array<Server | TcpServer> = []
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))))
  })
  /** a node:http server that answers each request, once its body is read, with `answer` */
  const answering = (answer: (req: IncomingMessage, res: ServerResponse) => void) =>
    createServer((req, res) => {
      req.resume()
      req.on("end", () => answer(req, res))
    })
  const listen = async (s: Server | TcpServer) => {
    servers.push(s)
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r))
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}/p`
  }

  it("counts a request's wait for a free connection in its latency (no coordinated omission)", async () => {
    // every answer takes 100 ms; 2 connections; 40 requests a second: 4 are due per 100 ms, 2 can be out
    const url = await listen(answering((_, res) => setTimeout(() => res.end("{}"), 100)))
    const r = await runPaced(url, [{ body: "{}" }], 40, 1000, 2)
    expect(r.latencies.length).toBe(40)
    expect(r.errors + r.timeouts + r.non2xx).toBe(0)
    // 20 answers a second at most: the last of 40 due within 1 s is answered after ~2 s, ~1 s after it was due
    expect(r.latencies[0]).toBeGreaterThanOrEqual(99)
    expect(r.latencies.at(-1)).toBeGreaterThan(800)
    // ascending
    expect([...r.latencies]).toEqual([...r.latencies].sort((a, b) => a - b))
    expect(r.p99BySecond.length).toBe(1)
    expect(r.p99BySecond[0]).toBeGreaterThan(800)
  })

  it("tells which second of the round the tail came from", async () => {
    // the server stalls answers for 300 ms well inside the round's second second (clear of its edges)
    let begin = 0
    const url = await listen(
      answering((_, res) => {
        begin ||= performance.now()
        const at = performance.now() - begin
        setTimeout(() => res.end("{}"), at >= 1100 && at < 1900 ? 300 : 0)
      })
    )
    const r = await runPaced(url, [{ body: "{}" }], 50, 3000, 50)
    expect(r.latencies.length).toBe(150)
    expect(r.p99BySecond.length).toBe(3)
    expect(r.p99BySecond[0]).toBeLessThan(100)
    expect(r.p99BySecond[1]).toBeGreaterThanOrEqual(300)
    expect(r.p99BySecond[2]).toBeLessThan(100)
    // and when in it: the slowest were due while the server stalled, in a few windows of the second second
    expect(r.tail.worst.at).toBeGreaterThanOrEqual(1000)
    expect(r.tail.worst.at).toBeLessThan(2000)
  })

  it("counts a connection the server drops as an error, and goes on with a new one", async () => {
    let n = 0
    const url = await listen(
      answering((req, res) => {
        n++
        if (n % 5 === 0) return void req.socket.destroy()
        res.writeHead(n % 2 === 0 ? 503 : 200, n % 7 === 0 ? { connection: "close" } : {})
        res.end("{}")
      })
    )
    const r = await runPaced(url, [{ body: "{}" }], 100, 500, 3)
    expect(r.errors).toBe(10)
    expect(r.latencies.length).toBe(40)
    expect(r.non2xx).toBeGreaterThan(0)
  })

  it("ends the round when the server goes away: requests left waiting for a connection time out", async () => {
    let n = 0
    const server = answering((_, res) => {
      n++
      if (n < 5) return void res.end("{}")
      // the fifth request: the server stops listening and drops its connections, so none can be reopened
      server.close()
      server.closeAllConnections()
    })
    const url = await listen(server)
    const r = await runPaced(url, [{ body: "{}" }], 50, 500, 2, 200)
    expect(r.latencies.length).toBe(4)
    expect(r.latencies.length + r.errors + r.timeouts).toBe(25)
    expect(r.timeouts).toBeGreaterThan(0)
  })

  it("times out a request that gets no answer", async () => {
    const tcp = createTcpServer((socket) => socket.on("data", () => {}))
    const url = await listen(tcp)
    const r = await runPaced(url, [{ body: "{}" }], 10, 300, 3, 200)
    expect(r.timeouts).toBe(3)
    expect(r.latencies.length).toBe(0)
  })
})
