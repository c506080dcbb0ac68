/** `npm run gen:privacy`: writes docs/privacy.md from the policy rules (services/policy/Rules.ts). */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { renderPrivacyDoc } from "../services/policy/PrivacyDoc.js"

writeFileSync(join(import.meta.dirname, "..", "docs", "privacy.md"), renderPrivacyDoc())
console.log("wrote docs/privacy.md")
