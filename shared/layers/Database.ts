import { PgClient } from "@effect/sql-pg"
import type { SqlClient } from "@effect/sql"
import { Context, Duration, Effect, Layer, Redacted } from "effect"
import pg from "pg"
import { AppConfig } from "../config/AppConfig.js"
import { DependencyError, describeCause } from "./Errors.js"
import { type QueryListener, timeQueries } from "./QueryTiming.js"
import { Database } from "./Systems.js"

export interface PoolStats {
  readonly total: number
  readonly idle: number
  readonly waiting: number
  readonly max: number
}

/**
 * Postgres: the SqlClient every repository uses, plus what health and metrics need (ping, pool use).
 * The pool is built here so its counters are readable; @effect/sql-pg runs every query on it.
 */
export interface DatabaseService {
  readonly ping: Effect.Effect<void, DependencyError>
  readonly poolStats: () => PoolStats
  /**
   * Where every query's (operation, seconds) goes (QueryTiming.ts). One listener per pool: the first service
   * to ask gets it, so in the one-process shape (one pool for every service) the queries are counted once,
   * under that service; a process of one service counts its own.
   */
  readonly observeQueries: (listener: QueryListener) => boolean
  /**
   * One statement on the pool without a fiber, its rows as the driver gives them (knowledge's scan-path lookups,
   * whose fiber and per-row decoding through @effect/sql cost more CPU than the lookups: docs/scan-bench.md). `name`
   * prepares it once per connection (Postgres parses and plans it once). Timed like every query (QueryTiming.ts).
   */
  readonly query: <R>(text: string, values: ReadonlyArray<unknown>, name?: string) => Promise<ReadonlyArray<R>>
}

export { Database }

export interface DatabaseOptions {
  readonly url: string
  readonly poolMax: number
  readonly idleTimeoutMs: number
  readonly connectTimeoutMs: number
  readonly ssl: "disable" | "require" | "verify-full"
  readonly applicationName: string
}

const sslOption = (ssl: DatabaseOptions["ssl"]): pg.PoolConfig["ssl"] =>
  ssl === "disable" ? false : ssl === "require" ? { rejectUnauthorized: false } : { rejectUnauthorized: true }

/** int8 and numeric as JS numbers would lose precision past 2^53: keep BIGINT as string (documented pitfall). */
export const makeDatabaseLayer = (o: DatabaseOptions) => {
  const poolLayer = Layer.scoped(
    PoolTag,
    Effect.acquireRelease(
      Effect.sync(() => {
        const pool = new pg.Pool({
          connectionString: o.url,
          max: o.poolMax,
          idleTimeoutMillis: o.idleTimeoutMs,
          connectionTimeoutMillis: o.connectTimeoutMs,
          ssl: sslOption(o.ssl),
          application_name: o.applicationName
        })
        // a broken idle connection must not crash the process; the next query reconnects
        pool.on("error", () => {})
        return { pool, observeQueries: timeQueries(pool) }
      }),
      ({ pool }) => Effect.promise(() => pool.end().catch(() => undefined))
    )
  )
  const clientLayer = Layer.unwrapEffect(
    Effect.map(PoolTag, ({ pool }) =>
      PgClient.layerFromPool({ acquire: Effect.succeed(pool), applicationName: o.applicationName })
    )
  )
  const databaseLayer = Layer.effect(
    Database,
    Effect.map(PoolTag, ({ pool, observeQueries }) => ({
      ping: Effect.tryPromise({
        try: () => pool.query("SELECT 1"),
        catch: (cause) =>
          new DependencyError({ dependency: "database", operation: "ping", message: describeCause(cause) })
      }).pipe(Effect.asVoid),
      poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: o.poolMax }),
      observeQueries,
      query: <R>(text: string, values: ReadonlyArray<unknown>, name?: string) =>
        pool
          .query({ text, values: values as Array<unknown>, ...(name !== undefined ? { name } : {}) })
          .then((r) => r.rows as ReadonlyArray<R>)
    }))
  )
  return Layer.mergeAll(clientLayer, databaseLayer).pipe(Layer.provideMerge(poolLayer))
}

class PoolTag extends Context.Tag("brandme/Database/Pool")<
  PoolTag,
  {
    readonly pool: pg.Pool
    readonly observeQueries: (listener: QueryListener) => boolean
  }
>() {}

export const DatabaseLive = (applicationName: string) =>
  Layer.unwrapEffect(
    Effect.map(AppConfig, (c) =>
      makeDatabaseLayer({
        url: Redacted.value(c.database.url),
        poolMax: c.database.poolMax,
        idleTimeoutMs: c.database.idleTimeoutMs,
        connectTimeoutMs: c.database.connectTimeoutMs,
        ssl: c.database.ssl,
        applicationName
      })
    )
  )

export type Sql = SqlClient.SqlClient
export const pingTimeout = Duration.seconds(2)
