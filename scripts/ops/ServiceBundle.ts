import { readdirSync, rmSync } from "node:fs"
import { join } from "node:path"
import { build } from "esbuild"

/**
 * The services' entry point as one bundle: `services/main.ts` and everything it imports (npm packages
 * included) into `dist/services/main.js`, each service's code (`services/Registry.ts` imports it when that
 * service starts) and every other lazily imported module (drivers, the OTel SDK) in a chunk of its own beside
 * it, loaded only by the process that asks for it.
 *
 * Why: a Node process keeps the source text of every module it loads. One module per file, as tsc emits them
 * and as npm packages ship them (JSDoc included), that text was ~20 MB of the orchestrator worker's 50 MB heap;
 * bundled without comments and with only the code reached, the worker's heap is ~30 MB (docs/memory.md).
 * Names are not pinned (`keepNames` off): esbuild's `__name` helper ran for every function value created — each
 * closure an Effect pipeline builds per request — and took 2–5 % of the gateway's CPU on the scan path
 * (docs/scan-bench.md). Identifiers are not minified, so functions and classes keep their source names; only a
 * top-level name that collides across modules gets a suffix (`Foo2`). Error tags never depend on it: tagged
 * errors carry their `_tag` and `name` as strings, services their keys, and the source map gives positions.
 *
 * Left outside: `pg-native` (pg's optional native binding, not installed) and `esbuild` (the console's
 * auditor build spawns esbuild's own binary from its package).
 */
export const bundleServices = async (repo: string, outDir: string) => {
  // the chunks of an earlier build (their names carry content hashes) go first
  const dir = join(outDir, "services")
  for (const f of readdirSync(dir, { withFileTypes: true }))
    if (f.isFile() && f.name.startsWith("chunk-")) rmSync(join(dir, f.name))
  const r = await build({
    absWorkingDir: repo,
    entryPoints: [join(repo, "services", "main.ts")],
    outdir: join(outDir, "services"),
    entryNames: "[name]",
    chunkNames: "chunk-[name]-[hash]",
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node22",
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: false,
    legalComments: "none",
    sourcemap: "linked",
    external: ["pg-native", "esbuild"],
    // CommonJS packages inside an ESM bundle still call require() for Node's built-ins
    banner: {
      js: 'import { createRequire as __bundleRequire } from "node:module"; const require = __bundleRequire(import.meta.url);'
    },
    metafile: true,
    logLevel: "error"
  })
  const outputs = Object.entries(r.metafile.outputs).filter(([f]) => f.endsWith(".js"))
  return { files: outputs.length, bytes: outputs.reduce((a, [, o]) => a + o.bytes, 0) }
}
