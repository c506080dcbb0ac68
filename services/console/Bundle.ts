/**
 * The console's browser bundles. esbuild (the one tsx ships with) bundles TypeScript with the shared
 * verification module (shared/audit/*), so the browser runs exactly the module the CLI and the services run.
 *
 * - The auditor page (auditor/main.ts) is bundled in memory when the console starts.
 * - The app (app/main.tsx, React) is built to dist/console/ by `npm run build` (scripts/build-console.ts) and,
 *   when that output is missing or older than any of its sources, by the console itself at start. A process
 *   without the sources (a built image) serves what `npm run build` left there.
 */
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Data, Effect } from "effect"
import { rootAbove } from "../../shared/runtime/ProjectRoot.js"

export class BundleFailed extends Data.TaggedError("BundleFailed")<{ readonly message: string }> {}

export interface Bundle {
  readonly code: string
  /** Strong validator for the bundle (a content hash). */
  readonly etag: string
  readonly bytes: number
}

// the project root, from the sources (tsx), the compiled dist/services/console or the bundled dist/services
const root = rootAbove(import.meta.url)
// the auditor page's entry: its source under tsx, tsc's output of it in a build (dist/ keeps the per-file output)
const auditorEntry = import.meta.url.endsWith(".ts")
  ? join(root, "services", "console", "auditor", "main.ts")
  : join(root, "dist", "services", "console", "auditor", "main.js")
export const appSources = [
  join(root, "services", "console", "app"),
  join(root, "services", "console", "auditor"),
  join(root, "shared", "audit")
]
export const appEntry = join(root, "services", "console", "app", "main.tsx")
export const appOutDir = join(root, "dist", "console")

const bundleOf = (code: string): Bundle => ({
  code,
  etag: `"${createHash("sha256").update(code).digest("hex").slice(0, 32)}"`,
  bytes: code.length
})

/**
 * One esbuild build. esbuild is imported on first use and its service process (a Go child, ~100 MiB resident)
 * is stopped when no build is in flight: the console builds once or twice at start, then never again.
 */
let inFlight = 0
const esbuild = async (entry: string, production: boolean) => {
  const { build, stop } = await import("esbuild")
  inFlight++
  try {
    return await build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      format: "esm",
      platform: "browser",
      target: "es2022",
      minify: true,
      legalComments: "none",
      logLevel: "silent",
      jsx: "automatic",
      define: { "process.env.NODE_ENV": production ? '"production"' : '"development"' }
    })
  } finally {
    if (--inFlight === 0) await stop()
  }
}

export const buildAuditorBundle = Effect.tryPromise({
  try: async (): Promise<Bundle> => {
    const out = await esbuild(auditorEntry, true)
    const code = out.outputFiles[0]?.text ?? ""
    if (code === "") throw new Error("esbuild produced no output")
    return bundleOf(code)
  },
  catch: (e) => new BundleFailed({ message: `auditor bundle: ${e instanceof Error ? e.message : String(e)}` })
}).pipe(Effect.withSpan("Console.buildAuditorBundle"))

const newestMtime = (dir: string): number => {
  let newest = 0
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, name.name)
    newest = Math.max(newest, name.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs)
  }
  return newest
}

/** Writes dist/console/app.js (atomically: several processes may build at once). */
export const writeAppBundle = async (): Promise<Bundle> => {
  const out = await esbuild(appEntry, true)
  const code = out.outputFiles[0]?.text ?? ""
  if (code === "") throw new Error("esbuild produced no output")
  mkdirSync(appOutDir, { recursive: true })
  const tmp = join(appOutDir, `app.js.${process.pid}.${Date.now()}.tmp`)
  writeFileSync(tmp, code)
  renameSync(tmp, join(appOutDir, "app.js"))
  return bundleOf(code)
}

/** The app bundle: dist/console/app.js when it is newer than every source, else built now. */
export const appBundle = Effect.tryPromise({
  try: async (): Promise<Bundle & { readonly built: boolean }> => {
    const file = join(appOutDir, "app.js")
    const haveSources = existsSync(appEntry)
    const built = existsSync(file) ? statSync(file).mtimeMs : 0
    if (!haveSources) {
      if (built === 0) throw new Error(`${file} is missing and there are no sources to build it from (npm run build)`)
      return { ...bundleOf(readFileSync(file, "utf8")), built: false }
    }
    const stale = appSources.some((dir) => existsSync(dir) && newestMtime(dir) > built)
    return stale
      ? { ...(await writeAppBundle()), built: true }
      : { ...bundleOf(readFileSync(file, "utf8")), built: false }
  },
  catch: (e) => new BundleFailed({ message: `console app bundle: ${e instanceof Error ? e.message : String(e)}` })
}).pipe(Effect.withSpan("Console.appBundle"))
