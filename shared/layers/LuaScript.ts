import { createHash } from "node:crypto"
import type { Redis as IORedis } from "ioredis"

/*
 * Lua scripts on a Redis client. Only a type import of ioredis: shared/http's rate limiter imports this, and a
 * service that does not use Redis must not load ioredis (services/Footprint.itest.ts).
 */

/** A Lua script and its SHA1, for `runScript`. */
export interface LuaScript {
  readonly source: string
  readonly sha: string
}
export const luaScript = (source: string): LuaScript => ({
  source,
  sha: createHash("sha1").update(source).digest("hex")
})

/** Runs a script by its SHA (EVALSHA); the first time on a server (or after SCRIPT FLUSH) sends the script itself. */
export const runScript = (
  client: IORedis,
  script: LuaScript,
  keys: ReadonlyArray<string>,
  args: ReadonlyArray<string | number>
): Promise<unknown> =>
  client.evalsha(script.sha, keys.length, ...keys, ...args).catch((e: unknown) => {
    if (e instanceof Error && e.message.startsWith("NOSCRIPT")) {
      return client.eval(script.source, keys.length, ...keys, ...args)
    }
    throw e
  })
