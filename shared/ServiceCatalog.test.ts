import { describe, expect, it } from "vitest"
import { callersOf, callUrlVariable, ServiceNames, Services, secretsOf, settingsOf } from "./ServiceCatalog.js"

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
    // brain is a rule table: no dependency, so no connection secret
    expect(secretsOf("brain")).toEqual([])
    expect(secretsOf("policy")).toEqual(expect.arrayContaining(["DATABASE_URL", "REDIS_URL", "JWT_PUBLIC_KEY"]))
    expect(secretsOf("migrate")).toEqual(["DATABASE_URL"])
    expect(secretsOf("orchestrator")).toContain("WEBHOOK_SIGNING_SECRET")
    expect(settingsOf("gateway").has("BRAIN_URL")).toBe(true)
    expect(settingsOf("console").has("CHAIN_PROVIDER")).toBe(false)
    expect(settingsOf("chain").has("CHAIN_PROVIDER")).toBe(true)
    // no service calls itself
    for (const n of ServiceNames) expect(Services[n].calls).not.toContain(n)
  })
})
