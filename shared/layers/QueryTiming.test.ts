import { describe, expect, it } from "vitest"
import { MaxOperations, operationOf, timeQueries } from "./QueryTiming.js"
import { EventEmitter } from "node:events"
import type pg from "pg"

describe("operationOf", () => {
  it.each([
    ["SELECT id FROM garments WHERE gtin = $1", "select garments"],
    ['select * from "scan_events" where id = $1', "select scan_events"],
    ["INSERT INTO audit_leaves (a) VALUES ($1)", "insert audit_leaves"],
    ["  -- a comment\n  UPDATE ONLY consents SET x = 1", "update consents"],
    ["/* c */ DELETE FROM notifications WHERE id = $1", "delete notifications"],
    ["WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", "with"],
    ["SELECT 1", "select"],
    ["BEGIN", "begin"],
    ["VACUUM scan_events", "other"],
    ["", "other"]
  ])("%s → %s", (sql, op) => expect(operationOf(sql)).toBe(op))
})

/** a pg client stand-in for the wrapper alone: the real pool is exercised by the Prometheus itests */
const fakePool = () => {
  const pool = new EventEmitter()
  const connect = () => {
    const client = {
      query: (...args: Array<unknown>) => {
        const cb = args[args.length - 1]
        if (typeof cb !== "function") return Promise.resolve({ rows: [] })
        setTimeout(() => cb(null, { rows: [] }), 1)
        return undefined
      }
    }
    pool.emit("connect", client)
    return client
  }
  return { pool: pool as unknown as pg.Pool, connect }
}

describe("timeQueries", () => {
  it("reports each query's operation and duration (promise and callback forms) to the listener, nothing without one", async () => {
    const { pool, connect } = fakePool()
    const setListener = timeQueries(pool)
    const client = connect()
    const seen: Array<[string, number]> = []
    await client.query("SELECT 1 FROM garments")
    setListener((op, s) => seen.push([op, s]))
    await client.query("SELECT 1 FROM garments")
    await client.query({ text: "INSERT INTO scan_events VALUES ($1)", values: [1] })
    let called = false
    await new Promise<void>((r) =>
      client.query("UPDATE consents SET x = 1", [], () => {
        called = true
        r()
      })
    )
    expect(called).toBe(true)
    expect(seen.map(([op]) => op)).toEqual(["select garments", "insert scan_events", "update consents"])
    expect(seen.every(([, s]) => s >= 0 && s < 1)).toBe(true)
  })

  it(`caps distinct operations at ${MaxOperations}: the rest count as other`, async () => {
    const { pool, connect } = fakePool()
    const setListener = timeQueries(pool)
    const client = connect()
    const ops: Array<string> = []
    setListener((op) => ops.push(op))
    for (let i = 0; i < MaxOperations + 5; i++) await client.query(`SELECT 1 FROM t${i}`)
    await new Promise((r) => setTimeout(r, 0))
    expect(new Set(ops).size).toBe(MaxOperations + 1)
    expect(ops.slice(-5)).toEqual(["other", "other", "other", "other", "other"])
  })
})
