// submodule imports: the root @pulumi/gcp module makes tsc load every GCP service's types
import * as sql from "@pulumi/gcp/sql/index.js"
import type { Provider } from "@pulumi/gcp/provider.js"
import * as pulumi from "@pulumi/pulumi"
import type { GcpConfig } from "../config.js"
import type { Network } from "./Network.js"

export interface DatabaseArgs {
  readonly gcp: GcpConfig
  readonly provider: Provider
  readonly network: Network
}

/**
 * Cloud SQL for PostgreSQL 15 on a private IP only (private service access), SSD storage,
 * backups with point-in-time recovery; prod adds REGIONAL availability and deletion protection.
 */
export class Database extends pulumi.ComponentResource {
  readonly privateIp: pulumi.Output<string>
  readonly connectionName: pulumi.Output<string>
  readonly databaseName = "brandme"
  readonly userName = "brandme"
  /** postgres://… with the password inside: a secret */
  readonly url: pulumi.Output<string>
  readonly caCert: pulumi.Output<string>

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("brandme:cloud:Database", name, {}, opts)
    const o = { parent: this, provider: args.provider }
    const g = args.gcp

    const instance = new sql.DatabaseInstance(
      name,
      {
        region: g.region,
        databaseVersion: "POSTGRES_15",
        deletionProtection: g.dbDeletionProtection,
        settings: {
          tier: g.dbTier,
          edition: "ENTERPRISE",
          availabilityType: g.dbHighAvailability ? "REGIONAL" : "ZONAL",
          diskType: "PD_SSD",
          diskSize: g.dbDiskSizeGb,
          diskAutoresize: true,
          deletionProtectionEnabled: g.dbDeletionProtection,
          ipConfiguration: {
            ipv4Enabled: false,
            privateNetwork: args.network.networkId,
            sslMode: "ENCRYPTED_ONLY"
          },
          backupConfiguration: {
            enabled: true,
            startTime: "02:00",
            pointInTimeRecoveryEnabled: g.dbPointInTimeRecovery,
            transactionLogRetentionDays: 7,
            backupRetentionSettings: { retainedBackups: 30, retentionUnit: "COUNT" }
          },
          maintenanceWindow: { day: 7, hour: 3, updateTrack: "stable" },
          insightsConfig: { queryInsightsEnabled: true },
          databaseFlags: [
            { name: "log_min_duration_statement", value: "1000" },
            { name: "cloudsql.enable_pgaudit", value: "on" }
          ]
        }
      },
      { ...o, dependsOn: [args.network.privateServiceAccess] }
    )
    new sql.Database(`${name}-db`, { instance: instance.name, name: this.databaseName }, o)
    new sql.User(
      `${name}-user`,
      { instance: instance.name, name: this.userName, password: args.gcp.databasePassword },
      o
    )

    this.privateIp = instance.privateIpAddress
    this.connectionName = instance.connectionName
    this.caCert = instance.serverCaCerts.apply((certs) => certs.map((c) => c.cert).join("\n"))
    this.url = pulumi.secret(
      pulumi.interpolate`postgres://${this.userName}:${args.gcp.databasePassword.apply(encodeURIComponent)}@${instance.privateIpAddress}:5432/${this.databaseName}?sslmode=require`
    )
    this.registerOutputs({ privateIp: this.privateIp, connectionName: this.connectionName })
  }
}
