/**
 * What another process may use of the orchestrator in-process: the handlers of its ops and webhooks groups,
 * which the gateway serves for admins and brands. Nothing here starts a worker or loads the queue runtime
 * (`Http.ts` does); the rest of this folder is the orchestrator's own (services/Boundaries.test.ts).
 */
export { opsHandlers } from "./Ops.js"
export { WebhookSubscriptions, webhooksHandlers } from "./Subscriptions.js"
