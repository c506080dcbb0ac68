import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query"
import { useState } from "react"
import { type Garment, get, send } from "./api.js"
import { Card, Done, Empty, ErrorBox, Loading, PageHead, Query, Table, when } from "./ui.js"

const PURPOSES = [
  { id: "ownership_history", label: "Show the garment's ownership history to people who scan it" },
  { id: "owner_identity", label: "Show my name as the garment's owner" }
] as const

interface Consent {
  readonly id: string
  readonly garmentId: string | null
  readonly purpose: string
  readonly granted: boolean
  readonly createdAt: string
}

const MyGarments = () => (
  <Query<{ garments: ReadonlyArray<Garment> }> path="/v1/garments?limit=100" what="your garments">
    {(d) =>
      d.garments.length === 0 ? (
        <Empty>You do not own any garment yet: claim one with the code on its label.</Empty>
      ) : (
        <Table caption="Garments you own" head={["Name", "GTIN", "Serial"]}>
          {d.garments.map((g) => (
            <tr key={g.id}>
              <td>{g.name}</td>
              <td className="mono">{g.gtin}</td>
              <td className="mono">{g.serial}</td>
            </tr>
          ))}
        </Table>
      )
    }
  </Query>
)

export const OwnerGarmentsPage = () => {
  const client = useQueryClient()
  const [code, setCode] = useState("")
  const claim = useMutation({
    mutationFn: () => send<{ garmentId: string }>("POST", "/v1/claims", { code: code.trim() }),
    onSuccess: () => client.invalidateQueries()
  })
  return (
    <>
      <PageHead title="My garments" lead="Garments you own, and claiming a new one with the code on its label." />
      <Card title="Claim a garment">
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault()
            claim.mutate()
          }}
        >
          <label>
            Claim code
            <input value={code} onChange={(e) => setCode(e.target.value)} autoComplete="off" required />
          </label>
          <button type="submit" disabled={claim.isPending}>
            Claim
          </button>
        </form>
        <ErrorBox error={claim.error} />
        {claim.data === undefined ? null : <Done>The garment is yours.</Done>}
      </Card>
      <Card title="Owned">
        <MyGarments />
      </Card>
    </>
  )
}

export const ConsentsPage = () => {
  const client = useQueryClient()
  const consents = useQuery({
    queryKey: ["/v1/consents"],
    queryFn: () => get<{ current: ReadonlyArray<Consent> }>("/v1/consents")
  })
  const change = useMutation({
    mutationFn: (c: { purpose: string; granted: boolean }) =>
      send("POST", "/v1/consents", { garmentId: null, purpose: c.purpose, granted: c.granted }),
    onSuccess: () => client.invalidateQueries()
  })
  const state = (purpose: string) => {
    const rows = (consents.data?.current ?? []).filter((c) => c.purpose === purpose && c.garmentId === null)
    const latest = rows.sort((a, b) => Number(BigInt(b.id) - BigInt(a.id)))[0]
    return latest === undefined ? "not set (regional default)" : latest.granted ? "granted" : "withdrawn"
  }
  return (
    <>
      <PageHead
        title="Consents"
        lead="What people who scan your garments may see. A change takes effect at once, for every garment you own."
      />
      <Card>
        {consents.isPending ? (
          <Loading what="your consents" />
        ) : consents.isError ? (
          <ErrorBox error={consents.error} />
        ) : (
          <Table caption="Consent per purpose" head={["Purpose", "State", "Change"]}>
            {PURPOSES.map((p) => {
              const s = state(p.id)
              return (
                <tr key={p.id} data-purpose={p.id}>
                  <td>{p.label}</td>
                  <td>
                    <span className={s === "granted" ? "badge ok" : "badge"}>{s}</span>
                  </td>
                  <td>
                    <div className="row">
                      <button
                        type="button"
                        disabled={s === "granted" || change.isPending}
                        onClick={() => change.mutate({ purpose: p.id, granted: true })}
                      >
                        Grant
                      </button>
                      <button
                        type="button"
                        className="secondary"
                        disabled={s === "withdrawn" || change.isPending}
                        onClick={() => change.mutate({ purpose: p.id, granted: false })}
                      >
                        Withdraw
                      </button>
                    </div>
                  </td>
                </tr>
              )
            })}
          </Table>
        )}
        <ErrorBox error={change.error} />
      </Card>
    </>
  )
}

interface TransferListing {
  readonly id: string
  readonly garmentName: string | null
  readonly status: string
  readonly direction: "incoming" | "outgoing"
  readonly expiresAt: string
}

export const TransfersPage = () => {
  const client = useQueryClient()
  const refresh = () => client.invalidateQueries()
  const [garmentId, setGarmentId] = useState("")
  const [email, setEmail] = useState("")
  const garments = useQuery({
    queryKey: ["/v1/garments?limit=100"],
    queryFn: () => get<{ garments: ReadonlyArray<Garment> }>("/v1/garments?limit=100")
  })
  const offer = useMutation({
    mutationFn: () => send("POST", `/v1/garments/${garmentId}/transfers`, { toUserEmail: email }),
    onSuccess: refresh
  })
  const answer = useMutation({
    mutationFn: (a: { id: string; verb: "accept" | "cancel" }) => send("POST", `/v1/transfers/${a.id}/${a.verb}`),
    onSuccess: refresh
  })
  return (
    <>
      <PageHead title="Transfers" lead="Give a garment to someone else, or accept one given to you." />
      <Card title="Transfer a garment">
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault()
            offer.mutate()
          }}
        >
          <label>
            Garment
            <select value={garmentId} onChange={(e) => setGarmentId(e.target.value)} required>
              <option value="">choose…</option>
              {(garments.data?.garments ?? []).map((g) => (
                <option key={g.id} value={g.id}>
                  {g.name} ({g.serial})
                </option>
              ))}
            </select>
          </label>
          <label>
            Recipient's email
            <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} required />
          </label>
          <button type="submit" disabled={offer.isPending}>
            Offer transfer
          </button>
        </form>
        <ErrorBox error={offer.error ?? garments.error} />
        {offer.data === undefined ? null : <Done>Offer sent: the recipient accepts it in their console.</Done>}
      </Card>
      <Card title="Offers">
        <Query<{ transfers: ReadonlyArray<TransferListing> }> path="/v1/me/transfers" what="transfers">
          {(d) =>
            d.transfers.length === 0 ? (
              <Empty>No transfers.</Empty>
            ) : (
              <Table caption="Transfers to and from you" head={["Garment", "Direction", "Status", "Expires", ""]}>
                {d.transfers.map((t) => (
                  <tr key={t.id}>
                    <td>{t.garmentName ?? "—"}</td>
                    <td>{t.direction}</td>
                    <td>
                      <span className="badge">{t.status}</span>
                    </td>
                    <td>{when(t.expiresAt)}</td>
                    <td>
                      {t.status !== "pending" ? null : t.direction === "incoming" ? (
                        <button type="button" onClick={() => answer.mutate({ id: t.id, verb: "accept" })}>
                          Accept
                        </button>
                      ) : (
                        <button
                          type="button"
                          className="secondary"
                          onClick={() => answer.mutate({ id: t.id, verb: "cancel" })}
                        >
                          Cancel
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </Table>
            )
          }
        </Query>
        <ErrorBox error={answer.error} />
      </Card>
    </>
  )
}

interface Notification {
  readonly id: string
  readonly kind: string
  readonly payload: unknown
  readonly createdAt: string
  readonly readAt: string | null
}

export const NotificationsPage = () => {
  const client = useQueryClient()
  const read = useMutation({
    mutationFn: (id: string) => send("POST", `/v1/me/notifications/${id}/read`),
    onSuccess: () => client.invalidateQueries()
  })
  return (
    <>
      <PageHead
        title="Notifications"
        lead="Scans of your garments that matter (authenticity checks, transfer scans)."
      />
      <Card>
        <Query<{ notifications: ReadonlyArray<Notification>; unread: number }>
          path="/v1/me/notifications?limit=50"
          what="notifications"
        >
          {(d) =>
            d.notifications.length === 0 ? (
              <Empty>No notifications.</Empty>
            ) : (
              <>
                <p>
                  <span className="badge warn">{d.unread} unread</span>
                </p>
                <Table caption="Newest first" head={["When", "What", ""]}>
                  {d.notifications.map((n) => (
                    <tr key={n.id}>
                      <td>{when(n.createdAt)}</td>
                      <td>{n.kind.replace("scan.", "scan: ").replaceAll("_", " ")}</td>
                      <td>
                        {n.readAt === null ? (
                          <button type="button" className="secondary" onClick={() => read.mutate(n.id)}>
                            Mark read
                          </button>
                        ) : (
                          <span className="muted">read</span>
                        )}
                      </td>
                    </tr>
                  ))}
                </Table>
              </>
            )
          }
        </Query>
        <ErrorBox error={read.error} />
      </Card>
    </>
  )
}

export const PrivacyPage = ({ onErased }: { readonly onErased: () => void }) => {
  const [confirm, setConfirm] = useState("")
  const exportData = useMutation({
    mutationFn: () => get<unknown>("/v1/me/export"),
    onSuccess: (data) => {
      const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }))
      const a = document.createElement("a")
      a.href = url
      a.download = "brandme-my-data.json"
      a.click()
      URL.revokeObjectURL(url)
    }
  })
  const erase = useMutation({ mutationFn: () => send("DELETE", "/v1/me"), onSuccess: onErased })
  return (
    <>
      <PageHead title="My data" lead="Download everything held about you, or erase your account." />
      <Card title="Export my data">
        <p>A JSON file with your profile, garments, consents, transfers, scans and notifications.</p>
        <button type="button" onClick={() => exportData.mutate()} disabled={exportData.isPending}>
          Download my data
        </button>
        <ErrorBox error={exportData.error} />
        {exportData.isSuccess ? <Done>Your data was downloaded.</Done> : null}
      </Card>
      <Card title="Erase my account">
        <p>
          This cannot be undone: your personal data is destroyed, your garments become unowned and you are signed out.
          Type <strong>ERASE</strong> to confirm.
        </p>
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault()
            if (confirm === "ERASE") erase.mutate()
          }}
        >
          <label>
            Confirmation
            <input value={confirm} onChange={(e) => setConfirm(e.target.value)} autoComplete="off" />
          </label>
          <button type="submit" className="danger" disabled={confirm !== "ERASE" || erase.isPending}>
            Erase my account
          </button>
        </form>
        <ErrorBox error={erase.error} />
      </Card>
    </>
  )
}
