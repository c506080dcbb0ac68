import type { HttpApiBuilder, HttpApiGroup } from "@effect/platform"

/**
 * The handlers of one API group as a group builder takes them, with the group's own errors (declared with
 * `.addError` on the group) allowed — so a service's `xxxHandlers` can be mounted on its own API and on the
 * gateway's (`HttpApiBuilder.group(GatewayApi, "name", xxxHandlers)`).
 */
export type GroupHandlers<Group extends HttpApiGroup.HttpApiGroup.Any, E, Provides, R> = HttpApiBuilder.Handlers<
  E | HttpApiGroup.HttpApiGroup.Error<Group>,
  Provides,
  R,
  HttpApiGroup.HttpApiGroup.Endpoints<Group>
>
