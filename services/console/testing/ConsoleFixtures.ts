/**
 * Integration tests only: the people of the console's tests, signed in for real through the gateway
 * (demo owner, brand, auditor and admin; a second owner who registers; a second brand created by the admin
 * with one staff member), and a little SQL for rows only workers write (escalations, notifications).
 */
import pg from "pg"
import { demoUsers } from "../../../scripts/DemoData.js"

export type Who = "anonymous" | "owner" | "otherOwner" | "brandA" | "brandB" | "auditor" | "admin"
export const everyone: ReadonlyArray<Who> = ["anonymous", "owner", "otherOwner", "brandA", "brandB", "auditor", "admin"]

export interface Answer {
  readonly status: number
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies of many shapes, read field by field in tests
  readonly body: any
}

export const call = async (
  base: string,
  method: string,
  path: string,
  token?: string,
  body?: unknown
): Promise<Answer> => {
  const headers: Record<string, string> = {}
  if (token !== undefined) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers["content-type"] = "application/json"
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {})
  })
  const text = await res.text()
  let parsed: unknown = text
  try {
    parsed = text === "" ? null : JSON.parse(text)
  } catch {
    parsed = text
  }
  return { status: res.status, body: parsed }
}

export const demo = (role: "owner" | "brand" | "auditor" | "admin") => {
  const u = demoUsers.find((d) => d.role === role)
  if (u === undefined) throw new TypeError(`no demo ${role}`)
  return u
}

const must = (what: string, a: Answer, status: number) => {
  if (a.status !== status) throw new Error(`${what}: HTTP ${a.status} ${JSON.stringify(a.body)}`)
  return a.body
}

export const signIn = async (base: string, email: string, password: string) =>
  String(
    must(`sign-in ${email}`, await call(base, "POST", "/v1/auth/login", undefined, { email, password }), 200).token
  )

export interface People {
  readonly tokens: Readonly<Record<Exclude<Who, "anonymous">, string>>
  readonly brandA: string
  readonly brandB: string
  readonly ownerId: string
}

// passwords the password policy accepts (no common words, runs or trivial patterns)
const STAFF_PASSWORD = "Vq7#tidal-Orchid-lantern"
const OWNER2_PASSWORD = "Mz4!copper-Heron-sable"

/**
 * Registers an owner through the public API and learns their id by signing in (self-registration answers
 * 202 without an id, the same whether or not the email was taken).
 */
export const registerOwner = async (base: string, email: string, password: string, displayName: string) => {
  must("register", await call(base, "POST", "/v1/users", undefined, { email, password, displayName }), 202)
  const token = await signIn(base, email, password)
  const me = must("me", await call(base, "GET", "/v1/me", token), 200)
  return { id: String(me.id), token }
}

/** Signs everyone in; creates brand B (with one staff member) and the second owner through the API. */
export const signInEveryone = async (base: string, suffix: string): Promise<People> => {
  const admin = await signIn(base, demo("admin").email, demo("admin").password)
  const brandA = await signIn(base, demo("brand").email, demo("brand").password)
  const owner = await signIn(base, demo("owner").email, demo("owner").password)
  const auditor = await signIn(base, demo("auditor").email, demo("auditor").password)
  const b = must(
    "create brand B",
    await call(base, "POST", "/v1/brands", admin, { slug: `other-${suffix}`, name: "Other Label" }),
    201
  )
  const staffEmail = `staff-${suffix}@other.example.com`
  must(
    "invite brand B staff",
    await call(base, "POST", `/v1/brands/${b.id}/staff`, admin, {
      email: staffEmail,
      displayName: "Sam Staff",
      password: STAFF_PASSWORD
    }),
    201
  )
  const otherEmail = `owner2-${suffix}@example.com`
  must(
    "register the second owner",
    await call(base, "POST", "/v1/users", undefined, {
      email: otherEmail,
      password: OWNER2_PASSWORD,
      displayName: "Oscar Other"
    }),
    // self-registration answers 202 whether or not the email was taken (no account enumeration)
    202
  )
  const me = must("me", await call(base, "GET", "/v1/me", brandA), 200)
  const ownerMe = must("owner me", await call(base, "GET", "/v1/me", owner), 200)
  return {
    tokens: {
      admin,
      brandA,
      owner,
      auditor,
      brandB: await signIn(base, staffEmail, STAFF_PASSWORD),
      otherOwner: await signIn(base, otherEmail, OWNER2_PASSWORD)
    },
    brandA: String(me.brandId),
    brandB: String(b.id),
    ownerId: String(ownerMe.id)
  }
}

/** One SQL statement on the test database. */
export const sql = async <R extends Record<string, unknown>>(
  url: string,
  text: string,
  params: ReadonlyArray<unknown> = []
): Promise<Array<R>> => {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    return (await c.query<R>(text, [...params])).rows
  } finally {
    await c.end()
  }
}

/** An open clone-detection escalation about a garment (what the agentic detector writes). */
export const openEscalation = async (url: string, garmentId: string, key: string) => {
  const [row] = await sql<{ id: string }>(
    url,
    `INSERT INTO escalations (kind, severity, subject, garment_id, details, dedupe_key)
     VALUES ('clone_suspected', 'critical', $1, $2, '{"regions":["FR","JP"],"windowSeconds":600}', $3)
     RETURNING id::text AS id`,
    [`garment:${garmentId}`, garmentId, key]
  )
  return row!.id
}
