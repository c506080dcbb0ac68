import { useQuery } from "@tanstack/react-query"
import type { ReactNode } from "react"
import { useState } from "react"
import { ApiError, get } from "./api.js"

export const messageOf = (e: unknown): string =>
  e instanceof ApiError || e instanceof Error ? e.message : "something went wrong"

export const ErrorBox = ({ error }: { readonly error: unknown }) =>
  error === null || error === undefined ? null : (
    <div className="alert error" role="alert">
      {messageOf(error)}
    </div>
  )

export const Done = ({ children }: { readonly children: ReactNode }) => (
  <div className="alert ok" role="status">
    {children}
  </div>
)

export const Loading = ({ what }: { readonly what: string }) => (
  <p className="muted" role="status" aria-live="polite">
    Loading {what}…
  </p>
)

export const Empty = ({ children }: { readonly children: ReactNode }) => <p className="empty">{children}</p>

export const PageHead = ({ title, lead }: { readonly title: string; readonly lead?: string }) => (
  <>
    <h1>{title}</h1>
    {lead === undefined ? null : <p className="lead">{lead}</p>}
  </>
)

export const Card = ({ title, children }: { readonly title?: string; readonly children: ReactNode }) => (
  <section className="card" aria-label={title}>
    {title === undefined ? null : <h2>{title}</h2>}
    {children}
  </section>
)

/** A query's three states in one place: loading, a readable error, or the data. */
export const Query = <T,>({
  path,
  what,
  children
}: {
  readonly path: string
  readonly what: string
  readonly children: (data: T) => ReactNode
}) => {
  const q = useQuery({ queryKey: [path], queryFn: () => get<T>(path) })
  if (q.isPending) return <Loading what={what} />
  if (q.isError) return <ErrorBox error={q.error} />
  return <>{children(q.data)}</>
}

export const Table = ({
  caption,
  head,
  children
}: {
  readonly caption: string
  readonly head: ReadonlyArray<string>
  readonly children: ReactNode
}) => (
  // a table wider than a phone scrolls inside this region, which keyboard users can focus and scroll
  // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be focusable (WCAG 2.1.1)
  <section className="table" tabIndex={0} aria-label={caption}>
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          {head.map((h) => (
            <th key={h} scope="col">
              {h}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  </section>
)

export const when = (iso: string | null) => (iso === null ? "—" : new Date(iso).toLocaleString("en-GB"))

/** Cursor paging state: the cursors of the pages seen, so "previous" works too. */
export const usePager = () => {
  const [stack, setStack] = useState<ReadonlyArray<string>>([])
  const cursor = stack[stack.length - 1]
  return {
    cursor,
    page: stack.length + 1,
    next: (c: string) => setStack([...stack, c]),
    previous: () => setStack(stack.slice(0, -1)),
    reset: () => setStack([])
  }
}

export const Pager = ({
  pager,
  nextCursor
}: {
  readonly pager: ReturnType<typeof usePager>
  readonly nextCursor: string | null
}) => (
  <nav className="pager" aria-label="pages">
    <button type="button" className="secondary" disabled={pager.page === 1} onClick={pager.previous}>
      Previous
    </button>
    <span className="muted">Page {pager.page}</span>
    <button
      type="button"
      className="secondary"
      disabled={nextCursor === null}
      onClick={() => nextCursor !== null && pager.next(nextCursor)}
    >
      Next
    </button>
  </nav>
)
