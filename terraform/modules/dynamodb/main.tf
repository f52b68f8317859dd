# FileShare Plus tables. The key names, index names, sort key and TTL attribute are the ones
# src/aws/ddb_schema.h declares; tests/terraform/test_terraform.py compares the two files.

locals {
  users_table_name = "${var.name_prefix}-users"
  urls_table_name  = "${var.name_prefix}-urls"
  ssm_prefix       = "/fileshare/${var.environment}"

  # IAM actions the application (fileshare-fcgi, running as the ECS task role) needs: one per
  # DynamoDB operation the C code issues (ddb_op(h, "Op", ...) in src/, operator-only
  # src/admin_*.c excluded). TransactWriteItems is not an IAM action of its own: AWS authorizes
  # each Put/Update/Delete/ConditionCheck inside it with PutItem/UpdateItem/DeleteItem/
  # ConditionCheckItem. The test keeps this list equal to what src/ calls.
  # Exactly what the running app calls (tests/terraform derives it from src/); migration and
  # create-tables are operator commands run with the operator's own credentials.
  app_actions = [
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:UpdateItem",
  ]

  tags = merge(var.tags, { Component = "dynamodb" })
}

resource "aws_dynamodb_table" "users" {
  name                        = local.users_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "user_id"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "user_id"
    type = "S"
  }

  attribute {
    name = "email"
    type = "S"
  }

  # Lookup by (lower-cased) email at sign-in. Uniqueness is enforced by an email-claim item
  # written in the same transaction as the user, not by this index.
  global_secondary_index {
    name            = "email-index"
    hash_key        = "email"
    projection_type = "ALL"
  }

  # Revoked-token items ("token#<jti>") carry expires_at_ttl; DynamoDB removes them after.
  ttl {
    attribute_name = "expires_at_ttl"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = merge(local.tags, { Name = local.users_table_name })
}

resource "aws_dynamodb_table" "urls" {
  name                        = local.urls_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "short_code"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "short_code"
    type = "S"
  }

  attribute {
    name = "created_by_user"
    type = "S"
  }

  attribute {
    name = "created_at"
    type = "S"
  }

  # "My links, newest first": Query on created_by_user, ScanIndexForward=false on created_at
  # (RFC 3339 UTC strings sort in time order).
  global_secondary_index {
    name            = "user-index"
    hash_key        = "created_by_user"
    range_key       = "created_at"
    projection_type = "ALL"
  }

  # DynamoDB deletes expired links eventually (often days later); readers treat an item past
  # expires_at as gone, so TTL only reclaims space.
  ttl {
    attribute_name = "expires_at_ttl"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = merge(local.tags, { Name = local.urls_table_name })
}

# What the application may do, and nothing more: no CreateTable, DeleteTable, UpdateTable or
# DescribeTable (those are operator commands, run with the operator's own credentials).
data "aws_iam_policy_document" "app" {
  statement {
    sid     = "FileSharePlusTables"
    effect  = "Allow"
    actions = local.app_actions
    resources = [
      aws_dynamodb_table.users.arn,
      "${aws_dynamodb_table.users.arn}/index/*",
      aws_dynamodb_table.urls.arn,
      "${aws_dynamodb_table.urls.arn}/index/*",
    ]
  }
}

resource "aws_iam_policy" "app" {
  name        = "${var.name_prefix}-dynamodb-access"
  description = "FileShare Plus (${var.environment}): item-level access to the users and urls tables"
  policy      = data.aws_iam_policy_document.app.json
  tags        = local.tags
}

# Configuration for the deploy workflow and operators, under /fileshare/<environment>/
# (the names of the original deployment plan).
resource "aws_ssm_parameter" "users_table_name" {
  name        = "${local.ssm_prefix}/dynamodb_users_table_name"
  description = "FileShare Plus users table (DYNAMODB_USERS_TABLE_NAME)"
  type        = "String"
  value       = aws_dynamodb_table.users.name
  tags        = local.tags
}

resource "aws_ssm_parameter" "urls_table_name" {
  name        = "${local.ssm_prefix}/dynamodb_urls_table_name"
  description = "FileShare Plus urls table (DYNAMODB_URLS_TABLE_NAME)"
  type        = "String"
  value       = aws_dynamodb_table.urls.name
  tags        = local.tags
}

resource "aws_ssm_parameter" "users_table_arn" {
  name        = "${local.ssm_prefix}/dynamodb_users_table_arn"
  description = "ARN of the FileShare Plus users table"
  type        = "String"
  value       = aws_dynamodb_table.users.arn
  tags        = local.tags
}

resource "aws_ssm_parameter" "urls_table_arn" {
  name        = "${local.ssm_prefix}/dynamodb_urls_table_arn"
  description = "ARN of the FileShare Plus urls table"
  type        = "String"
  value       = aws_dynamodb_table.urls.arn
  tags        = local.tags
}

resource "aws_ssm_parameter" "policy_arn" {
  name        = "${local.ssm_prefix}/dynamodb_policy_arn"
  description = "ARN of the IAM policy granting the application its DynamoDB access"
  type        = "String"
  value       = aws_iam_policy.app.arn
  tags        = local.tags
}

# The deploy workflow copies this into the task's USE_DYNAMODB. Operators flip it to "false"
# to roll back (docs/deployment.md); Terraform sets it once and then leaves the value alone.
resource "aws_ssm_parameter" "use_dynamodb" {
  name        = "${local.ssm_prefix}/use_dynamodb"
  description = "USE_DYNAMODB for the FileShare Plus task (true, or false to fall back to SQLite)"
  type        = "String"
  value       = "true"
  tags        = local.tags

  lifecycle {
    ignore_changes = [value]
  }
}
