variable "name_prefix" {
  description = "Prefix of every name, e.g. file-sharing-app-dev (cluster <prefix>-cluster, service <prefix>-service)."
  type        = string

  validation {
    # The ALB and target group names (<prefix>-alb, <prefix>-tg) are limited to 32 characters.
    condition     = can(regex("^[a-zA-Z0-9-]{1,28}$", var.name_prefix))
    error_message = "name_prefix must be at most 28 letters, digits or '-' (load balancer name limits)."
  }
}

variable "environment" {
  description = "Environment name; SSM parameters go under /fileshare/<environment>/."
  type        = string
}

variable "aws_region" {
  description = "Region of the tables and bucket (the task's AWS_REGION)."
  type        = string
}

# --- network -------------------------------------------------------------------------------

variable "vpc_id" {
  description = "VPC of the load balancer and the tasks."
  type        = string
}

variable "alb_subnet_ids" {
  description = "Public subnets (two or more availability zones) for the load balancer."
  type        = list(string)
}

variable "task_subnet_ids" {
  description = "Subnets for the tasks. Private subnets need a NAT gateway (or VPC endpoints for ECR, S3, DynamoDB, SSM, Logs); public subnets need assign_public_ip = true."
  type        = list(string)
}

variable "assign_public_ip" {
  description = "Give each task a public IP (needed in public subnets without NAT, e.g. the default VPC)."
  type        = bool
  default     = false
}

variable "alb_ingress_cidrs" {
  description = "IPv4 ranges allowed to reach the load balancer on ports 80 and 443."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

# --- HTTPS ---------------------------------------------------------------------------------

variable "domain_name" {
  description = "Host name the service answers on (PUBLIC_BASE_URL is https://<domain_name>); the ACM certificate must cover it."
  type        = string
}

variable "certificate_arn" {
  description = "ARN of an ISSUED ACM certificate for domain_name, in the same region as the load balancer."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-zA-Z-]*:acm:", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN (arn:aws:acm:REGION:ACCOUNT:certificate/ID)."
  }
}

variable "ssl_policy" {
  description = "TLS policy of the HTTPS listener."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone to create the domain_name alias record in; null to manage DNS elsewhere (point a CNAME at the alb_dns_name output)."
  type        = string
  default     = null
}

variable "alb_idle_timeout" {
  description = "Load balancer idle timeout in seconds. Kept below nginx's keepalive_timeout (30 s) so nginx never closes a connection the load balancer is about to reuse."
  type        = number
  default     = 25
}

variable "alb_deletion_protection" {
  description = "Refuse to delete the load balancer (prod)."
  type        = bool
  default     = false
}

# --- task ----------------------------------------------------------------------------------

variable "image_tag" {
  description = "Image tag Terraform puts in its task definition revision. The deploy workflow registers its own revisions with the commit's tag and the service keeps using those."
  type        = string
  default     = "latest"
}

variable "task_cpu" {
  description = "Fargate task CPU units (256, 512, 1024, ...), shared by nginx and the app."
  type        = number
  default     = 512
}

variable "task_memory" {
  description = "Fargate task memory in MiB (must be valid for task_cpu)."
  type        = number
  default     = 1024
}

variable "app_workers" {
  description = "fileshare-fcgi worker processes per task (WORKERS)."
  type        = number
  default     = 2
}

variable "nginx_workers" {
  description = "nginx worker processes per task."
  type        = number
  default     = 1
}

variable "log_level" {
  description = "LOG_LEVEL of the app: debug, info, warn or error."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["debug", "info", "warn", "error"], var.log_level)
    error_message = "log_level must be debug, info, warn or error."
  }
}

variable "app_settings" {
  description = "Further settings for the app container, by the names src/config.c reads (e.g. FREE_MAX_FILE_SIZE, PURGE_INTERVAL). The settings this module manages win over these."
  type        = map(string)
  default     = {}
}

variable "log_retention_days" {
  description = "Days to keep the app and nginx logs."
  type        = number
  default     = 30
}

variable "enable_execute_command" {
  description = "Allow ECS Exec into the tasks (the deploy workflow runs fileshare-admin trial-status through it)."
  type        = bool
  default     = true
}

# --- what the app talks to -----------------------------------------------------------------

variable "use_dynamodb" {
  description = "USE_DYNAMODB in Terraform's task definition (the deploy workflow takes it from SSM /fileshare/<env>/use_dynamodb)."
  type        = bool
  default     = true
}

variable "users_table_name" {
  description = "DYNAMODB_USERS_TABLE_NAME."
  type        = string
}

variable "urls_table_name" {
  description = "DYNAMODB_URLS_TABLE_NAME."
  type        = string
}

variable "s3_bucket_name" {
  description = "S3_BUCKET (BLOB_BACKEND is always s3 here)."
  type        = string
}

variable "dynamodb_policy_arn" {
  description = "IAM policy (from the dynamodb module) attached to the task role."
  type        = string
}

variable "s3_policy_arn" {
  description = "IAM policy (from the blobs module) attached to the task role."
  type        = string
}

variable "session_secret_kms_key_arn" {
  description = "KMS key encrypting the SESSION_SECRET parameter; null uses the AWS-managed alias/aws/ssm key."
  type        = string
  default     = null
}

# --- scaling -------------------------------------------------------------------------------

variable "desired_count" {
  description = "Tasks at creation; afterwards CPU autoscaling owns the count."
  type        = number
  default     = 1
}

variable "min_capacity" {
  description = "Fewest tasks autoscaling keeps."
  type        = number
  default     = 1
}

variable "max_capacity" {
  description = "Most tasks autoscaling starts."
  type        = number
  default     = 4
}

variable "cpu_target_percent" {
  description = "Average service CPU utilisation the target-tracking policy aims for."
  type        = number
  default     = 60
}

# --- deploy workflow (GitHub Actions OIDC) -------------------------------------------------

variable "github_repository" {
  description = "owner/name of the GitHub repository whose deploy-backend workflow may deploy this environment; empty creates no deploy role."
  type        = string
  default     = ""
}

variable "create_github_oidc_provider" {
  description = "Create the account's token.actions.githubusercontent.com OIDC provider (once per AWS account; other environments in the account look it up)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
