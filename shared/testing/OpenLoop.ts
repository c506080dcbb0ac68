/**
 * An open-loop load generator on raw keep-alive sockets (the bench's paced round, `LoadRunner.ts <url> <seconds>
 * <file> <rate>`). Requests leave on a uniform schedule, `rate` a second, whatever the answers do; each latency
 * counts from the request's scheduled time, so a server that falls behind shows it (no coordinated omission). A
 * request due while every connection is busy waits in a queue for the next free one, and that wait counts too.
 *
 * Why not node:http's client: at ~800 requests a second it spent ~200 µs of CPU per request here (a ClientRequest,
 * its headers and parser, an Agent's bookkeeping) and its heap's collections stalled the schedule — on a 2-core
 * machine the load generator then took CPU from the servers it measures and added its own pauses to their
 * latencies (docs/scan-bench.md, "The paced round's generator"). Here the requests are serialised once into one
 * buffer, every connection is open before the clock starts, and an answer is read by a small HTTP/1.1 response
 * parser (`responseEnd`): a status line, headers, and a body by content-length or chunked.
 */
import { connect, type Socket } from "node:net"
import { percentile } from "./Processes.js"

export interface PacedRequest {
  readonly body: string
  readonly authorization?: string
}

/** what a paced round measured: the latencies (ms from the scheduled time) of the answered requests, ascending */
export interface PacedResult {
  readonly latencies: Float64Array
  /** the p99 of the requests due in each second of the round, in order (NaN for a second with no answers) */
  readonly p99BySecond: ReadonlyArray<number>
  /** when the slowest 1 % were due: spread over the round, or a few stalls (`tailWindows`) */
  readonly tail: TailWindows
  readonly non2xx: number
  readonly errors: number
  readonly timeouts: number
}

/** Every request as the raw bytes of a JSON POST, in one buffer: request i is `bytes[offsets[i], offsets[i + 1])`. */
export const rawRequests = (host: string, path: string, list: ReadonlyArray<PacedRequest>) => {
  const parts = list.map((r) => {
    const auth = r.authorization === undefined ? "" : `authorization: ${r.authorization}\r\n`
    return Buffer.from(
      `POST ${path} HTTP/1.1\r\nhost: ${host}\r\ncontent-type: application/json\r\n${auth}` +
        `content-length: ${Buffer.byteLength(r.body)}\r\n\r\n${r.body}`
    )
  })
  const offsets = new Uint32Array(parts.length + 1)
  for (const [i, p] of parts.entries()) offsets[i + 1] = offsets[i]! + p.length
  return { bytes: Buffer.concat(parts), offsets }
}

const CRLF2 = Buffer.from("\r\n\r\n")

/** the width of the windows the paced round's tail is placed in */
export const TAIL_WINDOW_MS = 50

/** When a round's slowest requests were due (`tailWindows`). */
export interface TailWindows {
  /** the latency (ms) at or above which a request is in the tail: the round's p99 */
  readonly threshold: number
  /** how many answered requests are in the tail */
  readonly requests: number
  /** in how many of the round's windows of TAIL_WINDOW_MS at least one of them was due */
  readonly windows: number
  /** how many windows the round has */
  readonly of: number
  /** the window holding the most of them: when it began (ms into the round) and how many */
  readonly worst: { readonly at: number; readonly requests: number }
}

/**
 * Where in the round the slowest requests (latency at or above the round's p99) were due, by windows of
 * TAIL_WINDOW_MS: under a steady queue they are spread over most windows; after a stall — a process paused, the
 * machine's cores taken — they crowd into the few windows the stall and the backlog behind it held up.
 * `due[i]` is when request i was due (ms into the round), `latencies[i]` its latency; `durationMs` the round's.
 */
export const tailWindows = (due: ArrayLike<number>, latencies: ArrayLike<number>, durationMs: number): TailWindows => {
  const n = Math.min(due.length, latencies.length)
  const of = Math.max(1, Math.ceil(durationMs / TAIL_WINDOW_MS))
  const sorted = Float64Array.from({ length: n }, (_, i) => latencies[i]!).sort()
  const threshold = percentile(sorted, 99)
  const counts = new Uint32Array(of)
  let requests = 0
  for (let i = 0; i < n; i++) {
    if (!(latencies[i]! >= threshold)) continue
    requests++
    counts[Math.min(of - 1, Math.max(0, Math.floor(due[i]! / TAIL_WINDOW_MS)))]!++
  }
  let windows = 0
  let worst = 0
  for (let w = 0; w < of; w++) {
    if (counts[w]! > 0) windows++
    if (counts[w]! > counts[worst]!) worst = w
  }
  return {
    threshold: Number.isNaN(threshold) ? 0 : threshold,
    requests,
    windows,
    of,
    worst: { at: worst * TAIL_WINDOW_MS, requests: counts[worst] ?? 0 }
  }
}

/**
 * Where the HTTP/1.1 response that starts `buf` ends, with its status and whether the server will close the
 * connection after it; undefined while more bytes are needed. Bodies by content-length or chunked (with
 * trailers); a response with neither has no body (as 204/304 and our servers' answers without one). Throws on
 * bytes that are not a response.
 */
export const responseEnd = (
  buf: Buffer
): { readonly status: number; readonly end: number; readonly close: boolean } | undefined => {
  const head = buf.indexOf(CRLF2)
  if (head < 0) return undefined
  const text = buf.toString("latin1", 0, head)
  if (!text.startsWith("HTTP/1.")) throw new Error(`not an HTTP/1.x response: ${JSON.stringify(text.slice(0, 40))}`)
  const status = Number(text.slice(9, 12))
  let length: number | undefined
  let chunked = false
  let close = text.startsWith("HTTP/1.0")
  for (const line of text.split("\r\n").slice(1)) {
    const colon = line.indexOf(":")
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line
      .slice(colon + 1)
      .trim()
      .toLowerCase()
    if (name === "content-length") length = Number(value)
    else if (name === "transfer-encoding") chunked = value.split(",").some((v) => v.trim() === "chunked")
    else if (name === "connection") close = value === "close" ? true : value === "keep-alive" ? false : close
  }
  let at = head + 4
  if (chunked) {
    for (;;) {
      const eol = buf.indexOf("\r\n", at)
      if (eol < 0) return undefined
      const size = parseInt(buf.toString("latin1", at, eol), 16)
      if (Number.isNaN(size)) throw new Error("a chunked body's chunk size is not hexadecimal")
      at = eol + 2
      if (size === 0) {
        // trailers, if any, then the empty line
        for (;;) {
          const t = buf.indexOf("\r\n", at)
          if (t < 0) return undefined
          if (t === at) return { status, end: t + 2, close }
          at = t + 2
        }
      }
      if (buf.length < at + size + 2) return undefined
      at += size + 2
    }
  }
  const end = at + (status === 204 || status === 304 || (status >= 100 && status < 200) ? 0 : (length ?? 0))
  return buf.length < end ? undefined : { status, end, close }
}

/**
 * Whether a round's slowest 1 % crowd into a few of its windows (stalls) rather than spread as a steady queue spreads
 * them: `requests` falling at random over `of` windows would fill ~of × (1 − e^(−requests/of)) of them; fewer than
 * half that is a crowd.
 */
export const tailCrowded = (t: TailWindows): boolean =>
  t.requests > 0 && t.windows < 0.5 * t.of * (1 - Math.exp(-t.requests / t.of))

interface Connection {
  socket: Socket
  /** the scheduled time of the request out on it; NaN while it is free */
  due: number
  /** response bytes read so far */
  pending: Buffer | undefined
}

/**
 * Sends `list` (in order from a shared cursor, wrapping) to `url` at `perSecond` for `durationMs` over
 * `connections` keep-alive sockets, all opened first; resolves once every request due in the window is answered,
 * failed or timed out.
 */
export const runPaced = async (
  url: string,
  list: ReadonlyArray<PacedRequest>,
  perSecond: number,
  durationMs: number,
  connections: number,
  timeoutMs = 10_000
): Promise<PacedResult> => {
  if (list.length === 0) throw new Error("no requests to send")
  const target = new URL(url)
  const port = Number(target.port || 80)
  const { bytes, offsets } = rawRequests(target.host, `${target.pathname}${target.search}`, list)
  // the garbage of reading and serialising the list collected before the clock starts, not during the round
  // (when node runs with --expose-gc, as autocannonOver starts the load runner)
  ;(globalThis as { gc?: () => void }).gc?.()
  const total = Math.ceil((durationMs * perSecond) / 1000)
  const latencies = new Float64Array(total)
  /** when each answered request was due, ms into the round */
  const dueAt = new Float64Array(total)
  let answered = 0
  let non2xx = 0
  let errors = 0
  let timeouts = 0
  let cursor = 0
  let sent = 0
  /** scheduled times of requests due while every connection was busy, oldest first */
  const queue: Array<number> = []
  let queueHead = 0
  const free: Array<Connection> = []
  let start = 0
  let stopped = false
  let finish: () => void = () => {}
  const done = new Promise<void>((resolve) => (finish = resolve))

  const send = (c: Connection, due: number) => {
    const i = cursor
    cursor = cursor + 1 === list.length ? 0 : cursor + 1
    c.due = due
    c.socket.write(bytes.subarray(offsets[i]!, offsets[i + 1]!))
  }
  /** every request due in the round is answered, failed or timed out: the round is over */
  const settled = () => answered + errors + timeouts === total
  const settle = () => {
    if (settled()) finish()
  }
  /** a free connection takes the oldest waiting request, or waits for one */
  const release = (c: Connection) => {
    c.due = Number.NaN
    if (queueHead < queue.length) send(c, queue[queueHead++]!)
    else free.push(c)
  }
  /** the connections open now (a replaced one leaves) */
  const all = new Set<Connection>()
  const open = (): Promise<Connection> =>
    new Promise((resolve, reject) => {
      const socket = connect({ host: target.hostname, port, noDelay: true })
      const c: Connection = { socket, due: Number.NaN, pending: undefined }
      socket.once("connect", () => {
        all.add(c)
        resolve(c)
      })
      socket.on("data", (chunk: Buffer) => {
        let buf = c.pending === undefined ? chunk : Buffer.concat([c.pending, chunk])
        for (;;) {
          let r: ReturnType<typeof responseEnd>
          try {
            r = responseEnd(buf)
          } catch {
            return replace(c)
          }
          if (r === undefined) break
          if (!Number.isNaN(c.due)) {
            dueAt[answered] = c.due - start
            latencies[answered++] = performance.now() - c.due
            if (r.status < 200 || r.status >= 300) non2xx++
            c.due = Number.NaN
            settle()
          }
          buf = buf.subarray(r.end)
          if (r.close) return replace(c)
          release(c)
          if (buf.length === 0) break
        }
        c.pending = buf.length === 0 ? undefined : buf
      })
      // an error is followed by close; before it connected, the round cannot start (or the replacement failed)
      socket.on("error", reject)
      socket.on("close", () => replace(c))
    })
  /**
   * A connection that failed, closed or timed out: its request counted as an error (or a timeout), a new connection
   * in its place. One that cannot be opened is not retried: the round goes on with fewer connections, and the
   * requests it would have carried wait in the queue (and time out there, counted).
   */
  const replace = (c: Connection, timedOut = false) => {
    if (!all.delete(c)) return
    c.socket.destroy()
    const i = free.indexOf(c)
    if (i >= 0) free.splice(i, 1)
    if (!Number.isNaN(c.due)) {
      if (timedOut) timeouts++
      else errors++
      settle()
    }
    c.due = Number.NaN
    c.pending = undefined
    if (stopped) return
    open().then(release, () => undefined)
  }

  for (const c of await Promise.all(Array.from({ length: connections }, open))) free.push(c)
  start = performance.now()
  const tick = () => {
    const now = performance.now()
    // request k is due at start + k / perSecond: every one due by now leaves, stamped with the time it was due
    const due = Math.min(Math.floor(((now - start) * perSecond) / 1000) + 1, total)
    for (; sent < due; sent++) {
      const at = start + (sent * 1000) / perSecond
      const c = free.pop()
      if (c === undefined) queue.push(at)
      else send(c, at)
    }
    for (const c of all) if (!Number.isNaN(c.due) && now - c.due > timeoutMs) replace(c, true)
    for (; queueHead < queue.length && now - queue[queueHead]! > timeoutMs; queueHead++) {
      timeouts++
      settle()
    }
    // wake when the next request is due (timers fire in whole ms), or now and then to find timeouts at the end
    if (!settled())
      setTimeout(tick, sent < total ? Math.max(1, Math.floor(start + (sent * 1000) / perSecond - now)) : 50)
  }
  tick()
  await done
  stopped = true
  for (const c of all) c.socket.destroy()
  const seconds = Array.from({ length: Math.ceil(durationMs / 1000) }, () => [] as Array<number>)
  for (let i = 0; i < answered; i++) seconds[Math.floor(dueAt[i]! / 1000)]?.push(latencies[i]!)
  const tail = tailWindows(dueAt.subarray(0, answered), latencies.subarray(0, answered), durationMs)
  const p99BySecond = seconds.map((l) =>
    percentile(
      l.sort((a, b) => a - b),
      99
    )
  )
  return { latencies: latencies.subarray(0, answered).sort(), p99BySecond, tail, non2xx, errors, timeouts }
}
