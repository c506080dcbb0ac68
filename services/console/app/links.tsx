import { useMutation, useQueryClient } from "@tanstack/react-query"
import { useState } from "react"
import { get, qs, send } from "./api.js"
import { Card, Done, Empty, ErrorBox, PageHead, Query, Table, when } from "./ui.js"

/** A link of the GS1 Digital Link resolver (docs/resolver.md; the API's DigitalLinkEntry). */
interface DigitalLinkEntry {
  readonly id: string
  readonly gtin: string
  readonly cpv: string | null
  readonly lot: string | null
  readonly serial: string | null
  readonly linkType: string
  readonly href: string
  readonly title: string
  readonly lang: string | null
  readonly mediaType: string | null
  readonly passQualifiers: boolean
  readonly updatedAt: string
}
interface Preview {
  readonly anchor: string
  readonly compressed: string
  readonly defaultLink: string | null
  readonly links: ReadonlyArray<DigitalLinkEntry & { readonly level: string; readonly target: string }>
}

/** the GS1 Web Vocabulary link types a brand sets most; the API lists them all (LinksApi.ts) */
const LINK_TYPES = [
  "gs1:defaultLink",
  "gs1:pip",
  "gs1:careInstructions",
  "gs1:certificationInfo",
  "gs1:sustainabilityInfo",
  "gs1:productSustainabilityInfo",
  "gs1:instructions",
  "gs1:registerProduct",
  "gs1:support",
  "gs1:faqs",
  "gs1:hasRetailers",
  "gs1:recallStatus"
]

const scopeOf = (l: { gtin: string; cpv: string | null; lot: string | null; serial: string | null }) =>
  [
    l.cpv !== null ? `CPV ${l.cpv}` : "",
    l.lot !== null ? `lot ${l.lot}` : "",
    l.serial !== null ? `serial ${l.serial}` : ""
  ]
    .filter((s) => s !== "")
    .join(", ") || "every item"

const optional = (v: string) => (v.trim() === "" ? undefined : v.trim())

const Remove = ({ id }: { readonly id: string }) => {
  const client = useQueryClient()
  const m = useMutation({
    mutationFn: () => send("DELETE", `/v1/links/${id}`),
    onSuccess: () => client.invalidateQueries()
  })
  return (
    <>
      <button type="button" className="secondary" disabled={m.isPending} onClick={() => m.mutate()}>
        Delete
      </button>
      <ErrorBox error={m.error} />
    </>
  )
}

/** Brands link their GTINs (or one lot, one serial) to their pages; the resolver serves the most specific. */
export const LinksPage = () => {
  const client = useQueryClient()
  const [form, setForm] = useState({
    gtin: "",
    lot: "",
    serial: "",
    linkType: "gs1:pip",
    href: "",
    title: "",
    lang: ""
  })
  const [passQualifiers, setPass] = useState(false)
  const [filter, setFilter] = useState("")
  const [uri, setUri] = useState("")
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value })
  const create = useMutation({
    mutationFn: () =>
      send("POST", "/v1/links", {
        gtin: form.gtin.trim(),
        lot: optional(form.lot),
        serial: optional(form.serial),
        linkType: form.linkType,
        href: form.href.trim(),
        title: form.title.trim(),
        lang: optional(form.lang),
        passQualifiers
      }),
    onSuccess: () => client.invalidateQueries()
  })
  const preview = useMutation({ mutationFn: () => get<Preview>(`/v1/links/preview${qs({ uri: uri.trim() })}`) })
  return (
    <>
      <PageHead
        title="Digital Links"
        lead="Where a scan of your QR codes leads: links per GTIN, with overrides per lot or serial. Without a default link, a scan opens the product passport."
      />
      <Card title="New link">
        <form
          onSubmit={(e) => {
            e.preventDefault()
            create.mutate()
          }}
        >
          <div className="row">
            <label>
              GTIN
              <input value={form.gtin} onChange={set("gtin")} inputMode="numeric" required />
            </label>
            <label>
              Lot (optional)
              <input value={form.lot} onChange={set("lot")} />
            </label>
            <label>
              Serial (optional)
              <input value={form.serial} onChange={set("serial")} />
            </label>
          </div>
          <div className="row">
            <label>
              Link type
              <select value={form.linkType} onChange={set("linkType")}>
                {LINK_TYPES.map((t) => (
                  <option key={t}>{t}</option>
                ))}
              </select>
            </label>
            <label>
              Language (optional)
              <input value={form.lang} onChange={set("lang")} placeholder="en, fr, de" />
            </label>
          </div>
          <label>
            Target URL
            <input
              type="url"
              value={form.href}
              onChange={set("href")}
              placeholder="https://brand.example/care"
              required
            />
          </label>
          <label>
            Title
            <input value={form.title} onChange={set("title")} required />
          </label>
          <label style={{ flexDirection: "row", alignItems: "center" }}>
            <input type="checkbox" checked={passQualifiers} onChange={(e) => setPass(e.target.checked)} />
            Pass the GTIN, lot and serial on to the target
          </label>
          <button type="submit" disabled={create.isPending}>
            Add link
          </button>
        </form>
        <ErrorBox error={create.error} />
        {create.isSuccess ? <Done>Link added.</Done> : null}
      </Card>
      <Card title="Preview a Digital Link">
        <form
          onSubmit={(e) => {
            e.preventDefault()
            preview.mutate()
          }}
        >
          <label>
            Digital Link URI
            <input
              value={uri}
              onChange={(e) => setUri(e.target.value)}
              placeholder="https://id.brandme.io/01/…/21/…"
              required
            />
          </label>
          <button type="submit" disabled={preview.isPending}>
            Preview
          </button>
        </form>
        <ErrorBox error={preview.error} />
        {preview.data === undefined ? null : (
          <>
            <p>
              A scan goes to <span className="mono">{preview.data.defaultLink ?? "the product passport page"}</span>.
              Compressed form: <span className="mono">{preview.data.compressed}</span>
            </p>
            <Table caption="Links served for this URI" head={["Type", "Language", "From", "Target"]}>
              {preview.data.links.map((l) => (
                <tr key={l.id}>
                  <td>{l.linkType}</td>
                  <td>{l.lang ?? "any"}</td>
                  <td>{l.level}</td>
                  <td className="mono">{l.target}</td>
                </tr>
              ))}
            </Table>
          </>
        )}
      </Card>
      <label>
        Filter by GTIN
        <input value={filter} onChange={(e) => setFilter(e.target.value)} inputMode="numeric" />
      </label>
      <Query<{ links: ReadonlyArray<DigitalLinkEntry> }>
        path={`/v1/links${qs({ gtin: /^[0-9]{8,14}$/.test(filter) ? filter : undefined })}`}
        what="links"
      >
        {(d) =>
          d.links.length === 0 ? (
            <Empty>No links yet: scans open the product passport.</Empty>
          ) : (
            <Table caption="Links" head={["GTIN", "Applies to", "Type", "Language", "Target", "Updated", ""]}>
              {d.links.map((l) => (
                <tr key={l.id}>
                  <td className="mono">{l.gtin}</td>
                  <td>{scopeOf(l)}</td>
                  <td>{l.linkType}</td>
                  <td>{l.lang ?? "any"}</td>
                  <td>
                    <a href={l.href} rel="noreferrer">
                      {l.title}
                    </a>
                  </td>
                  <td>{when(l.updatedAt)}</td>
                  <td>
                    <Remove id={l.id} />
                  </td>
                </tr>
              ))}
            </Table>
          )
        }
      </Query>
    </>
  )
}
