import { type ParseArgsConfig, parseArgs } from "node:util"
import { Effect, Either } from "effect"
import { type AppConfigShape, appConfig } from "../../shared/config/AppConfig.js"
import { makeConfigProvider } from "../../shared/config/EnvFile.js"
import { projectRoot } from "../../shared/runtime/Process.js"

/**
 * What every operator command shares: argument parsing with `--help`, the platform configuration
 * (environment over `.env.<APP_ENV>`, as the services read it), progress lines, one readable failure
 * message and exit code 1 — never a stack trace for an expected problem.
 */
export class CliFailure {
  readonly _tag = "CliFailure"
  constructor(readonly message: string) {}
}

export const fail = (message: string): never => {
  throw new CliFailure(message)
}

type Options = NonNullable<ParseArgsConfig["options"]>

export interface CommandSpec<O extends Options> {
  readonly name: string
  readonly usage: string
  readonly options: O
}

/** Parses argv; prints usage and exits 0 on `--help`; unknown options are a failure naming the usage. */
export const parseCommand = <O extends Options>(spec: CommandSpec<O>, argv: ReadonlyArray<string>) => {
  const parsed = (() => {
    try {
      return parseArgs({
        args: [...argv],
        options: { ...spec.options, help: { type: "boolean", short: "h" } },
        allowPositionals: true,
        strict: true
      })
    } catch (e) {
      return fail(`${e instanceof Error ? e.message : String(e)}\n\n${spec.usage}`)
    }
  })()
  const flags: Record<string, unknown> = parsed.values
  if (flags.help === true) {
    process.stdout.write(`${spec.usage}\n`)
    process.exit(0)
  }
  return parsed
}

/** The platform configuration as the services would read it (no production safety gate: ops tools read only). */
export const loadConfig = (env: NodeJS.ProcessEnv = process.env): AppConfigShape => {
  const loaded = makeConfigProvider(env, projectRoot())
  if (Either.isLeft(loaded))
    return fail(`configuration error: ${loaded.left.file}:${loaded.left.line}: ${loaded.left.message}`)
  const result = Effect.runSync(Effect.either(appConfig.pipe(Effect.withConfigProvider(loaded.right.provider))))
  return Either.isLeft(result) ? fail(`invalid configuration: ${String(result.left)}`) : result.right
}

/** A URL with its password masked, for messages. */
export const redactUrl = (u: string): string => {
  try {
    const url = new URL(u)
    if (url.password !== "") url.password = "****"
    return url.toString()
  } catch {
    return "(unparseable URL)"
  }
}

export const errorText = (e: unknown): string => {
  if (e instanceof AggregateError && e.errors.length > 0) return e.errors.map(errorText).join("; ")
  if (e instanceof Error) {
    // fetch and pg wrap the useful part (ECONNREFUSED 127.0.0.1:3000) in `cause`
    const own = e.message !== "" ? e.message : e.name
    return e.cause === undefined ? own : `${own}: ${errorText(e.cause)}`
  }
  if (typeof e === "object" && e !== null && "message" in e && typeof e.message === "string") return e.message
  return String(e)
}

const elapsed = (t0: number): string => `${((performance.now() - t0) / 1000).toFixed(1)}s`

/** `[name] label ... done (1.2s)` — a step the operator can watch. */
export const step = async <A>(name: string, label: string, f: () => Promise<A>): Promise<A> => {
  const t0 = performance.now()
  process.stdout.write(`[${name}] ${label} ...\n`)
  const a = await f()
  process.stdout.write(`[${name}] ${label}: done (${elapsed(t0)})\n`)
  return a
}

export const info = (name: string, line: string): void => {
  process.stdout.write(`[${name}] ${line}\n`)
}

/** Retries `f` until it succeeds or `timeoutMs` passes, printing each failed attempt. */
export const retry = async <A>(
  name: string,
  what: string,
  f: () => Promise<A>,
  o: { readonly timeoutMs: number; readonly intervalMs: number }
): Promise<A> => {
  const t0 = performance.now()
  for (let attempt = 1; ; attempt++) {
    try {
      return await f()
    } catch (e) {
      const spent = performance.now() - t0
      if (spent + o.intervalMs > o.timeoutMs) {
        return fail(`${what}: gave up after ${attempt} attempts in ${elapsed(t0)}: ${errorText(e)}`)
      }
      info(name, `${what}: attempt ${attempt} failed (${errorText(e)}); retrying in ${o.intervalMs} ms`)
      await new Promise((r) => setTimeout(r, o.intervalMs))
    }
  }
}

/** Runs a command's main: a `CliFailure` prints its message and exits 1; anything else prints and exits 1 too. */
export const runCli = (name: string, main: () => Promise<number | undefined>): void => {
  main().then(
    (code) => process.exit(code ?? 0),
    (e: unknown) => {
      process.stderr.write(`${name}: ${e instanceof CliFailure ? e.message : `unexpected failure: ${errorText(e)}`}\n`)
      if (!(e instanceof CliFailure) && e instanceof Error && e.stack !== undefined) {
        process.stderr.write(`${e.stack}\n`)
      }
      process.exit(1)
    }
  )
}

/** A fixed-width table for terminal output. */
export const renderTable = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd()
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n")
}
