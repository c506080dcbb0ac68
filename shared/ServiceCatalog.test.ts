import { describe, expect, it } from "vitest"
import {
  callersOf,
  callUrlVariable,
  OpenPaths,
  PeopleFacing,
  requiresServiceToken,
  ServiceNames,
  Services,
  secretsOf,
  settingsOf
} from "./ServiceCatalog.js"

describe("the service catalog's wiring", () => {
  it("declares who calls whom; callersOf is its inverse", () => {
    expect(Services.gateway.calls.slice(0, 3)).toEqual(["brain", "policy", "knowledge"])
    expect(callersOf("brain")).toEqual(["gateway"])
    expect(callersOf("compliance")).toEqual(["gateway", "console"])
    for (const caller of ServiceNames)
      for (const callee of Services[caller].calls) expect(callersOf(callee)).toContain(caller)
    expect(callUrlVariable("compliance")).toBe("COMPLIANCE_URL")
  })

  it("derives each process's secrets and settings from its dependencies, calls and own lists", () => {
    // brain is a rule table: no dependency, so no connection secret; only the service token key
    expect(secretsOf("brain")).toEqual(["SERVICE_TOKEN_KEY"])
    expect(secretsOf("policy")).toEqual(expect.arrayContaining(["DATABASE_URL", "REDIS_URL", "JWT_PUBLIC_KEY"]))
    expect(secretsOf("migrate")).toEqual(["DATABASE_URL"])
    expect(secretsOf("orchestrator")).toContain("WEBHOOK_SIGNING_SECRET")
    expect(settingsOf("gateway").has("BRAIN_URL")).toBe(true)
    expect(settingsOf("console").has("CHAIN_PROVIDER")).toBe(false)
    expect(settingsOf("chain").has("CHAIN_PROVIDER")).toBe(true)
    // no service calls itself
    for (const n of ServiceNames) expect(Services[n].calls).not.toContain(n)
  })

  it("gives SERVICE_TOKEN_KEY to exactly the services that call or are called (finding 4)", () => {
    for (const n of ServiceNames) {
      const wired = Services[n].calls.length > 0 || callersOf(n).length > 0
      expect(Services[n].secrets.includes("SERVICE_TOKEN_KEY"), n).toBe(wired)
    }
    expect(secretsOf("migrate")).not.toContain("SERVICE_TOKEN_KEY")
  })

  it("requires service tokens on every port but the people-facing ones; probes stay open (metrics have their own port)", () => {
    expect(PeopleFacing).toEqual(["gateway", "console"])
    expect(ServiceNames.filter(requiresServiceToken)).toEqual([
      "brain",
      "policy",
      "identity",
      "knowledge",
      "compliance",
      "chain",
      "agentic",
      "orchestrator"
    ])
    // every service port that requires a token has a declared caller to send one
    for (const n of ServiceNames.filter(requiresServiceToken)) expect(callersOf(n).length, n).toBeGreaterThan(0)
    expect([...OpenPaths].sort()).toEqual(["/health", "/health/live", "/health/ready", "/health/startup", "/healthz"])
  })
})
