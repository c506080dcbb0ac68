import { Effect, Either } from "effect"
import { appConfig, insecureSettings } from "../shared/config/AppConfig.js"
import { makeConfigProvider } from "../shared/config/EnvFile.js"
import { projectRoot } from "../shared/runtime/Process.js"
import {
  ConnectionSecrets,
  callUrlVariable,
  type ProcessName,
  SecretVariables,
  Services,
  secretsOf
} from "../shared/ServiceCatalog.js"

/**
 * A process's configuration checked before it runs: the env a manifest or compose gives it, read with the
 * same Config the process reads at start (AppConfig — every setting, each service's own among them — and its
 * production checks scoped to the process), plus what the catalog says it needs: every secret it reads, no secret it does
 * not, and the URL of every service it calls. Used by `npm run stack:plan`, the stack and compose tests.
 */

/** A secret reference (secretKeyRef, `${VAR:?}`) stands for a present value of the right shape. */
const SecretStandIns: Readonly<Record<string, string>> = {
  DATABASE_URL: "postgres://brandme:present@database.invalid:5432/brandme",
  REDIS_URL: "rediss://:present@redis.invalid:6378",
  REDIS_QUEUE_URL: "rediss://:present@redis-queue.invalid:6378"
}
export const secretStandIn = (variable: string): string => SecretStandIns[variable] ?? `present-${variable}`

/** Variables whose values are secrets: the catalog's secrets and the connection strings. */
const SecretLike: ReadonlySet<string> = new Set<string>([...SecretVariables, ...Object.values(ConnectionSecrets)])

export interface ProcessEnv {
  readonly process: ProcessName
  /** literal values */
  readonly env: Readonly<Record<string, string>>
  /** variables given by reference to a secret (their value is not known at plan time) */
  readonly secretRefs: ReadonlySet<string>
}

/** Every problem with a process's env, each starting with the variable it is about. */
export const checkProcessEnv = (input: ProcessEnv, dotenvDir = projectRoot()): ReadonlyArray<string> => {
  const { process: p, env, secretRefs } = input
  const given = new Set([...Object.keys(env), ...secretRefs])
  const problems: Array<string> = []
  const needed = secretsOf(p)
  for (const v of needed) if (!given.has(v)) problems.push(`${v}: not given, and ${p} reads it (a secret it needs)`)
  for (const v of given)
    if (SecretLike.has(v) && !needed.includes(v))
      problems.push(`${v}: given, but ${p} does not read it (least privilege)`)
  if (p !== "migrate") {
    for (const callee of Services[p].calls) {
      const v = callUrlVariable(callee)
      if (!given.has(v)) problems.push(`${v}: not set, so ${p} would call ${callee} on its own 127.0.0.1`)
    }
  }
  const values: Record<string, string> = { ...env }
  for (const v of secretRefs) values[v] = secretStandIn(v)
  const loaded = makeConfigProvider(values, dotenvDir)
  if (Either.isLeft(loaded)) return [...problems, `${loaded.left.file}: ${loaded.left.message}`]
  const read = Effect.gen(function* () {
    const config = yield* appConfig
    return insecureSettings(config, [p])
  }).pipe(Effect.withConfigProvider(loaded.right.provider), Effect.either, Effect.runSync)
  if (Either.isLeft(read)) return [...problems, `invalid configuration: ${String(read.left)}`]
  return [...problems, ...read.right.map((m) => `refused in ${loaded.right.appEnv}: ${m}`)]
}
