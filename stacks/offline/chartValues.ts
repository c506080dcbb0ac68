import { Ajv, type AnySchema, type ErrorObject } from "ajv"
import { Ajv2019 } from "ajv/dist/2019.js"
import { Ajv2020 } from "ajv/dist/2020.js"
import type { ChartRef } from "../charts.js"
import { isRecord } from "../../shared/Guards.js"
import { type ChartFixture, coalesce, FixturesRoot, loadFixture, MissingFixture } from "./chartFixtures.js"
import type { RecordedResource } from "./harness.js"
import type { Violations } from "./policy.js"
import { plain } from "./render.js"

/**
 * Helm ignores a values key its chart does not read, so a key from another chart or version is a
 * setting that silently does nothing. Every key the stack sets must exist in the pinned chart's
 * values.yaml (or sit in a map the chart documents as free-form, listed below), carry the type of
 * the chart's default, and the coalesced values must validate against the chart's values.schema.json.
 */

export interface FreeForm {
  /** dotted path; `*` matches any one key */
  readonly path: string
  /** where the chart documents it */
  readonly why: string
}

/** Maps whose keys are ours to choose, or keys the chart documents (commented out) in values.yaml. */
export const FreeFormValues: Readonly<Record<string, ReadonlyArray<FreeForm>>> = {
  "kube-prometheus-stack": [
    { path: "alertmanager.config", why: "Alertmanager's own configuration file (values.yaml: alertmanager.config)" },
    {
      path: "alertmanager.alertmanagerSpec.storage",
      why: "a StorageSpec (values.yaml shows volumeClaimTemplate commented out)"
    },
    {
      path: "prometheus.prometheusSpec.storageSpec",
      why: "a StorageSpec (values.yaml shows volumeClaimTemplate commented out)"
    },
    { path: "grafana.additionalDataSources", why: "Grafana datasource provisioning entries" },
    {
      path: "grafana.fullnameOverride",
      why: "read by the grafana subchart's templates/_helpers.tpl (grafana.fullname); values.yaml does not declare it"
    },
    {
      path: "grafana.sidecar.datasources.exemplarTraceIdDestinations",
      why: "values.yaml documents datasourceUid / traceIdLabelName commented out; templates/grafana/configmaps-datasources.yaml reads them"
    }
  ],
  loki: [
    { path: "loki.structuredConfig", why: "Loki's configuration file, merged over the generated one" },
    { path: "loki.schemaConfig", why: "Loki's schema_config" }
  ],
  tempo: [],
  "opentelemetry-collector": [
    { path: "config", why: "the collector's configuration file, merged over the chart's default" },
    { path: "ports.*", why: "named container/Service ports (values.schema.json: ports patternProperties)" },
    {
      path: "podDisruptionBudget.maxUnavailable",
      why: "values.yaml documents it commented out; templates/pdb.yaml reads it"
    }
  ],
  "ingress-nginx": [
    { path: "controller.config", why: "the controller ConfigMap's entries (nginx settings)" },
    {
      path: "controller.proxySetHeaders",
      why: "headers set on every proxied request, a header-name → value map (values.yaml: proxySetHeaders: {})"
    },
    {
      path: "controller.service.annotations",
      why: "the LoadBalancer Service's annotations, e.g. cloud aws's NLB (values.yaml: controller.service.annotations: {})"
    }
  ],
  "cert-manager": [],
  "external-secrets": [],
  nats: [
    { path: "*.merge", why: "patches merged into the generated object (values.yaml: merge/patch on each object)" },
    {
      path: "promExporter.podMonitor.merge",
      why: "the PodMonitor's merge patch (values.yaml: merge/patch on each object)"
    },
    {
      path: "podTemplate.topologySpreadConstraints",
      why: "map of topology key to constraint (values.yaml documents it commented out)"
    }
  ]
}

const kindOf = (v: unknown): string =>
  v === null ? "null" : Array.isArray(v) ? "array" : typeof v === "number" ? "number" : typeof v

const matches = (pattern: string, path: ReadonlyArray<string>): boolean => {
  const parts = pattern.split(".")
  return parts.length <= path.length && parts.every((p, i) => p === "*" || p === path[i])
}

/** Unknown keys and types unlike the chart default's, walking the values the stack sets. */
export const checkKeysAndTypes = (
  fixture: ChartFixture,
  values: Record<string, unknown>,
  freeForm: ReadonlyArray<FreeForm> = FreeFormValues[fixture.ref.chart] ?? []
): Violations => {
  const where = `${fixture.ref.chart} ${fixture.ref.version}`
  const v: Array<string> = []
  const walk = (path: ReadonlyArray<string>, value: unknown, def: unknown): void => {
    if (freeForm.some((f) => matches(f.path, path))) return
    const key = path.join(".")
    if (def === undefined) {
      v.push(`${where}: ${key} is not a key of the chart's values.yaml`)
      return
    }
    // null: the chart's "unset" (any value may replace it); a null of ours removes the default
    if (def === null || value === null) return
    if (kindOf(value) !== kindOf(def)) {
      v.push(`${where}: ${key} is ${kindOf(value)}, the chart's default is ${kindOf(def)}`)
      return
    }
    if (isRecord(value) && isRecord(def)) for (const [k, x] of Object.entries(value)) walk([...path, k], x, def[k])
  }
  for (const [k, x] of Object.entries(values)) walk([k], x, fixture.defaults[k])
  return v
}

const validatorFor = (schema: unknown) => {
  const s = isRecord(schema) ? schema : {}
  const dialect = typeof s.$schema === "string" ? s.$schema : ""
  const options = { strict: false, allErrors: true, validateFormats: false } as const
  if (dialect.includes("2020-12")) return new Ajv2020(options).compile(s)
  if (dialect.includes("2019-09")) return new Ajv2019(options).compile(s)
  // draft-07 and the unversioned "http://json-schema.org/schema#" some charts declare
  const { $schema: _ignored, ...rest } = s
  return new Ajv(options).compile<unknown>(rest satisfies AnySchema)
}

const describe = (e: ErrorObject): string =>
  `${e.instancePath === "" ? "(root)" : e.instancePath} ${e.message ?? e.keyword}${
    e.keyword === "additionalProperties" ? ` (${String(e.params.additionalProperty)})` : ""
  }`

/** The values Helm would render with (chart defaults coalesced with ours) against each values.schema.json. */
export const checkSchema = (fixture: ChartFixture, values: Record<string, unknown>): Violations => {
  const merged = coalesce(fixture.defaults, values)
  return Object.entries(fixture.schemas).flatMap(([sub, schema]) => {
    const validate = validatorFor(schema)
    const target = sub === "" ? merged : isRecord(merged) ? merged[sub] : undefined
    return validate(target)
      ? []
      : (validate.errors ?? []).map(
          (e) => `${fixture.ref.chart} ${fixture.ref.version}${sub === "" ? "" : ` (${sub})`}: schema: ${describe(e)}`
        )
  })
}

export const checkChartValues = (fixture: ChartFixture, values: Record<string, unknown>): Violations => [
  ...checkKeysAndTypes(fixture, values),
  ...checkSchema(fixture, values)
]

export interface ReleaseValues {
  readonly name: string
  readonly namespace: string
  readonly chart: ChartRef
  readonly values: Record<string, unknown>
}

/** The Helm releases a program run registered, with the values as Helm receives them. */
export const helmReleases = (rs: ReadonlyArray<RecordedResource>): ReadonlyArray<ReleaseValues> =>
  rs
    .filter((r) => r.type === "kubernetes:helm.sh/v3:Release")
    .map((r) => {
      const i = plain(r.inputs, true)
      const get = (k: string): unknown => (isRecord(i) ? i[k] : undefined)
      const repo = get("repositoryOpts")
      const values = get("values")
      return {
        name: r.name,
        namespace: String(get("namespace")),
        chart: {
          chart: String(get("chart")),
          version: String(get("version")),
          repo: isRecord(repo) ? String(repo.repo) : ""
        },
        values: isRecord(values) ? values : {}
      }
    })

/** Every release's values against its pinned chart; a release whose chart version has no fixture fails. */
export const checkReleaseValues = (releases: ReadonlyArray<ReleaseValues>, root = FixturesRoot): Violations =>
  releases.flatMap((r) => {
    try {
      return checkChartValues(loadFixture(r.chart, root), r.values).map((m) => `release ${r.name}: ${m}`)
    } catch (e) {
      if (e instanceof MissingFixture) return [`release ${r.name}: ${e.message}`]
      throw e
    }
  })
