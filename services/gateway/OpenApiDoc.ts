import * as OpenApi from "@effect/platform/OpenApi"
import { BrainApi } from "../brain/Api.js"
import { KnowledgeApi } from "../knowledge/Api.js"
import { PolicyApi } from "../policy/Api.js"
import { GatewayApi } from "./Api.js"

/** The committed OpenAPI documents (docs/openapi/<name>.json), generated from each contract. */
export const OpenApiDocs = {
  gateway: () => OpenApi.fromApi(GatewayApi),
  brain: () => OpenApi.fromApi(BrainApi),
  policy: () => OpenApi.fromApi(PolicyApi),
  knowledge: () => OpenApi.fromApi(KnowledgeApi)
} as const

export type OpenApiDocName = keyof typeof OpenApiDocs

export const renderOpenApi = (name: OpenApiDocName): string =>
  `${JSON.stringify(
    {
      "x-generated": "DO NOT EDIT: generated from the service's Api.ts by `npm run gen:openapi`",
      ...OpenApiDocs[name]()
    },
    null,
    2
  )}\n`
