# One dashboard with the alarms' metrics: app traffic and errors, ALB, ECS tasks and CPU,
# DynamoDB throttles, errors and latency per table.

locals {
  dynamodb_search = {
    for metric in ["ThrottledRequests", "SystemErrors", "SuccessfulRequestLatency"] : metric => [
      for t in var.table_names : {
        expression = "SEARCH('{AWS/DynamoDB,Operation,TableName} MetricName=\"${metric}\" TableName=\"${t}\"', '${metric == "SuccessfulRequestLatency" ? "Average" : "Sum"}', 60)"
        label      = t
      }
    ]
  }

  dashboard_widgets = [
    {
      type   = "alarm"
      x      = 0
      y      = 0
      width  = 24
      height = 3
      properties = {
        title  = "Alarms"
        alarms = concat(
          [for a in aws_cloudwatch_metric_alarm.dynamodb_throttled_requests : a.arn],
          [for a in aws_cloudwatch_metric_alarm.dynamodb_system_errors : a.arn],
          [
            aws_cloudwatch_metric_alarm.ecs_running_below_desired.arn,
            aws_cloudwatch_metric_alarm.alb_target_5xx.arn,
            aws_cloudwatch_metric_alarm.app_error_rate.arn,
            aws_cloudwatch_metric_alarm.app_error_lines.arn,
          ],
        )
      }
    },
    {
      type   = "metric"
      x      = 0
      y      = 3
      width  = 12
      height = 6
      properties = {
        title   = "App: requests, 5xx, error lines (from the JSON log)"
        region  = var.aws_region
        view    = "timeSeries"
        stat    = "Sum"
        period  = 60
        metrics = [
          [local.app_namespace, "Requests", { id = "requests" }],
          [local.app_namespace, "ServerErrors", { id = "errors" }],
          [local.app_namespace, "ErrorLogLines"],
          [{ expression = "100 * FILL(errors, 0) / requests", label = "5xx %", id = "rate", yAxis = "right" }],
        ]
      }
    },
    {
      type   = "metric"
      x      = 12
      y      = 3
      width  = 12
      height = 6
      properties = {
        title   = "Load balancer"
        region  = var.aws_region
        view    = "timeSeries"
        period  = 60
        metrics = [
          ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", var.alb_arn_suffix, { stat = "Sum" }],
          ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", var.alb_arn_suffix, "TargetGroup", var.target_group_arn_suffix, { stat = "Sum" }],
          ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", var.alb_arn_suffix, { stat = "Sum" }],
          ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", var.alb_arn_suffix, { stat = "p95", yAxis = "right" }],
        ]
      }
    },
    {
      type   = "metric"
      x      = 0
      y      = 9
      width  = 12
      height = 6
      properties = {
        title   = "ECS tasks (Container Insights)"
        region  = var.aws_region
        view    = "timeSeries"
        stat    = "Average"
        period  = 60
        metrics = [
          ["ECS/ContainerInsights", "DesiredTaskCount", "ClusterName", var.cluster_name, "ServiceName", var.service_name],
          ["ECS/ContainerInsights", "RunningTaskCount", "ClusterName", var.cluster_name, "ServiceName", var.service_name],
          ["ECS/ContainerInsights", "PendingTaskCount", "ClusterName", var.cluster_name, "ServiceName", var.service_name],
        ]
      }
    },
    {
      type   = "metric"
      x      = 12
      y      = 9
      width  = 12
      height = 6
      properties = {
        title   = "ECS CPU and memory (%)"
        region  = var.aws_region
        view    = "timeSeries"
        stat    = "Average"
        period  = 60
        metrics = [
          ["AWS/ECS", "CPUUtilization", "ClusterName", var.cluster_name, "ServiceName", var.service_name],
          ["AWS/ECS", "MemoryUtilization", "ClusterName", var.cluster_name, "ServiceName", var.service_name],
        ]
      }
    },
    {
      type   = "metric"
      x      = 0
      y      = 15
      width  = 8
      height = 6
      properties = {
        title   = "DynamoDB ThrottledRequests"
        region  = var.aws_region
        view    = "timeSeries"
        metrics = [for i, q in local.dynamodb_search["ThrottledRequests"] : [merge(q, { id = "t${i}" })]]
      }
    },
    {
      type   = "metric"
      x      = 8
      y      = 15
      width  = 8
      height = 6
      properties = {
        title   = "DynamoDB SystemErrors"
        region  = var.aws_region
        view    = "timeSeries"
        metrics = [for i, q in local.dynamodb_search["SystemErrors"] : [merge(q, { id = "s${i}" })]]
      }
    },
    {
      type   = "metric"
      x      = 16
      y      = 15
      width  = 8
      height = 6
      properties = {
        title   = "DynamoDB latency (ms)"
        region  = var.aws_region
        view    = "timeSeries"
        metrics = [for i, q in local.dynamodb_search["SuccessfulRequestLatency"] : [merge(q, { id = "l${i}" })]]
      }
    },
  ]
}

resource "aws_cloudwatch_dashboard" "main" {
  dashboard_name = var.name_prefix
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })
}
