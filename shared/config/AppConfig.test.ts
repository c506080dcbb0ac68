import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { testConfig } from "../testing/TestDatabase.js"
import { insecureSettings, processesOf } from "./AppConfig.js"
import { makeConfigProvider, parseEnvFile } from "./EnvFile.js"

const productionEnv = {
  APP_ENV: "production",
  JWT_PRIVATE_KEY: "pem-private",
  JWT_PUBLIC_KEY: "pem-public",
  AUDIT_SIGNING_KEY: "k1",
  PII_MASTER_KEY: "k2",
  CHAIN_SIGNING_KEY: "k3",
  WEBHOOK_SIGNING_SECRET: "k4",
  SERVICE_TOKEN_KEY: "k5",
  DATABASE_URL: "postgres://app:pw@db:5432/brandme",
  DATABASE_SSL: "verify-full",
  REDIS_URL: "rediss://:pw@cache:6379",
  REDIS_QUEUE_URL: "rediss://:pw@queue:6379",
  CHAIN_PROVIDER: "blockfrost",
  BLOCKFROST_PROJECT_ID: "mainnetXYZ"
}

describe("configuration", () => {
  it("development accepts its insecure defaults", () => {
    expect(insecureSettings(testConfig())).toEqual([])
  })

  it("production lists every insecure setting at once", () => {
    const problems = insecureSettings(testConfig({ APP_ENV: "production" }))
    const text = problems.join("\n")
    for (const name of [
      "JWT_PRIVATE_KEY",
      "JWT_PUBLIC_KEY",
      "AUDIT_SIGNING_KEY",
      "PII_MASTER_KEY",
      "CHAIN_SIGNING_KEY",
      "WEBHOOK_SIGNING_SECRET",
      "SERVICE_TOKEN_KEY",
      "DATABASE_SSL",
      "DATABASE_URL",
      "REDIS_URL",
      "CHAIN_PROVIDER"
    ]) {
      expect(text).toContain(name)
    }
  })

  it("production with real secrets and TLS everywhere starts", () => {
    expect(insecureSettings(testConfig(productionEnv))).toEqual([])
  })

  it("production cannot turn GDPR off; development may, and the privacy settings are validated", () => {
    const prod = productionEnv
    expect(insecureSettings(testConfig({ ...prod, GDPR_ENABLED: "false" }))).toEqual([
      "GDPR_ENABLED=false: production cannot turn GDPR off"
    ])
    expect(insecureSettings(testConfig({ ...prod, CCPA_ENABLED: "false" }))).toEqual([])
    expect(insecureSettings(testConfig({ GDPR_ENABLED: "false" }))).toEqual([])
    const d = testConfig().privacy
    expect([d.gdprEnabled, d.ccpaEnabled, d.unknownRegionRegime, d.geoRegionHeader]).toEqual([
      true,
      true,
      "gdpr",
      "x-client-region"
    ])
    expect(testConfig({ GEO_REGION_HEADER: "X-Goog-Client-Region" }).privacy.geoRegionHeader).toBe(
      "x-goog-client-region"
    )
    expect(() => testConfig({ GEO_REGION_HEADER: "bad header" })).toThrow(/GEO_REGION_HEADER/)
    expect(() => testConfig({ UNKNOWN_REGION_REGIME: "lax" })).toThrow(/UNKNOWN_REGION_REGIME/)
  })

  it("holds each service only to what it reads, and names a missing secret with its readers", () => {
    const safe = {
      APP_ENV: "production",
      DATABASE_URL: "postgres://app:pw@db:5432/brandme",
      DATABASE_SSL: "verify-full",
      REDIS_URL: "rediss://:pw@cache:6379",
      CHAIN_PROVIDER: "blockfrost",
      SERVICE_TOKEN_KEY: "k5"
    }
    // brain reads one secret, the service token key: the development keys it never uses do not stop it
    expect(insecureSettings(testConfig(safe), ["brain"])).toEqual([])
    const { SERVICE_TOKEN_KEY: _key, ...noServiceKey } = safe
    expect(insecureSettings(testConfig(noServiceKey), ["brain", "console"])).toEqual([
      "SERVICE_TOKEN_KEY is not set (needed by brain, console)"
    ])
    // the console reads no chain setting: CHAIN_PROVIDER=local is not its problem
    expect(insecureSettings(testConfig({ ...safe, CHAIN_PROVIDER: "local" }), ["console"])).toEqual([])
    expect(insecureSettings(testConfig({ ...safe, CHAIN_PROVIDER: "local" }), ["chain"]).join("\n")).toContain(
      "CHAIN_PROVIDER=local"
    )
    expect(insecureSettings(testConfig(safe), ["compliance"])).toEqual([
      "JWT_PUBLIC_KEY is not set (needed by compliance)",
      "PII_MASTER_KEY is not set (needed by compliance)"
    ])
    expect(insecureSettings(testConfig({ ...safe, PII_MASTER_KEY: "k" }), ["gateway", "orchestrator"])).toContain(
      "WEBHOOK_SIGNING_SECRET is not set (needed by orchestrator)"
    )
    // the migration job reads the database settings only
    expect(insecureSettings(testConfig({ ...safe, DATABASE_SSL: "disable" }), ["migrate"])).toEqual([
      "DATABASE_SSL=disable: the database connection must use TLS"
    ])
    expect(processesOf("gateway, brain")).toEqual(["gateway", "brain"])
    expect(processesOf("all")).toHaveLength(10)
    expect(processesOf("migrate")).toEqual(["migrate"])
  })

  it("rejects a malformed value with the setting's name", () => {
    expect(() => testConfig({ DATABASE_POOL_MAX: "lots" })).toThrow(/DATABASE_POOL_MAX/)
    expect(() => testConfig({ REDIS_URL: "http://nope" })).toThrow(/REDIS_URL/)
    expect(() => testConfig({ CHAIN_PROVIDER: "solana" })).toThrow(/CHAIN_PROVIDER/)
  })

  it("NATS subject prefix: none by default (the platform subjects), dotted tokens, anything else named", () => {
    expect(testConfig().nats.subjectPrefix).toBe("")
    expect(testConfig({ NATS_SUBJECT_PREFIX: "t_run-1.bench" }).nats.subjectPrefix).toBe("t_run-1.bench")
    for (const bad of ["Upper", "a..b", "a.*", "a.>", "with space", ".lead", "x".repeat(65)]) {
      expect(() => testConfig({ NATS_SUBJECT_PREFIX: bad })).toThrow(/NATS_SUBJECT_PREFIX: .* is not a subject prefix/)
    }
  })

  it("rate limits: defaults, <requests>/<seconds>, overrides per subject, malformed values named", () => {
    const d = testConfig().rateLimits
    expect(d.perIp).toEqual({ limit: 300, windowSeconds: 60 })
    expect(d.perClient).toEqual({ limit: 120, windowSeconds: 60 })
    expect(d.overrides).toEqual({})
    const c = testConfig({
      RATE_LIMIT_PER_IP: "50/10",
      RATE_LIMIT_OVERRIDES: "ip:127.0.0.1=1000000/60, ip:::1=5/1,user:5f0c7c9e-0b8e-4c1a-9d3b-0a1b2c3d4e5f=600/60"
    }).rateLimits
    expect(c.perIp).toEqual({ limit: 50, windowSeconds: 10 })
    expect(c.overrides).toEqual({
      "ip:127.0.0.1": { limit: 1_000_000, windowSeconds: 60 },
      "ip:::1": { limit: 5, windowSeconds: 1 },
      "user:5f0c7c9e-0b8e-4c1a-9d3b-0a1b2c3d4e5f": { limit: 600, windowSeconds: 60 }
    })
    expect(() => testConfig({ RATE_LIMIT_PER_CLIENT: "lots" })).toThrow(/RATE_LIMIT_PER_CLIENT/)
    expect(() => testConfig({ RATE_LIMIT_PER_IP: "0/60" })).toThrow(/RATE_LIMIT_PER_IP/)
    expect(() => testConfig({ RATE_LIMIT_OVERRIDES: "host:x=1/1" })).toThrow(/RATE_LIMIT_OVERRIDES/)
    expect(() => testConfig({ RATE_LIMIT_OVERRIDES: "ip:1.2.3.4=fast" })).toThrow(/RATE_LIMIT_OVERRIDES/)
    expect(testConfig().http.trustedProxyHops).toBe(0)
    expect(testConfig({ HTTP_TRUSTED_PROXY_HOPS: "0" }).http.trustedProxyHops).toBe(0)
    expect(() => testConfig({ HTTP_TRUSTED_PROXY_HOPS: "-1" })).toThrow(/HTTP_TRUSTED_PROXY_HOPS/)
  })

  it("parses env files strictly and lets real environment variables win", () => {
    const parsed = parseEnvFile("# comment\nA=1\nB='two words'\n\nC=\"x=y\"\n", "f")
    expect(Either.isRight(parsed) && Object.fromEntries(parsed.right)).toEqual({ A: "1", B: "two words", C: "x=y" })
    const bad = parseEnvFile("A=1\nthis is not a setting\n", ".env.x")
    expect(Either.isLeft(bad) && bad.left.line).toBe(2)
    const loaded = makeConfigProvider({ APP_ENV: "development", LOG_LEVEL: "warn" }, process.cwd())
    expect(Either.isRight(loaded)).toBe(true)
    const wrongEnv = makeConfigProvider({ APP_ENV: "prod" }, process.cwd())
    expect(Either.isLeft(wrongEnv) && wrongEnv.left.message).toContain("APP_ENV must be one of")
  })
})
