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
 * What a grant needs of a table. A table built here (`ProjectTable`) and one another stack owns
 * (`TableReference.fromAttributes`, from that stack's typed outputs) grant the same way, so the
 * action lists live here, beside the resource type, and nowhere in the stacks.
 */
export abstract class GrantableTable extends Construct {
  abstract readonly tableName: string;
  abstract readonly tableArn: string;

  /** Exactly these item actions, e.g. GetItem and UpdateItem for a conditional state change. */
  grant(role: ProjectRole, actions: readonly `dynamodb:${string}`[]): void {
    role.allow(`use-${this.node.id}`, [{ sid: "UseTable", actions, resources: [this.tableArn] }]);
  }

  grantReadData(role: ProjectRole): void {
    role.allow(`read-${this.node.id}`, [
      { sid: "ReadTable", actions: ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem"], resources: [this.tableArn] },
    ]);
  }

  /** Reads, puts and (conditional) updates of single items by key: no scans, queries or deletes. */
  grantItemReadWrite(role: ProjectRole): void {
    role.allow(`item-read-write-${this.node.id}`, [
      { sid: "ReadWriteItems", actions: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], resources: [this.tableArn] },
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

/** A table another stack owns, known by its name and ARN (that stack's typed outputs); creates nothing. */
export class TableReference extends GrantableTable {
  readonly tableName: string;
  readonly tableArn: string;

  static fromAttributes(scope: Construct, id: string, attributes: { readonly tableName: string; readonly tableArn: string }): TableReference {
    return new TableReference(scope, id, attributes);
  }

  private constructor(scope: Construct, id: string, attributes: { readonly tableName: string; readonly tableArn: string }) {
    super(scope, id);
    this.tableName = attributes.tableName;
    this.tableArn = attributes.tableArn;
  }
}

/**
 * An on-demand DynamoDB table with point-in-time recovery, deletion protection and KMS
 * encryption; roles get access through its grant methods.
 */
export class ProjectTable extends GrantableTable {
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
}
