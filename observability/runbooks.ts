/**
 * Every runbook an alert may link to. The runbooks live in `docs/runbooks/<name>.md` (written apart
 * from the rules); the rule tests check each alert links to one of these, and the runbook test checks
 * each of these files exists.
 */
export const RunbookNames = [
  "service-down",
  "exporter-down",
  "high-latency",
  "high-error-rate",
  "audit-integrity-violation",
  "backup-failure",
  "queue-backlog",
  "scan-log-backlog",
  "workers-down",
  "chain-transaction-failures",
  "database-pool-exhausted",
  "slow-queries",
  "escalation-rate",
  "resource-pressure",
  "redis-memory",
  "slo-burn"
] as const

export type RunbookName = (typeof RunbookNames)[number]

export const RunbookBaseUrl = "https://github.com/brandme/platform/blob/main/docs/runbooks"

export const runbookUrl = (name: RunbookName): string => `${RunbookBaseUrl}/${name}.md`

/** The repository path of a runbook, for tests that check the file exists. */
export const runbookPath = (name: RunbookName): string => `docs/runbooks/${name}.md`
