import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query"
import { useState } from "react"
import { get, qs, send } from "./api.js"
import { Card, Done, Empty, ErrorBox, Loading, PageHead, Pager, Query, Table, usePager, when } from "./ui.js"

interface Escalation {
  readonly id: string
  readonly kind: string
  readonly severity: string
  readonly subject: string
  readonly garmentId: string | null
  readonly status: string
  readonly createdAt: string
  readonly acknowledgedAt: string | null
  readonly note: string | null
}

const Acknowledge = ({ id }: { readonly id: string }) => {
  const client = useQueryClient()
  const [note, setNote] = useState("")
  const ack = useMutation({
    mutationFn: () => send("POST", `/v1/escalations/${id}/acknowledge`, { note }),
    onSuccess: () => client.invalidateQueries()
  })
  return (
    <form
      className="row"
      onSubmit={(e) => {
        e.preventDefault()
        ack.mutate()
      }}
    >
      <label>
        Note
        <input value={note} onChange={(e) => setNote(e.target.value)} placeholder="what you checked" />
      </label>
      <button type="submit" disabled={ack.isPending}>
        Acknowledge
      </button>
      <ErrorBox error={ack.error} />
    </form>
  )
}

export const EscalationsPage = ({ canAcknowledge }: { readonly canAcknowledge: boolean }) => {
  const [status, setStatus] = useState("open")
  const pager = usePager()
  const path = `/v1/escalations${qs({ status, cursor: pager.cursor, limit: 20 })}`
  const q = useQuery({
    queryKey: [path],
    queryFn: () => get<{ escalations: ReadonlyArray<Escalation>; nextCursor: string | null }>(path)
  })
  return (
    <>
      <PageHead
        title="Escalations"
        lead="Suspected clones and other alerts about your garments. Acknowledge each with what you found."
      />
      <Card>
        <label>
          Status
          <select
            value={status}
            onChange={(e) => {
              setStatus(e.target.value)
              pager.reset()
            }}
          >
            <option value="open">open</option>
            <option value="acknowledged">acknowledged</option>
            <option value="">all</option>
          </select>
        </label>
        {q.isPending ? (
          <Loading what="escalations" />
        ) : q.isError ? (
          <ErrorBox error={q.error} />
        ) : q.data.escalations.length === 0 ? (
          <Empty>No escalations here.</Empty>
        ) : (
          <>
            <Table caption="Escalations, newest first" head={["Opened", "Kind", "Severity", "Garment", "Status"]}>
              {q.data.escalations.map((e) => (
                <tr key={e.id}>
                  <td>{when(e.createdAt)}</td>
                  <td>{e.kind}</td>
                  <td>
                    <span className={e.severity === "critical" ? "badge bad" : "badge warn"}>{e.severity}</span>
                  </td>
                  <td>{e.garmentId === null ? "—" : <a href={`#/garments/${e.garmentId}`}>open garment</a>}</td>
                  <td>
                    {e.status === "open" && canAcknowledge ? (
                      <Acknowledge id={e.id} />
                    ) : (
                      <>
                        <span className="badge">{e.status}</span> {e.note === null ? null : <span>“{e.note}”</span>}
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </Table>
            <Pager pager={pager} nextCursor={q.data.nextCursor} />
          </>
        )}
      </Card>
    </>
  )
}

interface Subscription {
  readonly id: string
  readonly url: string
  readonly events: ReadonlyArray<string>
  readonly enabled: boolean
  readonly createdAt: string
}
const EVENTS = ["scan.authenticity_check", "scan.ownership_transfer", "scan.public_view", "scan.owner_view"]

const Deliveries = ({ id }: { readonly id: string }) => (
  <Query<{
    deliveries: ReadonlyArray<{
      id: string
      event: string
      status: number
      ok: boolean
      attempt: number
      createdAt: string
      error: string | null
    }>
  }>
    path={`/v1/webhooks/${id}/deliveries`}
    what="deliveries"
  >
    {(d) =>
      d.deliveries.length === 0 ? (
        <Empty>No deliveries yet.</Empty>
      ) : (
        <Table caption="Latest delivery attempts" head={["When", "Event", "Attempt", "Answer"]}>
          {d.deliveries.map((x) => (
            <tr key={x.id}>
              <td>{when(x.createdAt)}</td>
              <td>{x.event}</td>
              <td>{x.attempt}</td>
              <td>
                <span className={x.ok ? "badge ok" : "badge bad"}>{x.status === 0 ? "no answer" : x.status}</span>{" "}
                {x.error}
              </td>
            </tr>
          ))}
        </Table>
      )
    }
  </Query>
)

const SubscriptionRow = ({ s }: { readonly s: Subscription }) => {
  const client = useQueryClient()
  const [open, setOpen] = useState(false)
  const refresh = () => client.invalidateQueries()
  const rotate = useMutation({ mutationFn: () => send<{ secret: string }>("POST", `/v1/webhooks/${s.id}/rotate`) })
  const toggle = useMutation({
    mutationFn: () => send("PATCH", `/v1/webhooks/${s.id}`, { enabled: !s.enabled }),
    onSuccess: refresh
  })
  const remove = useMutation({ mutationFn: () => send("DELETE", `/v1/webhooks/${s.id}`), onSuccess: refresh })
  return (
    <Card title={s.url}>
      <p>
        <span className={s.enabled ? "badge ok" : "badge"}>{s.enabled ? "enabled" : "disabled"}</span>{" "}
        <span className="muted">{s.events.join(", ")}</span>
      </p>
      <div className="row">
        <button type="button" className="secondary" onClick={() => rotate.mutate()} disabled={rotate.isPending}>
          Rotate secret
        </button>
        <button type="button" className="secondary" onClick={() => toggle.mutate()} disabled={toggle.isPending}>
          {s.enabled ? "Disable" : "Enable"}
        </button>
        <button type="button" className="secondary" onClick={() => setOpen(!open)} aria-expanded={open}>
          {open ? "Hide deliveries" : "Show deliveries"}
        </button>
        <button type="button" className="danger" onClick={() => remove.mutate()} disabled={remove.isPending}>
          Delete
        </button>
      </div>
      <ErrorBox error={rotate.error ?? toggle.error ?? remove.error} />
      {rotate.data === undefined ? null : (
        <Done>
          New signing secret (shown once): <span className="mono">{rotate.data.secret}</span>
        </Done>
      )}
      {open ? <Deliveries id={s.id} /> : null}
    </Card>
  )
}

export const WebhooksPage = () => {
  const client = useQueryClient()
  const [url, setUrl] = useState("")
  const [events, setEvents] = useState<ReadonlyArray<string>>(["scan.authenticity_check"])
  const create = useMutation({
    mutationFn: () => send<{ secret: string }>("POST", "/v1/webhooks", { url, events }),
    onSuccess: () => client.invalidateQueries()
  })
  return (
    <>
      <PageHead
        title="Webhooks"
        lead="Scan events delivered to your systems, signed with HMAC-SHA256 (X-Brandme-Signature)."
      />
      <Card title="New subscription">
        <form
          onSubmit={(e) => {
            e.preventDefault()
            create.mutate()
          }}
        >
          <label>
            Endpoint URL
            <input
              type="url"
              value={url}
              onChange={(e) => setUrl(e.target.value)}
              placeholder="https://example.com/hooks/brandme"
              required
            />
          </label>
          <fieldset className="row" style={{ border: 0, padding: 0, margin: ".6rem 0" }}>
            <legend className="muted">Events</legend>
            {EVENTS.map((ev) => (
              <label key={ev} style={{ flexDirection: "row", alignItems: "center" }}>
                <input
                  type="checkbox"
                  checked={events.includes(ev)}
                  onChange={(e) => setEvents(e.target.checked ? [...events, ev] : events.filter((x) => x !== ev))}
                />
                {ev}
              </label>
            ))}
          </fieldset>
          <button type="submit" disabled={create.isPending}>
            Subscribe
          </button>
        </form>
        <ErrorBox error={create.error} />
        {create.data === undefined ? null : (
          <Done>
            Subscribed. Signing secret (shown once): <span className="mono">{create.data.secret}</span>
          </Done>
        )}
      </Card>
      <Query<{ subscriptions: ReadonlyArray<Subscription> }> path="/v1/webhooks" what="subscriptions">
        {(d) =>
          d.subscriptions.length === 0 ? (
            <Empty>No subscriptions yet.</Empty>
          ) : (
            <>
              {d.subscriptions.map((s) => (
                <SubscriptionRow key={s.id} s={s} />
              ))}
            </>
          )
        }
      </Query>
    </>
  )
}
