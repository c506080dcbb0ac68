/** `npm run build` (after tsc): the console app's browser bundle, dist/console/app.js. */
import { writeAppBundle } from "../services/console/Bundle.js"

const b = await writeAppBundle()
console.log(`wrote dist/console/app.js (${Math.round(b.bytes / 1024)} KiB)`)
