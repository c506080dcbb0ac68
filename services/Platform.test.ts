import { Effect, Either } from "effect"
import { describe, expect, it } from "vitest"
import { ServiceNames, Services } from "../shared/ServiceCatalog.js"
import { parseServiceSelection } from "./Platform.js"

describe("service selection", () => {
  it("all, one, or a list", () => {
    expect(Effect.runSync(parseServiceSelection("all"))).toEqual(ServiceNames)
    expect(Effect.runSync(parseServiceSelection("gateway"))).toEqual(["gateway"])
    expect(Effect.runSync(parseServiceSelection("gateway, policy"))).toEqual(["gateway", "policy"])
  })

  it("refuses unknown names, naming the valid ones", () => {
    const r = Effect.runSync(Effect.either(parseServiceSelection("gateway,nope")))
    expect(Either.isLeft(r) && r.left.message).toContain("gateway, brain, policy")
    expect(Either.isLeft(Effect.runSync(Effect.either(parseServiceSelection(""))))).toBe(true)
  })

  it("the guide's ports, and no two services share one", () => {
    expect(Services.gateway.port).toBe(3000)
    expect(Services.console.port).toBe(3002)
    expect([Services.identity.port, Services.knowledge.port, Services.compliance.port]).toEqual([8100, 8101, 8102])
    expect(Services.agentic.port).toBe(8200)
    const ports = ServiceNames.map((n) => Services[n].port)
    expect(new Set(ports).size).toBe(ports.length)
  })
})
