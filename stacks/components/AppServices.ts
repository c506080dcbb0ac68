import { createHash } from "node:crypto"
import * as k8s from "@pulumi/kubernetes"
import * as pulumi from "@pulumi/pulumi"
import { Backups } from "../../observability/topology.js"
import { SecretDefs } from "../secrets.js"
import type { WorkloadSpec } from "../workloads.js"
import { DataExporters } from "./Exporters.js"
import { CaBundleFile, type PodShape, podSpec } from "./pod.js"
import { labelsFor, Workload } from "./Workload.js"

export const WorkloadServiceAccount = "brandme-workloads"
export const MigrateCommand = ["node", "dist/migrations/cli.js", "up"] as const
/** `npm run backup` in the image (compiled; the runtime stage has no tsx) */
export const BackupCommand = ["node", "dist/scripts/backup.js"] as const
export const BackupDir = "/var/backups/brandme"

export interface AppServicesArgs {
  readonly provider: k8s.Provider
  readonly namespace: k8s.core.v1.Namespace
  readonly image: pulumi.Input<string>
  /** the tag alone names the migration Job, so a new release runs a new Job */
  readonly imageTag: string
  readonly workloads: ReadonlyArray<WorkloadSpec>
  readonly env: Readonly<Record<string, pulumi.Input<string>>>
  /** the cloud's annotations on the workloads' service account (GKE: the GSA bound through workload identity) */
  readonly serviceAccountAnnotations: Readonly<Record<string, pulumi.Input<string>>>
  /** cloud gcp: CA certificates of Cloud SQL and Memorystore */
  readonly caBundle: pulumi.Input<string> | undefined
  readonly terminationGracePeriodSeconds: number
  readonly secretsReady: ReadonlyArray<pulumi.Resource>
  readonly monitoring: pulumi.Resource
}

/** The service account, the migration Job, then every service of the catalog. */
export class AppServices extends pulumi.ComponentResource {
  readonly migration: k8s.batch.v1.Job
  readonly deployments: ReadonlyArray<k8s.apps.v1.Deployment>

  constructor(name: string, args: AppServicesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("brandme:platform:Services", name, {}, opts)
    const o = { parent: this, provider: args.provider }
    const namespace = args.namespace.metadata.name

    const ksa = new k8s.core.v1.ServiceAccount(
      WorkloadServiceAccount,
      {
        metadata: {
          name: WorkloadServiceAccount,
          namespace,
          labels: { "app.kubernetes.io/part-of": "brandme" },
          ...(Object.keys(args.serviceAccountAnnotations).length === 0
            ? {}
            : { annotations: { ...args.serviceAccountAnnotations } })
        },
        automountServiceAccountToken: false
      },
      { ...o, dependsOn: [args.namespace] }
    )
    const ca =
      args.caBundle === undefined
        ? undefined
        : new k8s.core.v1.ConfigMap(
            "brandme-ca-bundle",
            { metadata: { name: "brandme-ca-bundle", namespace }, data: { [CaBundleFile]: args.caBundle } },
            { ...o, dependsOn: [args.namespace] }
          )

    const shape: PodShape = {
      image: args.image,
      serviceAccountName: WorkloadServiceAccount,
      env: args.env,
      caBundleConfigMap: ca === undefined ? undefined : "brandme-ca-bundle",
      terminationGracePeriodSeconds: args.terminationGracePeriodSeconds
    }
    const before = [ksa, ...(ca === undefined ? [] : [ca]), ...args.secretsReady]

    const jobName = `migrate-${createHash("sha256").update(args.imageTag).digest("hex").slice(0, 10)}`
    const jobPod = podSpec(shape, {
      name: "migrate",
      env: { SERVICE: "migrate" },
      secretsOf: "migrate",
      resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
      command: MigrateCommand
    })
    // Pulumi waits for a Job to complete, so every Deployment below (dependsOn) rolls out only
    // after the schema is migrated; a failed migration stops the update before any pod changes.
    this.migration = new k8s.batch.v1.Job(
      "migrate",
      {
        metadata: { name: jobName, namespace, labels: labelsFor("migrate", "migrate") },
        spec: {
          backoffLimit: 2,
          activeDeadlineSeconds: 900,
          template: {
            metadata: { labels: labelsFor("migrate", "migrate") },
            spec: { ...jobPod, restartPolicy: "Never" }
          }
        }
      },
      { ...o, dependsOn: before, deleteBeforeReplace: true }
    )

    this.deployments = args.workloads.map(
      (spec) =>
        new Workload(
          spec.name,
          {
            provider: args.provider,
            namespace,
            spec,
            pod: shape,
            after: [this.migration, ...before],
            monitoring: args.monitoring
          },
          { parent: this }
        ).deployment
    )
    // the nightly logical backup (`npm run backup`, compiled): dumps to its volume, records its success in the
    // queue Redis for BackupStale (observability/topology.ts Backups). Cloud SQL's own backups and PITR run besides.
    const backupPod = podSpec(shape, {
      name: "backup",
      env: { SERVICE: "backup", BACKUP_DIR: BackupDir },
      secretsOf: "migrate",
      resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
      command: BackupCommand
    })
    const queueUrl = SecretDefs.find((d) => d.env === "REDIS_QUEUE_URL")?.target
    const backupVolume = new k8s.core.v1.PersistentVolumeClaim(
      "backups",
      {
        metadata: { name: "backups", namespace, labels: labelsFor("backup", "backup") },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "20Gi" } } }
      },
      { ...o, dependsOn: [args.namespace] }
    )
    new k8s.batch.v1.CronJob(
      "backup",
      {
        metadata: { name: "backup", namespace, labels: labelsFor("backup", "backup") },
        spec: {
          schedule: Backups.schedule,
          timeZone: "Etc/UTC",
          concurrencyPolicy: "Forbid",
          startingDeadlineSeconds: 3600,
          successfulJobsHistoryLimit: 3,
          failedJobsHistoryLimit: 5,
          jobTemplate: {
            spec: {
              backoffLimit: 2,
              activeDeadlineSeconds: 3600,
              template: {
                metadata: { labels: labelsFor("backup", "backup") },
                spec: {
                  ...backupPod,
                  restartPolicy: "Never",
                  volumes: [...backupPod.volumes, { name: "backups", persistentVolumeClaim: { claimName: "backups" } }],
                  containers: backupPod.containers.map((c) => ({
                    ...c,
                    env: [
                      ...c.env,
                      ...(queueUrl === undefined
                        ? []
                        : [
                            {
                              name: "REDIS_QUEUE_URL",
                              valueFrom: { secretKeyRef: { name: queueUrl.secret, key: queueUrl.key, optional: false } }
                            }
                          ])
                    ],
                    volumeMounts: [...c.volumeMounts, { name: "backups", mountPath: BackupDir }]
                  }))
                }
              }
            }
          }
        }
      },
      { ...o, dependsOn: [...before, backupVolume, this.migration] }
    )

    new DataExporters(
      "exporters",
      {
        provider: args.provider,
        namespace,
        caBundleConfigMap: shape.caBundleConfigMap,
        after: before,
        monitoring: args.monitoring
      },
      { parent: this }
    )
    this.registerOutputs({ migrationJob: this.migration.metadata.name })
  }
}
