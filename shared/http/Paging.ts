import { ParseResult, Schema } from "effect"

/**
 * Keyset paging for the console's lists: a page is `{ items, nextCursor }`; `nextCursor` is an opaque
 * base64url token of the last row's sort key (`<ISO time>|<id>`), passed back as `?cursor=` to get the
 * rows after it. Stable under inserts (no OFFSET), and one index range scan per page.
 */
export interface CursorKey {
  readonly at: Date
  readonly id: string
}

export const encodeCursor = (k: CursorKey): string =>
  Buffer.from(`${k.at.toISOString()}|${k.id}`, "utf8").toString("base64url")

/** `?cursor=` — a token from a previous page's `nextCursor`. */
export const Cursor = Schema.transformOrFail(
  Schema.String.pipe(Schema.maxLength(200)),
  Schema.Struct({ at: Schema.DateFromSelf, id: Schema.String }),
  {
    strict: true,
    decode: (s, _, ast) => {
      const [at, id] = Buffer.from(s, "base64url").toString("utf8").split("|")
      const date = new Date(at ?? "")
      return at === undefined || id === undefined || id === "" || Number.isNaN(date.getTime())
        ? ParseResult.fail(new ParseResult.Type(ast, s, "is not a cursor from a previous page"))
        : ParseResult.succeed({ at: date, id })
    },
    encode: (k) => ParseResult.succeed(encodeCursor(k))
  }
).annotations({ description: "nextCursor of the previous page" })

/** `?limit=` — rows per page, 1..100 (default 25). */
export const PageLimit = Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 100))
export const DEFAULT_PAGE = 25

/** Given one row more than the page size was fetched: the page and the cursor after it. */
export const pageOf = <A>(
  rows: ReadonlyArray<A>,
  limit: number,
  key: (a: A) => CursorKey
): { readonly items: ReadonlyArray<A>; readonly nextCursor: string | null } => {
  const items = rows.slice(0, limit)
  const last = items[items.length - 1]
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(key(last)) : null }
}
