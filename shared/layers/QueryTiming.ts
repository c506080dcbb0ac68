/**
 * Query timing for `brandme_db_query_duration_seconds` (the DatabaseSlowQueries alert): every query a pool's
 * clients run is timed and named by its statement's verb and first table, e.g.
 * `insert scan_events`, `select garments`, `with` (a CTE) or `call` — low-cardinality by construction (verbs ×
 * tables), and capped: past MaxOperations distinct names a new one is counted as `other`.
 */
import type pg from "pg"

export const MaxOperations = 200

const verbs = new Set(["select", "insert", "update", "delete", "with", "call", "begin", "commit", "rollback", "copy"])

/** The operation name of a SQL text: its verb and, for select/insert/update/delete, the table it names first. */
export const operationOf = (sql: string): string => {
  const text = sql
    .replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, " ")
    .trim()
    .toLowerCase()
  const verb = /^[a-z]+/.exec(text)?.[0] ?? ""
  if (!verbs.has(verb)) return "other"
  const table =
    verb === "select" || verb === "delete"
      ? /\bfrom\s+("?)([a-z_][a-z0-9_.]*)\1/.exec(text)?.[2]
      : verb === "insert"
        ? /\binto\s+("?)([a-z_][a-z0-9_.]*)\1/.exec(text)?.[2]
        : verb === "update"
          ? /^update\s+(only\s+)?("?)([a-z_][a-z0-9_.]*)\2/.exec(text)?.[3]
          : undefined
  return table === undefined ? verb : `${verb} ${table}`
}

export type QueryListener = (operation: string, seconds: number) => void

/**
 * Wraps each new client's `query` so its callback and promise forms report (operation, seconds) to the pool's
 * listener; a submittable (a cursor) passes through untimed. Returns how to set that listener: the first caller
 * gets it (true), later ones are refused (false), so a query is never counted twice.
 */
export const timeQueries = (pool: pg.Pool): ((listener: QueryListener) => boolean) => {
  let listener: QueryListener | undefined
  const names = new Set<string>()
  const name = (sql: string) => {
    const op = operationOf(sql)
    if (names.has(op)) return op
    if (names.size >= MaxOperations) return "other"
    names.add(op)
    return op
  }
  pool.on("connect", (client) => {
    const original = client.query.bind(client) as (...args: Array<unknown>) => unknown
    ;(client as unknown as { query: (...args: Array<unknown>) => unknown }).query = (...args: Array<unknown>) => {
      const l = listener
      if (l === undefined) return original(...args)
      const first = args[0]
      const text = (first as { text?: unknown } | null)?.text
      const sql = typeof first === "string" ? first : typeof text === "string" ? text : ""
      const t0 = performance.now()
      const done = () => l(name(sql), (performance.now() - t0) / 1000)
      // the callback form (what @effect/sql-pg uses): time until the callback
      const last = args[args.length - 1]
      if (typeof last === "function") {
        args[args.length - 1] = (...results: Array<unknown>) => {
          done()
          return (last as (...r: Array<unknown>) => unknown)(...results)
        }
        return original(...args)
      }
      const result = original(...args)
      if (result instanceof Promise) result.then(done, done)
      return result
    }
  })
  return (l) => {
    if (listener !== undefined) return false
    listener = l
    return true
  }
}
