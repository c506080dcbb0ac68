import { copyFileSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"
import { build } from "esbuild"
import { writeAppBundle } from "../../../services/console/Bundle.js"
import { bundleServices } from "../ServiceBundle.js"

/**
 * The runtime image's layout without Docker, fast: every source file transpiled one to one into dist/ (as
 * `npm run build` lays it out; esbuild, no type check: the typecheck is its own step of `npm test`), the
 * console app's browser bundle and the services' bundled entry point (the rest of `npm run build`:
 * dist/services/main.js, what the image's CMD runs), the SQL migrations, the .env files and
 * package.json, with the repository's node_modules linked in.
 */
const Folders = ["services", "shared", "migrations", "scripts"] as const

const sources = (root: string, folder: string): ReadonlyArray<string> =>
  readdirSync(join(root, folder), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !f.endsWith(".itest.ts") && !f.endsWith(".d.ts"))
    .map((f) => join(root, folder, f))

export const buildImageLayout = async (repo: string, app: string): Promise<number> => {
  const t0 = performance.now()
  mkdirSync(app, { recursive: true })
  await build({
    entryPoints: Folders.flatMap((f) => sources(repo, f)),
    outdir: join(app, "dist"),
    outbase: repo,
    format: "esm",
    platform: "node",
    target: "node20",
    bundle: false,
    logLevel: "error"
  })
  await bundleServices(repo, join(app, "dist"))
  const consoleBundle = await writeAppBundle()
  mkdirSync(join(app, "dist", "console"), { recursive: true })
  writeFileSync(join(app, "dist", "console", "app.js"), consoleBundle.code)
  for (const f of ["package.json", ".env.development", ".env.staging", ".env.production"])
    copyFileSync(join(repo, f), join(app, f))
  mkdirSync(join(app, "migrations"), { recursive: true })
  symlinkSync(join(repo, "migrations", "sql"), join(app, "migrations", "sql"))
  symlinkSync(join(repo, "node_modules"), join(app, "node_modules"))
  return performance.now() - t0
}

export const layoutPath = (app: string, file: string): string => relative(app, file)
