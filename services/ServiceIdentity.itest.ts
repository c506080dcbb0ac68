import { Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ServiceTokenHeader, signServiceToken } from "../shared/auth/ServiceTokens.js"
import { OpenPaths } from "../shared/ServiceCatalog.js"
import { demoGarments } from "../scripts/DemoData.js"
import { startTestPlatform, type TestPlatform } from "../shared/testing/TestPlatform.js"
import { issueTestToken, serviceToken } from "../shared/testing/TestTokens.js"
import { seedAuditLog } from "./compliance/testing/AuditSeed.js"

/**
 * Security review finding 4 (docs/security.md): the internal endpoints and the public groups on the service
 * ports answer only a service token of a declared caller. The review's exact requests are the first cases:
 * before the fix each returned its data (the owner's name and ids) to anyone who could reach the port.
 */
let platform: TestPlatform
let garmentId = ""

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body)
  })
const as = async (
  caller: "gateway" | "console" | "brain",
  callee: "knowledge" | "policy" | "brain" | "compliance"
) => ({
  [ServiceTokenHeader]: await serviceToken(platform.config, caller, callee)
})
const key = () => Redacted.value(platform.config.auth.serviceTokenKey)
const nowSeconds = () => Math.floor(Date.now() / 1000)
const viewBody = () => ({ garmentId, allowed: ["owner_identity", "ownership_history"] })
const owned = demoGarments[0]!
const resolveBody = { ref: { _tag: "DigitalLink", gtin: owned.gtin, serial: owned.serial, batch: null } }

beforeAll(async () => {
  platform = await startTestPlatform({
    label: "svcid",
    services: ["policy", "knowledge", "compliance", "console"],
    demoData: true
  })
  await seedAuditLog(platform.config, [4], [9])
  // a genuine caller (the gateway) resolves the demo garment the owner holds
  const res = await post(
    `${platform.url("knowledge")}/internal/garments/resolve`,
    resolveBody,
    await as("gateway", "knowledge")
  )
  expect(res.status).toBe(200)
  garmentId = ((await res.json()) as { id: string }).id
}, 120_000)
afterAll(() => platform?.close())

describe("finding 4: service ports answer only their declared callers", () => {
  it("the review's requests, with no credentials → 401 and no owner data", async () => {
    const view = await post(`${platform.url("knowledge")}/internal/garments/view`, viewBody())
    expect(view.status).toBe(401)
    const text = await view.text()
    expect(text).not.toContain("Olivia")
    expect(text).not.toContain("userId")
    expect(JSON.parse(text)).toMatchObject({
      error: "Unauthorized",
      message: "this port answers Brand.Me services only: send a service token in the x-service-token header"
    })
    const decision = await post(`${platform.url("policy")}/internal/decisions`, {
      garmentId,
      ownerUserId: null,
      role: "public",
      relation: "none",
      intent: "public_view",
      scannerRegion: null,
      claimedRegion: null
    })
    expect(decision.status).toBe(401)
    const resolve = await post(`${platform.url("knowledge")}/internal/garments/resolve`, resolveBody)
    expect(resolve.status).toBe(401)
    expect(await resolve.text()).not.toContain(garmentId)
  })

  it("a genuine caller's call works: the gateway reads the owner's identity it was allowed", async () => {
    const view = await post(
      `${platform.url("knowledge")}/internal/garments/view`,
      viewBody(),
      await as("gateway", "knowledge")
    )
    expect(view.status).toBe(200)
    const body = (await view.json()) as { owner_identity?: { displayName: string | null } }
    expect(body.owner_identity?.displayName).toBe("Olivia Owner")
  })

  it("the batch endpoint is the same door: refused without a token or for a non-caller, answered for the gateway", async () => {
    const batch = {
      calls: [
        { op: "view", payload: viewBody() },
        { op: "resolve", payload: resolveBody }
      ]
    }
    const url = `${platform.url("knowledge")}/internal/batch`
    const anonymous = await post(url, batch)
    expect(anonymous.status).toBe(401)
    const text = await anonymous.text()
    expect(text).not.toContain("Olivia")
    expect(text).not.toContain(garmentId)
    expect((await post(url, batch, await as("brain", "knowledge"))).status).toBe(403)
    const genuine = await post(url, batch, await as("gateway", "knowledge"))
    expect(genuine.status).toBe(200)
    const body = (await genuine.json()) as {
      results: [
        { ok: true; value: { owner_identity?: { displayName: string | null } } },
        { ok: true; value: { id: string } }
      ]
    }
    expect(body.results[0].value.owner_identity?.displayName).toBe("Olivia Owner")
    expect(body.results[1].value.id).toBe(garmentId)
  })

  it("a malformed batch from a genuine caller is a 400 that names the problem, with a request id", async () => {
    const url = `${platform.url("policy")}/internal/batch`
    const token = await as("gateway", "policy")
    const empty = await post(url, { calls: [] }, token)
    expect(empty.status).toBe(400)
    expect(empty.headers.get("x-request-id")).toBeTruthy()
    const body = (await empty.json()) as { error: string; message: string }
    expect(body.error).toBe("ValidationError")
    expect(body.message).toMatch(/calls/)
    const missing = await post(url, { call: [] }, token)
    expect(missing.status).toBe(400)
    expect(((await missing.json()) as { message: string }).message).toMatch(/calls.*is missing/)
    const notJson = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...token },
      body: "{not json"
    })
    expect(notJson.status).toBe(400)
  })
  it("a token minted for a service that is not a declared caller → 403", async () => {
    const view = await post(
      `${platform.url("knowledge")}/internal/garments/view`,
      viewBody(),
      await as("brain", "knowledge")
    )
    expect(view.status).toBe(403)
    expect(await view.json()).toMatchObject({
      error: "Forbidden",
      message: "brain is not a caller of knowledge (its callers: gateway)"
    })
  })

  it("a token for another audience → 403", async () => {
    const view = await post(
      `${platform.url("knowledge")}/internal/garments/view`,
      viewBody(),
      await as("gateway", "policy")
    )
    expect(view.status).toBe(403)
    expect(await view.json()).toMatchObject({ message: "the service token is for policy, not knowledge" })
  })

  it("an expired token → 401; one signed with another key → 401", async () => {
    const expired = await signServiceToken(key(), {
      caller: "gateway",
      callee: "knowledge",
      issuedAt: nowSeconds() - 300,
      ttlSeconds: 60
    })
    const r = await post(`${platform.url("knowledge")}/internal/garments/view`, viewBody(), {
      [ServiceTokenHeader]: expired
    })
    expect(r.status).toBe(401)
    expect(await r.json()).toMatchObject({ message: "the service token has expired" })
    const forged = await signServiceToken("not-the-platform-key-0123456789abcdef", {
      caller: "gateway",
      callee: "knowledge",
      issuedAt: nowSeconds(),
      ttlSeconds: 60
    })
    const f = await post(`${platform.url("knowledge")}/internal/garments/view`, viewBody(), {
      [ServiceTokenHeader]: forged
    })
    expect(f.status).toBe(401)
  })

  it("public groups on a service port need a caller's token too, and the person's token is still checked", async () => {
    const owner = `Bearer ${await issueTestToken(platform.config, "owner")}`
    const consents = `${platform.url("policy")}/v1/consents`
    // a person's token alone does not open a service port
    expect((await fetch(consents, { headers: { authorization: owner } })).status).toBe(401)
    // the gateway's token without a person's: the route's own check answers
    const anonymous = await fetch(consents, { headers: await as("gateway", "policy") })
    expect(anonymous.status).toBe(401)
    expect(((await anonymous.json()) as { message: string }).message).not.toContain("service token")
    // both: as before the fix
    expect(
      (await fetch(consents, { headers: { authorization: owner, ...(await as("gateway", "policy")) } })).status
    ).toBe(200)
  })

  it("the console's auditor proxy carries its service token and the auditor's own token to compliance", async () => {
    const auditor = `Bearer ${await issueTestToken(platform.config, "auditor")}`
    const direct = await fetch(`${platform.url("compliance")}/v1/audit/checkpoint`, {
      headers: { authorization: auditor }
    })
    expect(direct.status).toBe(401)
    const proxied = await fetch(`${platform.url("console")}/v1/audit/checkpoint`, {
      headers: { authorization: auditor }
    })
    expect(proxied.status).toBe(200)
    expect(((await proxied.json()) as { treeSize: number }).treeSize).toBe(4)
    // the console's token does not stand in for the person's: an owner is still refused by compliance's role check
    const owner = `Bearer ${await issueTestToken(platform.config, "owner")}`
    expect(
      (await fetch(`${platform.url("console")}/v1/audit/checkpoint`, { headers: { authorization: owner } })).status
    ).toBe(403)
  })

  it("probes stay open on every service port, scrapes on every metrics port", async () => {
    for (const service of ["policy", "knowledge", "compliance"] as const) {
      for (const path of OpenPaths) {
        const r = await fetch(`${platform.url(service)}${path}`)
        expect([200, 503], `${service}${path}`).toContain(r.status)
      }
      expect((await fetch(platform.metricsUrl(service))).status, `${service} metrics`).toBe(200)
    }
  })
})
