import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { Construct } from "constructs";
import type { ProjectRole } from "./project-role";

export interface ProjectTableProps {
  readonly tableName: string;
  /** String partition key. */
  readonly partitionKey: string;
}

/** A table's name and key schema as data (what a local DynamoDB needs to create it). */
export interface TableKeySchema {
  readonly tableName: string;
  /** String partition key. */
  readonly partitionKey: string;
}

/**
 * An on-demand DynamoDB table with point-in-time recovery, deletion protection and KMS
 * encryption; roles get access through its grant methods.
 */
export class ProjectTable extends Construct {
  readonly table: DynamodbTable;
  readonly tableName: string;
  readonly tableArn: string;
  /** The name and key schema as given, not Terraform references. */
  readonly keySchema: TableKeySchema;

  constructor(scope: Construct, id: string, props: ProjectTableProps) {
    super(scope, id);
    this.table = new DynamodbTable(this, "table", {
      name: props.tableName,
      billingMode: "PAY_PER_REQUEST",
      hashKey: props.partitionKey,
      attribute: [{ name: props.partitionKey, type: "S" }],
      pointInTimeRecovery: { enabled: true },
      deletionProtectionEnabled: true,
      serverSideEncryption: { enabled: true },
    });
    this.keySchema = { tableName: props.tableName, partitionKey: props.partitionKey };
    this.tableName = this.table.name;
    this.tableArn = this.table.arn;
  }

  /** Exactly these item actions, e.g. GetItem and UpdateItem for a conditional state change. */
  grant(role: ProjectRole, actions: readonly `dynamodb:${string}`[]): void {
    role.allow(`use-${this.node.id}`, [{ sid: "UseTable", actions, resources: [this.tableArn] }]);
  }

  grantReadData(role: ProjectRole): void {
    role.allow(`read-${this.node.id}`, [
      { sid: "ReadTable", actions: ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem"], resources: [this.tableArn] },
    ]);
  }

  grantReadWriteData(role: ProjectRole): void {
    role.allow(`read-write-${this.node.id}`, [
      {
        sid: "ReadWriteTable",
        actions: ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
        resources: [this.tableArn],
      },
    ]);
  }
}
