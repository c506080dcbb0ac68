/**
 * The cold bench's second baseline: bare node:http answering a scan body with one indexed SELECT by
 * (gtin, serial) — the garments table's unique key — on a pg pool of the gateway path's size and idle timeout.
 */
import { createServer, type Server } from "node:http"
import pg from "pg"
import { COLUMNS } from "../../services/knowledge/Repo.js"
import { listenOnLoopback } from "./Serve.js"

/** GTIN and serial of an uncompressed Digital Link (what the bench sends); the gateway parses it fully */
const KEY = /\/01\/(\d{14})(?:\/[^/]+\/[^/]+)*?\/21\/([^/?#]+)/

export const startPgBaseline = async (databaseUrl: string, poolMax: number, idleTimeoutMs: number) => {
  // the services' idle timeout (DATABASE_POOL_IDLE_TIMEOUT_MS, 30 s): with pg's default 10 s the pool closed its
  // connections during the gateway's rounds (10 s and more), so each baseline round began by opening new ones
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolMax, idleTimeoutMillis: idleTimeoutMs })
  const answer = (res: import("node:http").ServerResponse, status: number, body: string) => {
    res.writeHead(status, { "content-type": "application/json" })
    res.end(body)
  }
  const server: Server = createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      let tag: unknown
      try {
        tag = JSON.parse(Buffer.concat(chunks).toString("utf8")).tag
      } catch {
        return answer(res, 400, '{"error":"BadRequest"}')
      }
      const m = typeof tag === "string" ? KEY.exec(tag) : null
      if (m === null) return answer(res, 422, '{"error":"InvalidTag"}')
      pool
        .query(`SELECT ${COLUMNS} FROM garments WHERE gtin = $1 AND serial = $2`, [
          m[1],
          decodeURIComponent(m[2] ?? "")
        ])
        .then(
          (r) =>
            r.rows[0] === undefined
              ? answer(res, 404, '{"error":"GarmentNotFound"}')
              : answer(res, 200, JSON.stringify(r.rows[0])),
          () => answer(res, 500, '{"error":"InternalServerError"}')
        )
    })
  })
  const url = `${await listenOnLoopback(server)}/v1/scans`
  // every connection open before the clock starts, as the gateway path's are after its warm phase
  await Promise.all(Array.from({ length: poolMax }, () => pool.query("SELECT 1")))
  return {
    url,
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()))
      await pool.end()
    }
  }
}
