import { readFileSync } from "node:fs"
import { resolve } from "node:path"
import { ConfigProvider, Either, Schema } from "effect"

/**
 * `.env.<APP_ENV>` files hold per-environment defaults; real environment variables always win.
 * The file is parsed strictly: a line that is neither blank, a comment nor KEY=VALUE is a startup
 * error naming the file and line, never silently ignored.
 */
export class EnvFileError extends Schema.TaggedError<EnvFileError>()("EnvFileError", {
  file: Schema.String,
  line: Schema.Number,
  message: Schema.String
}) {}

export const AppEnvs = ["development", "staging", "production"] as const
export type AppEnv = (typeof AppEnvs)[number]

const KEY = /^[A-Z_][A-Z0-9_]*$/

export const parseEnvFile = (text: string, file: string): Either.Either<ReadonlyMap<string, string>, EnvFileError> => {
  const out = new Map<string, string>()
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim()
    if (raw === "" || raw.startsWith("#")) continue
    const eq = raw.indexOf("=")
    const key = eq > 0 ? raw.slice(0, eq).trim() : ""
    if (!KEY.test(key)) {
      return Either.left(new EnvFileError({ file, line: i + 1, message: `expected KEY=VALUE, got "${raw}"` }))
    }
    let value = raw.slice(eq + 1).trim()
    if (value.length >= 2 && (value.startsWith('"') || value.startsWith("'")) && value.endsWith(value[0]!)) {
      value = value.slice(1, -1)
    }
    out.set(key, value)
  }
  return Either.right(out)
}

/** Reads the env file for `appEnv` from `dir` (missing file → empty). */
export const readEnvFile = (appEnv: AppEnv, dir: string): Either.Either<ReadonlyMap<string, string>, EnvFileError> => {
  const file = resolve(dir, `.env.${appEnv}`)
  let text: string
  try {
    text = readFileSync(file, "utf8")
  } catch {
    return Either.right(new Map())
  }
  return parseEnvFile(text, file)
}

const isAppEnv = (value: string): value is AppEnv => AppEnvs.some((e) => e === value)

export const resolveAppEnv = (env: NodeJS.ProcessEnv): Either.Either<AppEnv, EnvFileError> => {
  const value = env.APP_ENV ?? "development"
  return isAppEnv(value)
    ? Either.right(value)
    : Either.left(
        new EnvFileError({ file: "APP_ENV", line: 0, message: `APP_ENV must be one of ${AppEnvs.join(", ")}` })
      )
}

/** The process's ConfigProvider: environment variables first, then `.env.<APP_ENV>`. */
export const makeConfigProvider = (
  env: NodeJS.ProcessEnv,
  dir: string
): Either.Either<{ readonly appEnv: AppEnv; readonly provider: ConfigProvider.ConfigProvider }, EnvFileError> =>
  Either.gen(function* () {
    const appEnv = yield* resolveAppEnv(env)
    const fileValues = yield* readEnvFile(appEnv, dir)
    const merged = new Map(fileValues)
    for (const [k, v] of Object.entries(env)) if (v !== undefined) merged.set(k, v)
    merged.set("APP_ENV", appEnv)
    return { appEnv, provider: ConfigProvider.fromMap(merged) }
  })
