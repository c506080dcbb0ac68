/**
 * Services meet only through their contracts (docs/architecture.md, "The rules"). A module of one service may
 * import another service only through that service's surface below; the process entry (`services/*.ts`) is
 * held to the same surface; `shared/` imports no service at all (the test helpers that start the platform
 * excepted). Tests and their helpers may also use another service's `testing/` folder.
 *
 * Each file is read with the TypeScript compiler's own import scanner (static, dynamic and type-only imports
 * and re-exports), so a new import of another service's internals fails here, naming the file, the import and
 * the surface it may use instead.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import ts from "typescript"
import { describe, expect, it } from "vitest"
import { projectRoot } from "../shared/runtime/Process.js"
import { type ServiceName, ServiceNames } from "../shared/ServiceCatalog.js"

/**
 * What each service offers other services, one file each:
 * - `Api.ts`: the contract (HttpApi groups, request/response schemas, typed errors);
 * - `Client.ts`: a typed client of that contract, in-process or HTTP behind one switch;
 * - `Port.ts`: what another process's code may call in-process (the orchestrator's jobs, the gateway's passport
 *   proofs, the groups the gateway serves for a service whose own server would load its workers);
 * - `Http.ts`: the service's handlers and server, for the process entry and for the gateway, which serves
 *   identity's, policy's, knowledge's and compliance's public groups in-process;
 * - `Keys.ts`: the Redis keys a service owns that others bump to invalidate its caches.
 * identity's `Authenticate.ts` (`requireRole`: what a signed-in caller's role allows) and `Handlers.ts`
 * (its groups' handlers, which the gateway serves) are on its surface too.
 */
const Surface: Readonly<Record<ServiceName, ReadonlyArray<string>>> = {
  gateway: ["Api.ts", "Http.ts"],
  brain: ["Api.ts", "Client.ts", "Http.ts"],
  policy: ["Api.ts", "Client.ts", "Port.ts", "Http.ts", "Keys.ts"],
  identity: ["Api.ts", "Port.ts", "Http.ts", "Authenticate.ts", "Handlers.ts"],
  knowledge: ["Api.ts", "Client.ts", "Http.ts", "Keys.ts"],
  compliance: ["Api.ts", "Port.ts", "Http.ts"],
  chain: ["Api.ts", "Port.ts", "Http.ts"],
  agentic: ["Api.ts", "Http.ts"],
  orchestrator: ["Api.ts", "Port.ts", "Http.ts"],
  console: ["Api.ts", "Http.ts"]
}

const root = projectRoot()

const sourceFiles = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return name === "node_modules" ? [] : sourceFiles(path)
    return /\.tsx?$/.test(name) && !name.endsWith(".d.ts") ? [path] : []
  })

/** the relative module specifiers a file imports or re-exports, as the compiler reads them */
const importsOf = (source: string): ReadonlyArray<string> =>
  ts
    .preProcessFile(source, true, true)
    .importedFiles.map((f) => f.fileName)
    .filter((s) => s.startsWith("."))

/** `services/<name>/<rest>` → the service and the path inside it; anything else → undefined */
const serviceOf = (path: string): { readonly service: ServiceName; readonly inside: string } | undefined => {
  const m = /^services\/([^/]+)\/(.+)$/.exec(path)
  const name = m?.[1]
  return m !== null && name !== undefined && (ServiceNames as ReadonlyArray<string>).includes(name)
    ? { service: name as ServiceName, inside: m[2] ?? "" }
    : undefined
}

const isTestCode = (path: string) => /\.(test|itest)\.tsx?$/.test(path) || path.split("/").includes("testing")

/** Every import from one service (or the entry, or shared/) into another service's internals, as one line each. */
const violations = (files: ReadonlyArray<{ readonly path: string; readonly source: string }>) =>
  files.flatMap(({ path, source }) => {
    const from = serviceOf(path)
    const inShared = path.startsWith("shared/")
    return importsOf(source).flatMap((specifier) => {
      const target = relative(root, resolve(root, dirname(path), specifier)).replace(/\.js$/, ".ts")
      const to = serviceOf(target) ?? serviceOf(target.replace(/\.ts$/, ".tsx"))
      if (to === undefined || to.service === from?.service) return []
      if (inShared) {
        return path.startsWith("shared/testing/") ? [] : [`${path}: imports ${specifier} (shared/ imports no service)`]
      }
      if (Surface[to.service].includes(to.inside)) return []
      if (to.inside.startsWith("testing/") && isTestCode(path)) return []
      return [
        `${path}: imports ${specifier}, an internal of ${to.service} (its surface: ${Surface[to.service].join(", ")}${
          isTestCode(path) ? ", testing/" : ""
        })`
      ]
    })
  })

const repositoryFiles = () =>
  [...sourceFiles(join(root, "services")), ...sourceFiles(join(root, "shared"))].map((file) => ({
    path: relative(root, file),
    source: readFileSync(file, "utf8")
  }))

describe("service boundaries", () => {
  it("no service imports another service's internals", () => {
    expect(violations(repositoryFiles())).toEqual([])
  })

  it("every surface file exists", () => {
    const missing = ServiceNames.flatMap((s) =>
      Surface[s].filter((f) => !existsSync(join(root, "services", s, f))).map((f) => `services/${s}/${f}`)
    )
    expect(missing).toEqual([])
  })

  it("fails on an import of another service's internals, and on shared/ importing a service", () => {
    const planted = [
      { path: "services/orchestrator/Tasks.ts", source: `import { AuditLog } from "../compliance/AuditLog.js"\n` },
      { path: "services/gateway/Scans.ts", source: `export { policyVersion } from "../policy/Rules.js"\n` },
      { path: "services/agentic/Consumer.ts", source: `const m = await import("../chain/Anchoring.js")\n` },
      { path: "shared/http/Server.ts", source: `import type { GatewayApi } from "../../services/gateway/Api.js"\n` },
      { path: "services/policy/Policy.ts", source: `import { mayRead } from "../knowledge/testing/Seed.js"\n` }
    ]
    expect(violations(planted)).toEqual([
      "services/orchestrator/Tasks.ts: imports ../compliance/AuditLog.js, an internal of compliance (its surface: Api.ts, Port.ts, Http.ts)",
      "services/gateway/Scans.ts: imports ../policy/Rules.js, an internal of policy (its surface: Api.ts, Client.ts, Port.ts, Http.ts, Keys.ts)",
      "services/agentic/Consumer.ts: imports ../chain/Anchoring.js, an internal of chain (its surface: Api.ts, Port.ts, Http.ts)",
      "shared/http/Server.ts: imports ../../services/gateway/Api.js (shared/ imports no service)",
      "services/policy/Policy.ts: imports ../knowledge/testing/Seed.js, an internal of knowledge (its surface: Api.ts, Client.ts, Http.ts, Keys.ts)"
    ])
    // the surface itself, a service's own internals and a test's use of another service's testing/ pass
    expect(
      violations([
        { path: "services/orchestrator/Ports.ts", source: `import { ChainPort } from "../chain/Port.js"\n` },
        { path: "services/chain/Http.ts", source: `import { Anchoring } from "./Anchoring.js"\n` },
        { path: "services/gateway/X.itest.ts", source: `import { seed } from "../compliance/testing/AuditSeed.js"\n` }
      ])
    ).toEqual([])
  })
})
