import { SqlClient, type SqlError } from "@effect/sql"
import { Effect } from "effect"

/**
 * Runs `effect`'s statements in one transaction that sees one snapshot of the database and writes nothing
 * (REPEATABLE READ, READ ONLY): for reads that must agree with each other while others write — the audit
 * log checked page by page while scans append to it, a person's records exported while they act.
 */
export const inReadOnlySnapshot = <A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E | SqlError.SqlError, R | SqlClient.SqlClient> =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql.withTransaction(Effect.zipRight(sql`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`, effect))
  )
