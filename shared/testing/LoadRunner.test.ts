import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { autocannonOver } from "./Processes.js"

// A server that answers after `delay` ms (from the path: /slow/120), 503 for /fail; it records what it got.
const seen: Array<{ path: string; body: string; authorization: string | undefined; at: number }> = []
let server: Server
let base: string
let dir: string
let file: string

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = ""
    req.on("data", (c: Buffer) => {
      body += c.toString("utf8")
    })
    req.on("end", () => {
      const path = req.url ?? "/"
      seen.push({ path, body, authorization: req.headers.authorization, at: performance.now() })
      const delay = Number(path.split("/")[2] ?? "0")
      setTimeout(() => {
        res.writeHead(path.startsWith("/fail") ? 503 : 200, { "content-type": "application/json" })
        res.end("{}")
      }, delay)
    })
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  dir = mkdtempSync(join(tmpdir(), "load-runner-"))
  file = join(dir, "requests.json")
  writeFileSync(file, JSON.stringify([{ body: '{"n":0}' }, { body: '{"n":1}', authorization: "Bearer t" }]))
})

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true })
  await new Promise((r) => server.close(r))
})

describe("the load runner, paced (an open loop)", () => {
  it("sends `rate` requests a second on a schedule, in the list's order, and times each from when it was due", async () => {
    seen.length = 0
    const r = await autocannonOver(`${base}/slow/20`, 2, file, 50)
    expect(r.requests.total).toBe(100)
    expect(r.requests.average).toBe(50)
    expect(r.errors + r.timeouts + r.non2xx).toBe(0)
    // the server's 20 ms show; nothing close to the 20 ms between two requests is added to them
    expect(r.latency.p50).toBeGreaterThanOrEqual(20)
    expect(r.latency.p50).toBeLessThan(35)
    expect(seen.map((s) => s.body).slice(0, 3)).toEqual(['{"n":0}', '{"n":1}', '{"n":0}'])
    expect(seen.map((s) => s.authorization).slice(0, 2)).toEqual([undefined, "Bearer t"])
    // spread over the two seconds, not sent in a burst: the last left ~2 s after the first
    expect(seen.at(-1)!.at - seen[0]!.at).toBeGreaterThan(1800)
  })

  it("keeps sending when answers are slower than the pace (latency grows, the rate does not drop)", async () => {
    const r = await autocannonOver(`${base}/slow/300`, 1, file, 100)
    expect(r.requests.total).toBe(100)
    expect(r.latency.p50).toBeGreaterThanOrEqual(300)
  })

  it("counts answers outside 2xx", async () => {
    const r = await autocannonOver(`${base}/fail/0`, 1, file, 20)
    expect(r.non2xx).toBe(20)
  })

  it("refuses a rate that is not a whole number above 0", async () => {
    await expect(autocannonOver(`${base}/slow/0`, 1, file, 0)).rejects.toThrow(/rate: must be a whole number/)
  })
})
