/** A plain JSON object (not null, not an array): the one guard every module that reads untyped JSON uses. */
export const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)
