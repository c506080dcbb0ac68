import { runStack } from "../stacks/offline/harness.js"
import { checkReleaseValues, helmReleases } from "../stacks/offline/chartValues.js"
const run = await runStack(process.argv[2] ?? "prod")
for (const v of checkReleaseValues(helmReleases(run.resources))) console.log(v)
