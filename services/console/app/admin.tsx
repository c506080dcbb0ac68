import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query"
import { useState } from "react"
import { type Account, get, qs, send } from "./api.js"
import { Card, Done, Empty, ErrorBox, Loading, PageHead, Pager, Query, Table, usePager, when } from "./ui.js"

interface Brand {
  readonly id: string
  readonly slug: string
  readonly name: string
  readonly staff: number
  readonly garments: number
  readonly createdAt: string
}

const Staff = ({ brand }: { readonly brand: Brand }) => {
  const client = useQueryClient()
  const [form, setForm] = useState({ email: "", displayName: "", password: "" })
  const invite = useMutation({
    mutationFn: () => send<Account>("POST", `/v1/brands/${brand.id}/staff`, form),
    onSuccess: () => {
      setForm({ email: "", displayName: "", password: "" })
      return client.invalidateQueries()
    }
  })
  return (
    <Card title={`${brand.name} — staff`}>
      <Query<{ users: ReadonlyArray<Account> }> path={`/v1/brands/${brand.id}/staff`} what="staff">
        {(d) =>
          d.users.length === 0 ? (
            <Empty>No staff yet.</Empty>
          ) : (
            <Table caption={`People who work for ${brand.name}`} head={["Name", "Email"]}>
              {d.users.map((u) => (
                <tr key={u.id}>
                  <td>{u.displayName ?? "—"}</td>
                  <td>{u.email ?? "—"}</td>
                </tr>
              ))}
            </Table>
          )
        }
      </Query>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault()
          invite.mutate()
        }}
      >
        <label>
          Name
          <input
            name="displayName"
            value={form.displayName}
            onChange={(e) => setForm({ ...form, displayName: e.target.value })}
            required
          />
        </label>
        <label>
          Email
          <input
            name="email"
            type="email"
            value={form.email}
            onChange={(e) => setForm({ ...form, email: e.target.value })}
            required
          />
        </label>
        <label>
          First password
          <input
            name="password"
            type="password"
            autoComplete="new-password"
            value={form.password}
            onChange={(e) => setForm({ ...form, password: e.target.value })}
            required
          />
        </label>
        <button type="submit" disabled={invite.isPending}>
          Add staff member
        </button>
      </form>
      <ErrorBox error={invite.error} />
      {invite.data === undefined ? null : <Done>{invite.data.email} can now sign in.</Done>}
    </Card>
  )
}

const Users = () => {
  const client = useQueryClient()
  const pager = usePager()
  const path = `/v1/users${qs({ cursor: pager.cursor, limit: 20 })}`
  const users = useQuery({
    queryKey: [path],
    queryFn: () => get<{ users: ReadonlyArray<Account>; nextCursor: string | null }>(path)
  })
  const brands = useQuery({
    queryKey: ["/v1/brands"],
    queryFn: () => get<{ brands: ReadonlyArray<Brand> }>("/v1/brands")
  })
  const setRole = useMutation({
    mutationFn: (a: { id: string; role: string; brandId: string | null }) =>
      send("PUT", `/v1/users/${a.id}/role`, { role: a.role, brandId: a.brandId }),
    onSuccess: () => client.invalidateQueries()
  })
  if (users.isPending) return <Loading what="accounts" />
  if (users.isError) return <ErrorBox error={users.error} />
  return (
    <>
      <Table
        caption="Accounts, newest first (a role change signs the person out)"
        head={["Name", "Email", "Role", "Since"]}
      >
        {users.data.users.map((u) => (
          <tr key={u.id}>
            <td>{u.displayName ?? "—"}</td>
            <td>{u.email ?? "—"}</td>
            <td>
              <select
                aria-label={`role of ${u.email ?? u.id}`}
                value={u.role === "brand" ? `brand:${u.brandId ?? ""}` : u.role}
                onChange={(e) => {
                  const v = e.target.value
                  const [role, brandId] = v.startsWith("brand:") ? ["brand", v.slice(6)] : [v, null]
                  setRole.mutate({ id: u.id, role: role ?? "owner", brandId: brandId ?? null })
                }}
              >
                <option value="owner">owner</option>
                <option value="auditor">auditor</option>
                <option value="admin">admin</option>
                {(brands.data?.brands ?? []).map((b) => (
                  <option key={b.id} value={`brand:${b.id}`}>
                    brand staff of {b.name}
                  </option>
                ))}
              </select>
            </td>
            <td>{when(u.createdAt)}</td>
          </tr>
        ))}
      </Table>
      <Pager pager={pager} nextCursor={users.data.nextCursor} />
      <ErrorBox error={setRole.error} />
    </>
  )
}

export const BrandsPage = () => {
  const client = useQueryClient()
  const [form, setForm] = useState({ slug: "", name: "" })
  const [selected, setSelected] = useState<string | null>(null)
  const create = useMutation({
    mutationFn: () => send<Brand>("POST", "/v1/brands", form),
    onSuccess: (b) => {
      setSelected(b.id)
      setForm({ slug: "", name: "" })
      return client.invalidateQueries()
    }
  })
  const brands = useQuery({
    queryKey: ["/v1/brands"],
    queryFn: () => get<{ brands: ReadonlyArray<Brand> }>("/v1/brands")
  })
  const current = brands.data?.brands.find((b) => b.id === selected)
  return (
    <>
      <PageHead title="Brands and people" lead="Create brands, add their staff and set anyone's role." />
      <Card title="New brand">
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault()
            create.mutate()
          }}
        >
          <label>
            Name
            <input
              name="brandName"
              value={form.name}
              onChange={(e) => setForm({ ...form, name: e.target.value })}
              required
            />
          </label>
          <label>
            Slug
            <input
              name="slug"
              value={form.slug}
              placeholder="lowercase-and-dashes"
              onChange={(e) => setForm({ ...form, slug: e.target.value })}
              required
            />
          </label>
          <button type="submit" disabled={create.isPending}>
            Create brand
          </button>
        </form>
        <ErrorBox error={create.error} />
        {create.data === undefined ? null : <Done>Brand {create.data.name} created: add its staff below.</Done>}
      </Card>
      <Card title="Brands">
        {brands.isPending ? (
          <Loading what="brands" />
        ) : brands.isError ? (
          <ErrorBox error={brands.error} />
        ) : brands.data.brands.length === 0 ? (
          <Empty>No brands yet.</Empty>
        ) : (
          <Table caption="Every brand" head={["Name", "Slug", "Staff", "Garments", ""]}>
            {brands.data.brands.map((b) => (
              <tr key={b.id}>
                <td>{b.name}</td>
                <td className="mono">{b.slug}</td>
                <td>{b.staff}</td>
                <td>{b.garments}</td>
                <td>
                  <button
                    type="button"
                    className="secondary"
                    onClick={() => setSelected(b.id)}
                    aria-pressed={selected === b.id}
                  >
                    Staff
                  </button>
                </td>
              </tr>
            ))}
          </Table>
        )}
      </Card>
      {current === undefined ? null : <Staff key={current.id} brand={current} />}
      <Card title="Accounts">
        <Users />
      </Card>
    </>
  )
}

interface ServiceStatus {
  readonly service: string
  readonly status: string
  readonly latencyMs: number
  readonly error: string | null
  readonly report: { readonly dependencies: Record<string, { status: string; latencyMs: number }> } | null
}
interface QueueRow {
  readonly queue: string
  readonly waiting: number
  readonly active: number
  readonly delayed: number
  readonly failed: number
  readonly workers: number | null
}
interface DeadLetter {
  readonly id: string
  readonly queue: string
  readonly name: string
  readonly error: string
  readonly attempts: number
  readonly failedAt: string
}

const statusBadge = (s: string) =>
  s === "ok" || s === "up" ? "badge ok" : s === "degraded" ? "badge warn" : "badge bad"

export const OpsPage = ({ grafana }: { readonly grafana: ReadonlyArray<{ title: string; url: string }> }) => {
  const client = useQueryClient()
  const replay = useMutation({
    mutationFn: (id: string) => send("POST", `/v1/ops/dead-letters/${encodeURIComponent(id)}/replay`),
    onSuccess: () => client.invalidateQueries()
  })
  return (
    <>
      <PageHead title="Operations" lead="Every service's health, the queues and their dead letters." />
      <Card title="Services">
        <Query<{ services: ReadonlyArray<ServiceStatus> }> path="/v1/ops/services" what="service health">
          {(d) => (
            <Table
              caption="GET /health of each service, with its dependencies' latencies"
              head={["Service", "Status", "Answer", "Dependencies"]}
            >
              {d.services.map((s) => (
                <tr key={s.service}>
                  <td>{s.service}</td>
                  <td>
                    <span className={statusBadge(s.status)}>{s.status}</span>
                  </td>
                  <td>{s.latencyMs} ms</td>
                  <td>
                    {s.report === null
                      ? (s.error ?? "—")
                      : Object.entries(s.report.dependencies)
                          .map(([name, dep]) => `${name} ${dep.status} ${dep.latencyMs} ms`)
                          .join(" · ")}
                  </td>
                </tr>
              ))}
            </Table>
          )}
        </Query>
      </Card>
      <Card title="Queues">
        <Query<{ queues: ReadonlyArray<QueueRow> }> path="/v1/ops/queues" what="queues">
          {(d) => (
            <Table caption="BullMQ queues" head={["Queue", "Waiting", "Active", "Delayed", "Failed", "Workers"]}>
              {d.queues.map((q) => (
                <tr key={q.queue}>
                  <td>{q.queue}</td>
                  <td>{q.waiting}</td>
                  <td>{q.active}</td>
                  <td>{q.delayed}</td>
                  <td>{q.failed}</td>
                  <td>{q.workers ?? "?"}</td>
                </tr>
              ))}
            </Table>
          )}
        </Query>
      </Card>
      <Card title="Dead letters">
        <Query<{ deadLetters: ReadonlyArray<DeadLetter> }> path="/v1/ops/dead-letters" what="dead letters">
          {(d) =>
            d.deadLetters.length === 0 ? (
              <Empty>No dead letters.</Empty>
            ) : (
              <Table
                caption="Jobs that used up their attempts"
                head={["Failed", "Queue", "Task", "Attempts", "Error", ""]}
              >
                {d.deadLetters.map((l) => (
                  <tr key={l.id}>
                    <td>{when(l.failedAt)}</td>
                    <td>{l.queue}</td>
                    <td>{l.name}</td>
                    <td>{l.attempts}</td>
                    <td className="mono">{l.error}</td>
                    <td>
                      <button type="button" className="secondary" onClick={() => replay.mutate(l.id)}>
                        Replay
                      </button>
                    </td>
                  </tr>
                ))}
              </Table>
            )
          }
        </Query>
        <ErrorBox error={replay.error} />
      </Card>
      <Card title="Dashboards">
        <ul>
          {grafana.map((g) => (
            <li key={g.url}>
              <a href={g.url} target="_blank" rel="noreferrer">
                {g.title}
              </a>
            </li>
          ))}
        </ul>
      </Card>
    </>
  )
}
