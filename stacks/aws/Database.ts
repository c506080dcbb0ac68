// submodule imports: the root @pulumi/aws module makes tsc load every AWS service's types
import * as ec2 from "@pulumi/aws/ec2/index.js"
import type { Provider } from "@pulumi/aws/provider.js"
import * as rds from "@pulumi/aws/rds/index.js"
import * as pulumi from "@pulumi/pulumi"
import type { AwsConfig } from "../config.js"
import type { AwsNetwork } from "./Network.js"

export interface RdsArgs {
  readonly aws: AwsConfig
  readonly provider: Provider
  readonly network: AwsNetwork
  readonly kmsKeyArn: pulumi.Input<string>
  /** the EKS cluster security group: the only source admitted on 5432 */
  readonly clientSecurityGroupId: pulumi.Input<string>
}

/**
 * The guide's Postgres settings (PostgreSQL 15; TLS only; slow statements logged; pgaudit as on
 * Cloud SQL). `rds.force_ssl` refuses every unencrypted connection.
 */
export const RdsParameters: ReadonlyArray<{
  readonly name: string
  readonly value: string
  readonly applyMethod: "immediate" | "pending-reboot"
}> = [
  { name: "rds.force_ssl", value: "1", applyMethod: "immediate" },
  { name: "log_min_duration_statement", value: "1000", applyMethod: "immediate" },
  { name: "shared_preload_libraries", value: "pg_stat_statements,pgaudit", applyMethod: "pending-reboot" },
  { name: "pgaudit.log", value: "ddl,role", applyMethod: "immediate" }
]

/**
 * RDS for PostgreSQL 15 in the data subnets only, never publicly accessible, storage encrypted with
 * the stack's KMS key, automated backups (which is what point-in-time recovery restores from: any
 * second inside the retention window), Multi-AZ with a synchronous standby where configured.
 */
export class RdsDatabase extends pulumi.ComponentResource {
  readonly address: pulumi.Output<string>
  readonly databaseName = "brandme"
  readonly userName = "brandme"
  /** postgres://… with the password inside: a secret */
  readonly url: pulumi.Output<string>

  constructor(name: string, args: RdsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("brandme:cloud:RdsDatabase", name, {}, opts)
    const o = { parent: this, provider: args.provider }
    const a = args.aws

    const subnets = new rds.SubnetGroup(
      name,
      {
        subnetIds: [...args.network.dataSubnetIds],
        description: "Brand.Me Postgres: data subnets only",
        tags: { app: "brandme" }
      },
      o
    )
    const sg = new ec2.SecurityGroup(
      `${name}-sg`,
      {
        vpcId: args.network.vpcId,
        description: "Brand.Me Postgres: 5432 from the EKS cluster security group only",
        ingress: [{ protocol: "tcp", fromPort: 5432, toPort: 5432, securityGroups: [args.clientSecurityGroupId] }],
        egress: [],
        tags: { app: "brandme" }
      },
      o
    )
    const params = new rds.ParameterGroup(
      name,
      {
        family: "postgres15",
        description: "Brand.Me Postgres: TLS only, the guide's settings",
        parameters: RdsParameters.map((p) => ({ ...p })),
        tags: { app: "brandme" }
      },
      o
    )
    const instance = new rds.Instance(
      name,
      {
        identifier: name,
        engine: "postgres",
        engineVersion: "15",
        instanceClass: a.dbInstanceClass,
        allocatedStorage: a.dbDiskSizeGb,
        // storage autoscaling up to 4x, like Cloud SQL's auto-grow
        maxAllocatedStorage: a.dbDiskSizeGb * 4,
        storageType: "gp3",
        storageEncrypted: true,
        kmsKeyId: args.kmsKeyArn,
        dbName: this.databaseName,
        username: this.userName,
        password: a.databasePassword,
        port: 5432,
        dbSubnetGroupName: subnets.name,
        vpcSecurityGroupIds: [sg.id],
        publiclyAccessible: false,
        multiAz: a.dbHighAvailability,
        parameterGroupName: params.name,
        backupRetentionPeriod: a.dbBackupRetentionDays,
        backupWindow: "02:00-02:30",
        maintenanceWindow: "sun:03:00-sun:04:00",
        copyTagsToSnapshot: true,
        deleteAutomatedBackups: false,
        deletionProtection: a.dbDeletionProtection,
        skipFinalSnapshot: !a.dbDeletionProtection,
        finalSnapshotIdentifier: `${name}-final`,
        autoMinorVersionUpgrade: true,
        performanceInsightsEnabled: true,
        performanceInsightsKmsKeyId: args.kmsKeyArn,
        enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
        caCertIdentifier: "rds-ca-rsa2048-g1",
        tags: { app: "brandme" }
      },
      o
    )
    this.address = instance.address
    this.url = pulumi.secret(
      pulumi.interpolate`postgres://${this.userName}:${a.databasePassword.apply(encodeURIComponent)}@${instance.address}:5432/${this.databaseName}?sslmode=require`
    )
    this.registerOutputs({ address: this.address })
  }
}
