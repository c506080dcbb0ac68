import type { ReactNode } from "react"
import type { Role } from "./api.js"

/** Pages for admins only (the API refuses others anyway; this says so instead of showing its 403s). */
export const AdminOnly = ({ role, children }: { readonly role: Role; readonly children: ReactNode }) =>
  role === "admin" ? <>{children}</> : <p role="alert">This page is for admins.</p>
