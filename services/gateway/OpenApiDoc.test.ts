import { readFileSync } from "node:fs"
import { join } from "node:path"
import SwaggerParser from "@apidevtools/swagger-parser"
import { describe, expect, it } from "vitest"
import { HealthPaths } from "../../shared/ServiceCatalog.js"
import { PublicPaths } from "../../stacks/components/Ingress.js"
import { type OpenApiDocName, OpenApiDocs, renderOpenApi } from "./OpenApiDoc.js"

const dir = join(import.meta.dirname, "..", "..", "docs", "openapi")
const names = Object.keys(OpenApiDocs) as Array<OpenApiDocName>

describe("committed OpenAPI documents", () => {
  it.each(names)("docs/openapi/%s.json is up to date (run npm run gen:openapi)", (name) => {
    expect(readFileSync(join(dir, `${name}.json`), "utf8")).toBe(renderOpenApi(name))
  })

  it.each(names)("%s is a valid OpenAPI document", async (name) => {
    await expect(SwaggerParser.validate(JSON.parse(renderOpenApi(name)))).resolves.toBeDefined()
  })

  it("documents the scan endpoint with its errors", () => {
    const doc = JSON.parse(renderOpenApi("gateway"))
    const op = doc.paths["/v1/scans"].post
    expect(Object.keys(op.responses).sort()).toEqual(
      expect.arrayContaining(["200", "401", "403", "404", "409", "422", "502", "503"])
    )
  })

  it("the public host documents consents and garments too (mounted from policy and knowledge)", () => {
    const doc = JSON.parse(renderOpenApi("gateway"))
    expect(Object.keys(doc.paths["/v1/consents"]).sort()).toEqual(["get", "post"])
    expect(Object.keys(doc.paths["/v1/garments"]).sort()).toEqual(["get", "post"])
    expect(Object.keys(doc.paths["/v1/garments/{id}"]).sort()).toEqual(["get", "patch"])
    expect(Object.keys(doc.paths["/v1/garments/import"])).toEqual(["post"])
  })

  it("the public host documents the console's API (directory, inbox, escalations, webhooks, ops)", () => {
    const doc = JSON.parse(renderOpenApi("gateway"))
    for (const path of [
      "/v1/me",
      "/v1/brands",
      "/v1/brands/{id}/staff",
      "/v1/users/{id}/role",
      "/v1/me/notifications",
      "/v1/garments/{id}/scans/summary",
      "/v1/escalations/{id}/acknowledge",
      "/v1/webhooks/{id}/rotate",
      "/v1/ops/dead-letters/{id}/replay"
    ]) {
      expect(doc.paths[path], path).toBeDefined()
    }
  })
})

describe("what the ingress routes (security review finding 11)", () => {
  const routed = (path: string) =>
    PublicPaths.some((p) =>
      p.pathType === "Exact"
        ? path === p.path
        : p.pathType === "ImplementationSpecific"
          ? new RegExp(`^${p.path}`).test(path)
          : path === p.path || path.startsWith(`${p.path}/`)
    )

  it("every public route of the gateway is routed; /metrics and /health* are not", () => {
    const doc = JSON.parse(renderOpenApi("gateway")) as { paths: Record<string, unknown> }
    const paths = Object.keys(doc.paths)
    const operational = paths.filter(
      (p) => p === HealthPaths.metrics || p === HealthPaths.simple || p.startsWith("/health")
    )
    expect(operational.length).toBeGreaterThan(0)
    for (const p of operational) expect(routed(p), p).toBe(false)
    for (const p of paths.filter((x) => !operational.includes(x))) expect(routed(p), p).toBe(true)
    expect(routed("/docs") && routed("/openapi.json")).toBe(true)
  })

  it("routes the GS1 Digital Link resolver: uncompressed and compressed links, its description", () => {
    for (const p of [
      "/01/09506000134352",
      "/01/09506000134352/22/CPV/10/LOT/21/SER",
      "/.well-known/gs1resolver",
      "/AQnYUc1gmiCNV4JGQhcNT6K6c"
    ]) {
      expect(routed(p), p).toBe(true)
    }
    for (const p of ["/metrics", "/healthz", "/health", "/health/ready", "/favicon.ico", "/"])
      expect(routed(p), p).toBe(false)
  })
})
