variable "name_prefix" {
  description = "Prefix of every name, e.g. file-sharing-app-dev: the tables become <prefix>-users and <prefix>-urls."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{3,200}$", var.name_prefix))
    error_message = "name_prefix may hold only letters, digits, '_', '-' and '.' (DynamoDB table name rules)."
  }
}

variable "environment" {
  description = "Environment name (dev, prod, ...). SSM parameters go under /fileshare/<environment>/."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9-]+$", var.environment))
    error_message = "environment must be lower-case letters, digits and '-'."
  }
}

variable "point_in_time_recovery" {
  description = "Continuous backups (point-in-time recovery, 35 days) on both tables. On by default; dev turns it off to save cost."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "Refuse DeleteTable on both tables (set in prod). Terraform destroy fails until it is turned off."
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for encryption at rest; null uses the AWS-managed key alias/aws/dynamodb."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
