variable "name_prefix" {
  description = "Prefix of every name, e.g. file-sharing-app-dev."
  type        = string
}

variable "environment" {
  description = "Environment name; the application metrics go to namespace FileSharePlus/<environment>."
  type        = string
}

variable "aws_region" {
  description = "Region of the dashboard's metrics."
  type        = string
}

variable "table_names" {
  description = "DynamoDB tables to watch (users and urls)."
  type        = list(string)
}

variable "dynamodb_operations" {
  description = "Operations whose ThrottledRequests/SystemErrors are summed per table. DynamoDB publishes both metrics per (TableName, Operation) only, and an alarm may read at most 10 metrics."
  type        = list(string)
  default     = ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchWriteItem", "TransactWriteItems"]

  validation {
    condition     = length(var.dynamodb_operations) > 0 && length(var.dynamodb_operations) <= 10
    error_message = "dynamodb_operations must list 1 to 10 operations (CloudWatch alarm metric limit)."
  }
}

variable "cluster_name" {
  description = "ECS cluster (Container Insights enabled)."
  type        = string
}

variable "service_name" {
  description = "ECS service."
  type        = string
}

variable "alb_arn_suffix" {
  description = "LoadBalancer dimension of the ALB metrics."
  type        = string
}

variable "target_group_arn_suffix" {
  description = "TargetGroup dimension of the ALB metrics."
  type        = string
}

variable "app_log_group_name" {
  description = "Log group of the app container: one JSON object per line."
  type        = string
}

variable "alarm_email" {
  description = "Email address subscribed to the alarm topic (confirm the subscription mail); empty for none."
  type        = string
  default     = ""
}

variable "dynamodb_throttle_threshold" {
  description = "Throttled requests per table per 5 minutes that raise the alarm."
  type        = number
  default     = 1
}

variable "target_5xx_threshold" {
  description = "5xx responses from the tasks per 5 minutes that raise the alarm."
  type        = number
  default     = 10
}

variable "error_rate_threshold_percent" {
  description = "Share of the app's responses with status >= 500, in percent over 5 minutes, that raises the alarm."
  type        = number
  default     = 5
}

variable "error_rate_min_requests" {
  description = "Requests per 5 minutes below which the error-rate alarm stays quiet (one failure among three requests is not an outage)."
  type        = number
  default     = 20
}

variable "error_log_threshold" {
  description = "Lines with \"level\":\"error\" per 5 minutes that raise the alarm."
  type        = number
  default     = 10
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
