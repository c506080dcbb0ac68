/**
 * What another service may use of policy in-process: the version every decision names under the stack's
 * rule switches (GDPR_ENABLED, CCPA_ENABLED, UNKNOWN_REGION_REGIME), which the gateway's scan cache keys on,
 * and the reason a decision gives when the region is unknown. The rest of this folder is policy's own;
 * other services import this module, `Api.ts`, `Client.ts`, `Http.ts` or `Keys.ts` only
 * (services/Boundaries.test.ts).
 */
export { policySettingsOf, policyVersion, UNKNOWN_REGION_REASON } from "./Rules.js"
