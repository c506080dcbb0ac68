import { jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"

/**
 * Deletes every JetStream stream whose name starts with `streamPrefix` (a test run's own NATS_STREAM_PREFIX).
 * Stream subjects are global on the server: a stream a run leaves behind keeps capturing `brandme.*` subjects,
 * so the next run (or a developer's `npm start`) would publish into it instead of its own.
 */
/** a run's NATS_SUBJECT_PREFIX from its id (subject tokens take a-z, 0-9, _ and -) */
export const subjectPrefixOf = (id: string): string => id.toLowerCase().replace(/[^a-z0-9_-]/g, "_")

export const deleteStreams = async (streamPrefix: string, servers = "127.0.0.1:4222"): Promise<void> => {
  const nc = await connect({ servers })
  try {
    const jsm = await jetstreamManager(nc)
    const names: Array<string> = []
    for await (const s of jsm.streams.list()) if (s.config.name.startsWith(streamPrefix)) names.push(s.config.name)
    for (const name of names) await jsm.streams.delete(name).catch(() => false)
  } finally {
    await nc.close()
  }
}
