import { createServer, type OutgoingHttpHeaders, type Server } from "node:http"
import type { Redis as IORedis } from "ioredis"

/** Listens on 127.0.0.1 at a free port; the server's base URL (`http://127.0.0.1:<port>`). */
export const listenOnLoopback = async (server: Server): Promise<string> => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()))
  const address = server.address()
  return `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`
}

/**
 * The warm phase's baselines: bare node:http answering every request with one Redis GET of `key`, under the
 * headers `headers()` gives at the time (a 500 when Redis fails).
 */
export const redisGetServer = (redis: IORedis, key: string, headers: () => OutgoingHttpHeaders): Server =>
  createServer((_req, res) => {
    redis.get(key).then(
      (v) => {
        res.writeHead(200, headers())
        res.end(v ?? "null")
      },
      () => {
        res.writeHead(500)
        res.end()
      }
    )
  })
