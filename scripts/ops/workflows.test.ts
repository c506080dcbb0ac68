import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { defaultTarget, readDockerfile } from "./Dockerfile.js"

interface Step {
  readonly name?: string
  readonly uses?: string
  readonly run?: string
  readonly with?: Record<string, unknown>
  readonly env?: Record<string, string>
}
interface Job {
  readonly needs?: string | ReadonlyArray<string>
  readonly services?: Record<string, { readonly image: string }>
  readonly strategy?: { readonly matrix: Record<string, unknown> }
  readonly steps: ReadonlyArray<Step>
}
const workflow = (file: string) =>
  parse(readFileSync(`.github/workflows/${file}`, "utf8")) as { on: unknown; jobs: Record<string, Job> }

/** A GitHub expression `${{ e }}`, spelled without a plain-string placeholder. */
const gh = (e: string) => `\${{ ${e} }}`

const uses = (job: Job, action: string) => job.steps.find((s) => s.uses?.startsWith(`${action}@`))
const runs = (job: Job, command: string) => job.steps.some((s) => s.run?.includes(command))

describe("ci.yml", () => {
  const ci = workflow("ci.yml")
  const test = ci.jobs.test!

  it("tests on the Node of .nvmrc (the image's) against Postgres 15, Redis 7 and NATS with JetStream", () => {
    expect(test.strategy).toBeUndefined()
    expect(uses(test, "actions/checkout")).toBeDefined()
    expect(uses(test, "actions/setup-node")?.with).toMatchObject({ "node-version-file": ".nvmrc" })
    expect(test.services?.postgres?.image).toBe("postgres:15")
    expect(test.services?.redis?.image).toBe("redis:7")
    expect(test.steps.some((s) => s.run?.includes("nats") && s.run.includes("-js"))).toBe(true)
  })

  it("installs promtool, then runs npm ci and npm test in that order", () => {
    const idx = (command: string) => test.steps.findIndex((s) => s.run?.includes(command))
    expect(runs(test, "apt-get install -y --no-install-recommends prometheus")).toBe(true)
    expect(idx("npm ci")).toBeGreaterThan(idx("apt-get install"))
    expect(idx("npm test")).toBeGreaterThan(idx("npm ci"))
  })
})

describe("deploy.yml", () => {
  const deploy = workflow("deploy.yml")

  it("builds and pushes the one image (the Dockerfile's default target, runtime) the stacks run", () => {
    const images = deploy.jobs.images!
    const build = uses(images, "docker/build-push-action")
    expect(build?.with).toMatchObject({ push: true })
    // no target: the default (last) stage is the runtime (scripts/ops/Dockerfile.test.ts)
    expect(build?.with?.target).toBeUndefined()
    expect(defaultTarget(readDockerfile()).stage.name).toBe("runtime")
    expect(String(build?.with?.tags)).toContain(`/brandme:${gh("github.sha")}`)
    expect(runs(images, "gcloud auth configure-docker")).toBe(true)
  })

  it("runs pulumi up per stack after the images, then the smoke test", () => {
    const pulumi = deploy.jobs.pulumi!
    expect(pulumi.needs).toBe("images")
    expect(uses(pulumi, "actions/setup-node")?.with).toMatchObject({ "node-version-file": ".nvmrc" })
    const stacks = ((pulumi.strategy?.matrix.include ?? []) as ReadonlyArray<{ stack: string }>).map((i) => i.stack)
    expect(stacks).toEqual(["staging", "prod"])
    const up = uses(pulumi, "pulumi/actions")
    expect(up?.with).toMatchObject({ command: "up", "stack-name": gh("matrix.stack") })
    const upAt = pulumi.steps.indexOf(up!)
    const smokeAt = pulumi.steps.findIndex((s) => s.run === "npm run smoke")
    expect(smokeAt).toBeGreaterThan(upAt)
  })
})
