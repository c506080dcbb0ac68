/**
 * The Brand.Me console: one single-page app for brands, owners, auditors and admins (React + TanStack Query,
 * bundled by esbuild — see ../Bundle.ts). Navigation is by hash (#/garments, …) so the console serves one page.
 * The session lives in an httpOnly cookie set by the console at sign-in; this script never sees a token.
 */
import { QueryClient, QueryClientProvider, useMutation, useQuery, useQueryClient } from "@tanstack/react-query"
import { type ReactNode, StrictMode, useEffect, useState } from "react"
import { createRoot } from "react-dom/client"
import { AdminOnly } from "./roles.js"
import { EscalationsPage, WebhooksPage } from "./alerts.js"
import { LinksPage } from "./links.js"
import { type Account, ApiError, get, type Role, send } from "./api.js"
import { AuditPage } from "./auditor.js"
import { BrandsPage, OpsPage } from "./admin.js"
import { GarmentDetail, GarmentsPage, ImportPage } from "./brand.js"
import { ConsentsPage, NotificationsPage, OwnerGarmentsPage, PrivacyPage, TransfersPage } from "./owner.js"
import { ErrorBox, Loading } from "./ui.js"

const useHash = () => {
  const [hash, setHash] = useState(window.location.hash)
  useEffect(() => {
    const on = () => setHash(window.location.hash)
    window.addEventListener("hashchange", on)
    return () => window.removeEventListener("hashchange", on)
  }, [])
  return hash.replace(/^#/, "") || "/"
}

interface NavItem {
  readonly path: string
  readonly label: string
}

const NAV: Record<Role, ReadonlyArray<NavItem>> = {
  brand: [
    { path: "/garments", label: "Garments" },
    { path: "/import", label: "Bulk import" },
    { path: "/escalations", label: "Escalations" },
    { path: "/webhooks", label: "Webhooks" },
    { path: "/links", label: "Digital Links" }
  ],
  owner: [
    { path: "/mine", label: "My garments" },
    { path: "/consents", label: "Consents" },
    { path: "/transfers", label: "Transfers" },
    { path: "/notifications", label: "Notifications" },
    { path: "/privacy", label: "My data" }
  ],
  auditor: [
    { path: "/audit", label: "Audit log" },
    { path: "/garments", label: "Garments" },
    { path: "/escalations", label: "Escalations" }
  ],
  admin: [
    { path: "/brands", label: "Brands and people" },
    { path: "/ops", label: "Operations" },
    { path: "/garments", label: "Garments" },
    { path: "/escalations", label: "Escalations" },
    { path: "/webhooks", label: "Webhooks" },
    { path: "/links", label: "Digital Links" },
    { path: "/audit", label: "Audit log" }
  ]
}

const grafanaLinks = (): ReadonlyArray<{ title: string; url: string }> => {
  const meta = document.querySelector('meta[name="brandme-grafana"]')?.getAttribute("content")
  try {
    const parsed: unknown = JSON.parse(meta ?? "[]")
    return Array.isArray(parsed)
      ? parsed.flatMap((x: unknown) =>
          typeof x === "object" &&
          x !== null &&
          "title" in x &&
          "url" in x &&
          typeof x.title === "string" &&
          typeof x.url === "string"
            ? [{ title: x.title, url: x.url }]
            : []
        )
      : []
  } catch {
    return []
  }
}

const Route = ({
  path,
  me,
  onSignedOut
}: {
  readonly path: string
  readonly me: Account
  readonly onSignedOut: () => void
}) => {
  const detail = /^\/garments\/([0-9a-f-]{36})$/.exec(path)
  if (detail !== null)
    return <GarmentDetail id={detail[1] ?? ""} canWrite={me.role === "brand" || me.role === "admin"} />
  switch (path) {
    case "/garments":
      return <GarmentsPage canCreate={me.role === "brand"} />
    case "/import":
      return <ImportPage />
    case "/escalations":
      return <EscalationsPage canAcknowledge={me.role === "brand" || me.role === "admin"} />
    case "/webhooks":
      return <WebhooksPage />
    case "/links":
      return <LinksPage />
    case "/mine":
      return <OwnerGarmentsPage />
    case "/consents":
      return <ConsentsPage />
    case "/transfers":
      return <TransfersPage />
    case "/notifications":
      return <NotificationsPage />
    case "/privacy":
      return <PrivacyPage onErased={onSignedOut} />
    case "/audit":
      return <AuditPage />
    case "/brands":
      return (
        <AdminOnly role={me.role}>
          <BrandsPage />
        </AdminOnly>
      )
    case "/ops":
      return (
        <AdminOnly role={me.role}>
          <OpsPage grafana={grafanaLinks()} />
        </AdminOnly>
      )
    default:
      return <p>This page does not exist. Choose one from the menu.</p>
  }
}

const Shell = ({ me }: { readonly me: Account }) => {
  const client = useQueryClient()
  const path = useHash()
  const items = NAV[me.role]
  useEffect(() => {
    if (path === "/" && items[0] !== undefined) window.location.hash = `#${items[0].path}`
  }, [path, items])
  const signOut = useMutation({
    mutationFn: () => send("DELETE", "/session"),
    onSettled: () => client.resetQueries()
  })
  const signedOut = () => void client.resetQueries()
  return (
    <div className="shell">
      <button type="button" className="skip" onClick={() => document.getElementById("main")?.focus()}>
        Skip to content
      </button>
      <header className="side">
        <div className="logo">
          Brand.Me<small>console · {me.role === "brand" ? "brand" : me.role}</small>
        </div>
        <nav className="nav" aria-label="main">
          {items.map((i) => (
            <a
              key={i.path}
              href={`#${i.path}`}
              aria-current={path === i.path || path.startsWith(`${i.path}/`) ? "page" : undefined}
            >
              {i.label}
            </a>
          ))}
        </nav>
        <div className="who">
          <span data-testid="who">{me.displayName ?? me.email ?? me.id}</span>
          <button type="button" className="secondary" onClick={() => signOut.mutate()} disabled={signOut.isPending}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Route path={path} me={me} onSignedOut={signedOut} />
      </main>
    </div>
  )
}

const SignIn = () => {
  const client = useQueryClient()
  const [email, setEmail] = useState("")
  const [password, setPassword] = useState("")
  const signIn = useMutation({
    mutationFn: () => send("POST", "/session", { email, password }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["session"] })
  })
  return (
    <main className="signin" id="main">
      <h1>Brand.Me console</h1>
      <p className="lead">Sign in to manage garments, your wardrobe, the audit log or the platform.</p>
      <form
        className="card"
        onSubmit={(e) => {
          e.preventDefault()
          signIn.mutate()
        }}
      >
        <label>
          Email
          <input
            name="email"
            type="email"
            autoComplete="username"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            required
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        <button type="submit" disabled={signIn.isPending}>
          Sign in
        </button>
        <ErrorBox error={signIn.error} />
      </form>
    </main>
  )
}

const App = () => {
  const session = useQuery({
    queryKey: ["session"],
    queryFn: async () => {
      try {
        return await get<Account>("/session")
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) return null
        throw e
      }
    }
  })
  let body: ReactNode
  if (session.isPending) body = <Loading what="your session" />
  else if (session.isError) body = <ErrorBox error={session.error} />
  else if (session.data === null) body = <SignIn />
  else body = <Shell me={session.data} />
  return <>{body}</>
}

const queries = new QueryClient({
  defaultOptions: {
    queries: {
      // a refused request will not succeed on a retry; a flaky network gets one more try
      retry: (n, e) => n < 1 && !(e instanceof ApiError && e.status > 0 && e.status < 500),
      refetchOnWindowFocus: false
    }
  }
})

const root = document.getElementById("root")
if (root !== null) {
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={queries}>
        <App />
      </QueryClientProvider>
    </StrictMode>
  )
}
