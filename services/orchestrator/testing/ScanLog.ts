/**
 * For tests that read the `scans` queue while no orchestrator runs: one run of the scan log's relay until the log is
 * empty (what a running orchestrator's relay does continuously), on the given Queues layer.
 */
import { Effect, type Layer } from "effect"
import type { Queues } from "../../../shared/layers/Queues.js"
import { relayScanLogOnce as relayOnce } from "../scans/Relay.js"

export const relayScanLogOnce = <E>(queues: Layer.Layer<Queues, E>) =>
  Effect.runPromise(relayOnce().pipe(Effect.provide(queues)))
