import pg from "pg"

/**
 * Administrative Postgres operations that must happen outside the application database
 * (it may not exist yet): wait for the server, create the database.
 */
export const withAdminClient = async <A>(databaseUrl: string, f: (client: pg.Client) => Promise<A>): Promise<A> => {
  const url = new URL(databaseUrl)
  url.pathname = "/postgres"
  const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 3000 })
  await client.connect()
  try {
    return await f(client)
  } finally {
    await client.end().catch(() => undefined)
  }
}

export const databaseName = (databaseUrl: string): string => decodeURIComponent(new URL(databaseUrl).pathname.slice(1))

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

/** Creates the database named in the URL when it is missing; returns whether it created it. */
export const ensureDatabase = (databaseUrl: string): Promise<boolean> =>
  withAdminClient(databaseUrl, async (client) => {
    const name = databaseName(databaseUrl)
    if (!IDENT.test(name)) throw new TypeError(`database name "${name}" must be a plain identifier`)
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name])
    if (found.rowCount !== 0) return false
    try {
      await client.query(`CREATE DATABASE "${name}"`)
    } catch (e) {
      // another process created it between the check and the create
      if (!(e instanceof Error && "code" in e && e.code === "42P04")) throw e
      return false
    }
    return true
  })

export const dropDatabase = (databaseUrl: string): Promise<void> =>
  withAdminClient(databaseUrl, async (client) => {
    const name = databaseName(databaseUrl)
    if (!IDENT.test(name)) throw new TypeError(`database name "${name}" must be a plain identifier`)
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
  })
