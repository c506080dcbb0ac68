import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query"
import qrcode from "qrcode-generator"
import { type FormEvent, useState } from "react"
import { digitalLink } from "../../../shared/domain/DigitalLink.js"
import { type Garment, get, qs, send } from "./api.js"
import { ScanChart, type DailyCount } from "./chart.js"
import { Card, Done, Empty, ErrorBox, Loading, PageHead, Pager, Query, Table, usePager, when } from "./ui.js"

/** The resolver domain printed in claim labels (the Digital Links `npm start` prints use it too). */
export const RESOLVER_DOMAIN = "id.brandme.local"

interface GarmentPage {
  readonly garments: ReadonlyArray<Garment>
  readonly nextCursor: string | null
}

export const GarmentsPage = ({ canCreate }: { readonly canCreate: boolean }) => {
  const [q, setQ] = useState("")
  const [status, setStatus] = useState("")
  const pager = usePager()
  const path = `/v1/garments${qs({ q, status, cursor: pager.cursor, limit: 10 })}`
  const list = useQuery({ queryKey: [path], queryFn: () => get<GarmentPage>(path) })
  return (
    <>
      <PageHead
        title="Garments"
        lead="Search your garments, open one to edit its facets, issue claim codes and see its scans."
      />
      <Card title="Find garments">
        <form className="row" aria-label="find garments" onSubmit={(e) => e.preventDefault()}>
          <label>
            Search
            <input
              type="search"
              value={q}
              placeholder="name, serial, GTIN or batch"
              onChange={(e) => {
                setQ(e.target.value)
                pager.reset()
              }}
            />
          </label>
          <label>
            Ownership
            <select
              value={status}
              onChange={(e) => {
                setStatus(e.target.value)
                pager.reset()
              }}
            >
              <option value="">all</option>
              <option value="claimed">claimed</option>
              <option value="unclaimed">unclaimed</option>
            </select>
          </label>
        </form>
        {list.isPending ? (
          <Loading what="garments" />
        ) : list.isError ? (
          <ErrorBox error={list.error} />
        ) : list.data.garments.length === 0 ? (
          <Empty>No garments match.</Empty>
        ) : (
          <>
            <Table caption="Garments, newest first" head={["Name", "GTIN", "Serial", "Owner", "Version"]}>
              {list.data.garments.map((g) => (
                <tr key={g.id}>
                  <td>
                    <a href={`#/garments/${g.id}`}>{g.name}</a>
                  </td>
                  <td className="mono">{g.gtin}</td>
                  <td className="mono">{g.serial}</td>
                  <td>
                    {g.ownerUserId === null ? (
                      <span className="badge">unclaimed</span>
                    ) : (
                      <span className="badge ok">claimed</span>
                    )}
                  </td>
                  <td>{g.version}</td>
                </tr>
              ))}
            </Table>
            <Pager pager={pager} nextCursor={list.data.nextCursor} />
          </>
        )}
      </Card>
      {canCreate ? <CreateGarment /> : null}
    </>
  )
}

const CreateGarment = () => {
  const client = useQueryClient()
  const [form, setForm] = useState({ name: "", gtin: "", serial: "", batch: "" })
  const create = useMutation({
    mutationFn: () =>
      send<Garment>("POST", "/v1/garments", {
        name: form.name,
        gtin: form.gtin,
        serial: form.serial,
        ...(form.batch === "" ? {} : { batch: form.batch }),
        facets: {}
      }),
    onSuccess: () => client.invalidateQueries()
  })
  const field = (k: keyof typeof form, label: string, hint: string) => (
    <label>
      {label}
      <input
        name={k}
        value={form[k]}
        placeholder={hint}
        onChange={(e) => setForm({ ...form, [k]: e.target.value })}
        required={k !== "batch"}
      />
    </label>
  )
  return (
    <Card title="New garment">
      <form
        className="row"
        onSubmit={(e: FormEvent) => {
          e.preventDefault()
          create.mutate()
        }}
      >
        {field("name", "Name", "Linen overshirt")}
        {field("gtin", "GTIN", "8, 12, 13 or 14 digits")}
        {field("serial", "Serial", "SN0001")}
        {field("batch", "Batch (optional)", "B-2026-01")}
        <button type="submit" disabled={create.isPending}>
          Create garment
        </button>
      </form>
      <ErrorBox error={create.error} />
      {create.data === undefined ? null : (
        <Done>
          Created <a href={`#/garments/${create.data.id}`}>{create.data.name}</a>.
        </Done>
      )}
    </Card>
  )
}

const Qr = ({ text }: { readonly text: string }) => {
  const qr = qrcode(0, "M")
  qr.addData(text)
  qr.make()
  const n = qr.getModuleCount()
  const cells: Array<string> = []
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) if (qr.isDark(r, c)) cells.push(`M${c + 2} ${r + 2}h1v1h-1z`)
  return (
    <svg className="qr" viewBox={`0 0 ${n + 4} ${n + 4}`} role="img" aria-label={`QR code of ${text}`}>
      <rect width={n + 4} height={n + 4} fill="#fff" />
      <path d={cells.join("")} fill="#000" />
    </svg>
  )
}

const ClaimCodes = ({ garment }: { readonly garment: Garment }) => {
  const [days, setDays] = useState("30")
  const issue = useMutation({
    mutationFn: () =>
      send<{ code: string; expiresAt: string }>("POST", `/v1/garments/${garment.id}/claim-codes`, {
        expiresInDays: Number(days)
      })
  })
  const link = digitalLink({
    domain: RESOLVER_DOMAIN,
    gtin: garment.gtin,
    serial: garment.serial,
    batch: garment.batch ?? undefined
  })
  return (
    <Card title="Claim code and label">
      <form
        className="row noprint"
        onSubmit={(e) => {
          e.preventDefault()
          issue.mutate()
        }}
      >
        <label>
          Valid for (days)
          <input type="number" min={1} max={3650} value={days} onChange={(e) => setDays(e.target.value)} />
        </label>
        <button type="submit" disabled={issue.isPending}>
          Issue claim code
        </button>
      </form>
      <ErrorBox error={issue.error} />
      {issue.data === undefined ? null : (
        <div>
          <p>
            Claim code:{" "}
            <strong className="mono" data-testid="claim-code">
              {issue.data.code}
            </strong>{" "}
            <span className="muted">(valid until {when(issue.data.expiresAt)}; shown once)</span>
          </p>
          <Qr text={link} />
          <p className="mono">{link}</p>
          <button type="button" className="secondary noprint" onClick={() => window.print()}>
            Print label
          </button>
        </div>
      )}
    </Card>
  )
}

const FacetsEditor = ({ garment }: { readonly garment: Garment }) => {
  const client = useQueryClient()
  const [text, setText] = useState(JSON.stringify(garment.facets, null, 2))
  const [parseError, setParseError] = useState<string | null>(null)
  const save = useMutation({
    mutationFn: (facets: unknown) =>
      send<Garment>("PATCH", `/v1/garments/${garment.id}`, { version: garment.version, facets }),
    onSuccess: () => client.invalidateQueries()
  })
  return (
    <Card title="Facets">
      <form
        onSubmit={(e) => {
          e.preventDefault()
          try {
            const facets: unknown = JSON.parse(text)
            setParseError(null)
            save.mutate(facets)
          } catch (err) {
            setParseError(`facets are not valid JSON: ${err instanceof Error ? err.message : String(err)}`)
          }
        }}
      >
        <label>
          Facet groups (materials, origin, supply_chain, care, certifications) as JSON
          <textarea rows={12} value={text} onChange={(e) => setText(e.target.value)} />
        </label>
        <p className="row">
          <button type="submit" disabled={save.isPending}>
            Save as version {garment.version + 1}
          </button>
        </p>
      </form>
      <ErrorBox error={parseError ?? save.error} />
      {save.data === undefined ? null : <Done>Saved: version {save.data.version}.</Done>}
    </Card>
  )
}

interface Version {
  readonly version: number
  readonly name: string
  readonly facets: Record<string, unknown>
  readonly createdAt: string
  readonly changedBy: string | null
}

const Versions = ({ id }: { readonly id: string }) => (
  <Card title="Version history">
    <Query<{ versions: ReadonlyArray<Version> }> path={`/v1/garments/${id}/versions`} what="versions">
      {(d) =>
        d.versions.length === 0 ? (
          <Empty>No versions recorded.</Empty>
        ) : (
          <Table caption="Every saved version, newest first" head={["Version", "Saved", "Facet groups"]}>
            {d.versions.map((v) => (
              <tr key={v.version}>
                <td>{v.version}</td>
                <td>{when(v.createdAt)}</td>
                <td>{Object.keys(v.facets).join(", ") || "—"}</td>
              </tr>
            ))}
          </Table>
        )
      }
    </Query>
  </Card>
)

interface Summary {
  readonly total: number
  readonly byRegion: ReadonlyArray<{ key: string; count: number }>
  readonly byIntent: ReadonlyArray<{ key: string; count: number }>
  readonly daily: ReadonlyArray<DailyCount>
}
interface ScanRow {
  readonly id: string
  readonly scannedAt: string
  readonly role: string
  readonly intent: string
  readonly regionCode: string
  readonly byDevice: boolean
}

const Scans = ({ id }: { readonly id: string }) => {
  const [days, setDays] = useState(30)
  const [by, setBy] = useState<"regionCode" | "intent">("regionCode")
  const pager = usePager()
  const scansPath = `/v1/garments/${id}/scans${qs({ cursor: pager.cursor, limit: 10 })}`
  const scans = useQuery({
    queryKey: [scansPath],
    queryFn: () => get<{ scans: ReadonlyArray<ScanRow>; nextCursor: string | null }>(scansPath)
  })
  return (
    <Card title="Scans">
      <div className="row">
        <label>
          Period
          <select value={days} onChange={(e) => setDays(Number(e.target.value))}>
            <option value={7}>7 days</option>
            <option value={30}>30 days</option>
            <option value={90}>90 days</option>
          </select>
        </label>
        <label>
          Break down by
          <select value={by} onChange={(e) => setBy(e.target.value === "intent" ? "intent" : "regionCode")}>
            <option value="regionCode">region</option>
            <option value="intent">intent</option>
          </select>
        </label>
      </div>
      <Query<Summary> path={`/v1/garments/${id}/scans/summary?days=${days}`} what="scan figures">
        {(s) => (
          <>
            <div className="stats">
              <div className="stat">
                <b data-testid="scan-total">{s.total}</b>scans
              </div>
              <div className="stat">
                <b>{s.byRegion.length}</b>regions
              </div>
              <div className="stat">
                <b>{s.byIntent[0]?.key ?? "—"}</b>top intent
              </div>
            </div>
            <ScanChart daily={s.daily} by={by} days={days} />
          </>
        )}
      </Query>
      {scans.isPending ? (
        <Loading what="scans" />
      ) : scans.isError ? (
        <ErrorBox error={scans.error} />
      ) : scans.data.scans.length === 0 ? (
        <Empty>No scans yet.</Empty>
      ) : (
        <>
          <Table caption="Scan history, newest first" head={["When", "Region", "Intent", "Role", "Device"]}>
            {scans.data.scans.map((s) => (
              <tr key={s.id}>
                <td>{when(s.scannedAt)}</td>
                <td>{s.regionCode}</td>
                <td>{s.intent}</td>
                <td>{s.role}</td>
                <td>{s.byDevice ? "yes" : "no"}</td>
              </tr>
            ))}
          </Table>
          <Pager pager={pager} nextCursor={scans.data.nextCursor} />
        </>
      )}
    </Card>
  )
}

export const GarmentDetail = ({ id, canWrite }: { readonly id: string; readonly canWrite: boolean }) => (
  <Query<Garment> path={`/v1/garments/${id}`} what="the garment">
    {(g) => (
      <>
        <PageHead title={g.name} lead={`GTIN ${g.gtin} · serial ${g.serial} · version ${g.version}`} />
        <div className="grid2">
          {canWrite ? <FacetsEditor key={g.version} garment={g} /> : null}
          {canWrite ? <ClaimCodes garment={g} /> : null}
        </div>
        <Scans id={g.id} />
        <Versions id={g.id} />
      </>
    )}
  </Query>
)

// bulk import -----------------------------------------------------------------------------------

/** CSV with a header row: gtin, serial, name, batch (optional), facets (optional, JSON in one cell). */
export const parseCsv = (text: string): Array<Record<string, unknown>> => {
  const rows: Array<Array<string>> = []
  let row: Array<string> = []
  let cell = ""
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"'
        i++
      } else if (ch === '"') quoted = false
      else cell += ch
    } else if (ch === '"') quoted = true
    else if (ch === ",") {
      row.push(cell)
      cell = ""
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++
      row.push(cell)
      if (row.some((c) => c !== "")) rows.push(row)
      row = []
      cell = ""
    } else cell += ch
  }
  row.push(cell)
  if (row.some((c) => c !== "")) rows.push(row)
  const [head, ...body] = rows
  if (head === undefined) return []
  return body.map((cells) => {
    const item: Record<string, unknown> = {}
    head.forEach((h, i) => {
      const key = h.trim()
      const v = (cells[i] ?? "").trim()
      if (v === "") return
      if (key === "facets") {
        try {
          item.facets = JSON.parse(v)
        } catch {
          item.facets = v
        }
      } else item[key] = v
    })
    if (item.facets === undefined) item.facets = {}
    return item
  })
}

interface ImportResult {
  readonly created: number
  readonly failed: number
  readonly results: ReadonlyArray<{ index: number; ok: boolean; id?: string; error?: { message: string } }>
}

export const ImportPage = () => {
  const client = useQueryClient()
  const [format, setFormat] = useState<"csv" | "json">("csv")
  const [text, setText] = useState("gtin,serial,name,batch\n")
  const [localError, setLocalError] = useState<string | null>(null)
  const run = useMutation({
    mutationFn: (garments: ReadonlyArray<unknown>) => send<ImportResult>("POST", "/v1/garments/import", { garments }),
    onSuccess: () => client.invalidateQueries()
  })
  const submit = (e: FormEvent) => {
    e.preventDefault()
    setLocalError(null)
    try {
      const parsed: unknown = format === "csv" ? parseCsv(text) : JSON.parse(text)
      const items = Array.isArray(parsed) ? parsed : null
      if (items === null || items.length === 0) {
        setLocalError(format === "csv" ? "the CSV has no rows under its header" : "the JSON must be a non-empty array")
        return
      }
      run.mutate(items)
    } catch (err) {
      setLocalError(
        `the file is not valid ${format.toUpperCase()}: ${err instanceof Error ? err.message : String(err)}`
      )
    }
  }
  return (
    <>
      <PageHead
        title="Bulk import"
        lead="Create up to 1000 garments at once from CSV or JSON. Each row is checked on its own."
      />
      <Card title="Garments to import">
        <form onSubmit={submit}>
          <div className="row">
            <label>
              Format
              <select value={format} onChange={(e) => setFormat(e.target.value === "json" ? "json" : "csv")}>
                <option value="csv">CSV (gtin, serial, name, batch, facets)</option>
                <option value="json">JSON (an array of garments)</option>
              </select>
            </label>
            <label>
              From a file
              <input
                type="file"
                accept=".csv,.json,text/csv,application/json"
                onChange={(e) => {
                  const f = e.target.files?.[0]
                  if (f !== undefined) void f.text().then(setText)
                }}
              />
            </label>
          </div>
          <label>
            Contents
            <textarea rows={10} value={text} onChange={(e) => setText(e.target.value)} />
          </label>
          <p>
            <button type="submit" disabled={run.isPending}>
              Import
            </button>
          </p>
        </form>
        <ErrorBox error={localError ?? run.error} />
      </Card>
      {run.data === undefined ? null : (
        <Card title="Result">
          <p>
            <span className="badge ok">{run.data.created} created</span>{" "}
            <span className={run.data.failed > 0 ? "badge bad" : "badge"}>{run.data.failed} failed</span>
          </p>
          <Table caption="One line per row of the file" head={["Row", "Result"]}>
            {run.data.results.map((r) => (
              <tr key={r.index}>
                <td>{r.index + 1}</td>
                <td>
                  {r.ok ? (
                    <a href={`#/garments/${r.id}`}>created</a>
                  ) : (
                    <span className="badge bad">{r.error?.message ?? "failed"}</span>
                  )}
                </td>
              </tr>
            ))}
          </Table>
        </Card>
      )}
    </>
  )
}
