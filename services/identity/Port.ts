/**
 * What another service may use of identity in-process: the `Identity` service, whose device-key check
 * (`authenticateDevice`) the gateway's rate limits use to name an API key's client. The rest of this folder is
 * identity's own; other services import this module, `Api.ts`, `Http.ts`, `Handlers.ts` or `Authenticate.ts`
 * only (services/Boundaries.test.ts).
 */
export { Identity } from "./Identity.js"
