variable "name_prefix" {
  description = "Prefix of every name, e.g. file-sharing-app-dev."
  type        = string
}

variable "environment" {
  description = "Environment name; the SSM parameter is /fileshare/<environment>/s3_bucket."
  type        = string
}

variable "bucket_name" {
  description = "S3 bucket name. Bucket names are global across all AWS accounts: null uses <name_prefix>-blobs-<account id>."
  type        = string
  default     = null
}

variable "allowed_origins" {
  description = "Origins allowed to POST to the bucket (browser uploads with presigned POST), normally just PUBLIC_BASE_URL, e.g. [\"https://files.example.com\"]."
  type        = list(string)

  validation {
    condition     = length(var.allowed_origins) > 0 && alltrue([for o in var.allowed_origins : can(regex("^https?://[^/]+$", o))])
    error_message = "allowed_origins must list at least one origin of the form https://host[:port] (no path, no trailing slash)."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for SSE-KMS; null uses SSE-S3 (AES256), which needs no key permissions."
  type        = string
  default     = null
}

variable "force_destroy" {
  description = "Let terraform destroy delete a bucket that still holds files (dev only)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
