import { Effect, Layer, Redacted } from "effect"
import { AppConfig } from "../../shared/config/AppConfig.js"
import { auditLogLayer } from "./AuditLog.js"
import { masterKeyFromSecret } from "./Checkpointer.js"
import { subjectKeysLayer } from "./SubjectKeys.js"

/** The audit log on the process's Postgres, sealing personal parties with keys wrapped by PII_MASTER_KEY. */
export const AuditLogLive = Layer.unwrapEffect(
  Effect.map(AppConfig, (c) =>
    auditLogLayer().pipe(Layer.provide(subjectKeysLayer(masterKeyFromSecret(Redacted.value(c.privacy.piiMasterKey)))))
  )
)
