/**
 * The auditor page's browser bundle, built when the console starts (serve-time bundling, nothing generated is
 * committed): esbuild — the one tsx ships with — bundles auditor/main.ts with the shared verification module
 * (shared/audit/Merkle.ts, Checkpoint.ts, Sha256.ts, Bytes.ts) into one ES module held in memory. So the page
 * always runs exactly the module the CLI and the services run; there is no copy to go stale.
 */
import { createHash } from "node:crypto"
import { extname } from "node:path"
import { fileURLToPath } from "node:url"
import { Data, Effect } from "effect"

export class BundleFailed extends Data.TaggedError("BundleFailed")<{ readonly message: string }> {}

export interface Bundle {
  readonly code: string
  /** Strong validator for the bundle (a content hash). */
  readonly etag: string
  readonly bytes: number
}

// `.ts` under tsx, `.js` when running the compiled dist/: the entry sits beside this file either way.
const entry = fileURLToPath(new URL(`./auditor/main${extname(fileURLToPath(import.meta.url))}`, import.meta.url))

export const buildAuditorBundle = Effect.tryPromise({
  try: async (): Promise<Bundle> => {
    // imported here, and its service process stopped once the bundle is made: esbuild keeps a Go child process
    // (~100 MiB resident) alive for further builds otherwise, and the console makes one
    const esbuild = await import("esbuild")
    const out = await esbuild
      .build({
        entryPoints: [entry],
        bundle: true,
        write: false,
        format: "esm",
        platform: "browser",
        target: "es2022",
        minify: true,
        legalComments: "none",
        logLevel: "silent"
      })
      .finally(() => esbuild.stop())
    const code = out.outputFiles[0]?.text ?? ""
    if (code === "") throw new Error("esbuild produced no output")
    return { code, etag: `"${createHash("sha256").update(code).digest("hex").slice(0, 32)}"`, bytes: code.length }
  },
  catch: (e) => new BundleFailed({ message: `auditor bundle: ${e instanceof Error ? e.message : String(e)}` })
}).pipe(Effect.withSpan("Console.buildAuditorBundle"))
