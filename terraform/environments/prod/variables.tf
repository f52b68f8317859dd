variable "environment" {
  description = "Environment name. This directory's state holds the prod environment only."
  type        = string
  default     = "prod"

  validation {
    condition     = var.environment == "prod"
    error_message = "This is terraform/environments/prod: use -var-file=prod.tfvars (environment = \"prod\")."
  }
}

variable "project" {
  description = "Name prefix of every resource: <project>-<environment>-users, -urls, -cluster, ..."
  type        = string
  default     = "file-sharing-app"
}

variable "aws_region" {
  description = "AWS region of the whole environment."
  type        = string
  default     = "us-east-2"
}

variable "domain_name" {
  description = "Host name of the service (PUBLIC_BASE_URL = https://<domain_name>)."
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate (ISSUED, same region) covering domain_name."
  type        = string
}

variable "route53_zone_id" {
  description = "Hosted zone in which to create the domain_name alias record; null to manage DNS yourself."
  type        = string
  default     = null
}

variable "vpc_id" {
  description = "VPC to run in; null uses the account's default VPC (public subnets, tasks get public IPs)."
  type        = string
  default     = null
}

variable "public_subnet_ids" {
  description = "Subnets for the load balancer; empty uses every subnet of the VPC (right for the default VPC only)."
  type        = list(string)
  default     = []
}

variable "private_subnet_ids" {
  description = "Subnets for the tasks (with a NAT gateway or VPC endpoints); empty runs the tasks in the load balancer's subnets with public IPs."
  type        = list(string)
  default     = []
}

variable "alb_ingress_cidrs" {
  description = "Who may reach the load balancer."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "point_in_time_recovery" {
  description = "DynamoDB point-in-time recovery (35 days of continuous backups)."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "DynamoDB deletion protection."
  type        = bool
  default     = true
}

variable "alb_deletion_protection" {
  description = "Load balancer deletion protection."
  type        = bool
  default     = true
}

variable "s3_bucket_name" {
  description = "Blobs bucket name; null uses <project>-<environment>-blobs-<account id>."
  type        = string
  default     = null
}

variable "s3_force_destroy" {
  description = "Let terraform destroy remove the bucket with its files."
  type        = bool
  default     = false
}

variable "task_cpu" {
  description = "Fargate CPU units per task."
  type        = number
  default     = 512
}

variable "task_memory" {
  description = "Fargate memory (MiB) per task."
  type        = number
  default     = 1024
}

variable "app_workers" {
  description = "fileshare-fcgi workers per task."
  type        = number
  default     = 2
}

variable "desired_count" {
  description = "Tasks when the service is created."
  type        = number
  default     = 2
}

variable "min_capacity" {
  description = "Autoscaling minimum."
  type        = number
  default     = 2
}

variable "max_capacity" {
  description = "Autoscaling maximum."
  type        = number
  default     = 6
}

variable "app_settings" {
  description = "Further app settings by their src/config.c names (limits, LOG_LEVEL is separate)."
  type        = map(string)
  default     = {}
}

variable "log_level" {
  description = "App LOG_LEVEL."
  type        = string
  default     = "info"
}

variable "log_retention_days" {
  description = "Days to keep container logs."
  type        = number
  default     = 90
}

variable "alarm_email" {
  description = "Where alarms are mailed; empty for none."
  type        = string
  default     = ""
}

variable "github_repository" {
  description = "owner/name of the repository whose deploy-backend workflow deploys here; empty for no deploy role."
  type        = string
  default     = ""
}

variable "create_github_oidc_provider" {
  description = "Create the account's GitHub OIDC provider (true in exactly one environment per AWS account)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}
