import { isRecord } from "../../../shared/Guards.js"

/**
 * The app's only way to the platform: /api/* on the console (same origin), which adds the session's token.
 * Every failed answer becomes an ApiError whose message is the platform's readable `message`.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message)
  }
}

export const request = async (method: string, path: string, body?: unknown): Promise<unknown> => {
  const headers: Record<string, string> = { accept: "application/json" }
  if (method !== "GET") headers["x-brandme-console"] = "1"
  if (body !== undefined) headers["content-type"] = "application/json"
  let res: Response
  try {
    res = await fetch(`/api${path}`, {
      method,
      headers,
      credentials: "same-origin",
      ...(body !== undefined ? { body: JSON.stringify(body) } : {})
    })
  } catch {
    throw new ApiError(0, "the console could not be reached: check your connection and try again")
  }
  const text = await res.text()
  let json: unknown = null
  try {
    json = text === "" ? null : JSON.parse(text)
  } catch {
    json = null
  }
  if (!res.ok) {
    const message =
      isRecord(json) && typeof json.message === "string" && json.message !== ""
        ? json.message
        : `the request failed (HTTP ${res.status})`
    throw new ApiError(res.status, message)
  }
  return json
}

/** Reads a JSON answer as the shape the page expects (the platform's contract; see docs/openapi/gateway.json). */
export const get = <T>(path: string): Promise<T> => request("GET", path) as Promise<T>
export const send = <T>(method: string, path: string, body?: unknown): Promise<T> =>
  request(method, path, body) as Promise<T>

export const qs = (params: Record<string, string | number | undefined>) => {
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") p.set(k, String(v))
  const s = p.toString()
  return s === "" ? "" : `?${s}`
}

// the shapes the pages read ------------------------------------------------------------------------
export type Role = "owner" | "brand" | "auditor" | "admin"
export interface Account {
  readonly id: string
  readonly role: Role
  readonly brandId: string | null
  readonly email: string | null
  readonly displayName: string | null
  readonly createdAt: string
}
export interface Garment {
  readonly id: string
  readonly brandId: string
  readonly gtin: string
  readonly serial: string
  readonly batch: string | null
  readonly name: string
  readonly facets: Record<string, unknown>
  readonly ownerUserId: string | null
  readonly version: number
  readonly createdAt: string
  readonly updatedAt: string
}
