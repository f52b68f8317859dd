# Alarms, an SNS topic and a dashboard for one FileShare Plus environment:
#   DynamoDB  ThrottledRequests and SystemErrors per table (summed over the app's operations)
#   ECS       RunningTaskCount below DesiredTaskCount (Container Insights)
#   ALB       HTTPCode_Target_5XX_Count
#   app       error rate and error lines, from metric filters over the app's JSON log lines:
#             {"ts":"...","level":"info","pid":1,"type":"access","method":"GET","path":"/x","status":503,"us":120}

locals {
  app_namespace = "FileSharePlus/${var.environment}"
  alarm_actions = [aws_sns_topic.alarms.arn]
  tags          = merge(var.tags, { Component = "monitoring" })

  # Metric filter patterns (CloudWatch Logs JSON filter syntax).
  access_pattern       = "{ $.type = \"access\" }"
  server_error_pattern = "{ ($.type = \"access\") && ($.status >= 500) }"
  error_line_pattern   = "{ $.level = \"error\" }"

  # FILL(m0, 0) + FILL(m1, 0) + ...: operations without traffic publish no data points.
  dynamodb_sum_expression = join(" + ", [for i, op in var.dynamodb_operations : "FILL(m${i}, 0)"])
}

# --- notifications -------------------------------------------------------------------------

resource "aws_sns_topic" "alarms" {
  name = "${var.name_prefix}-alarms"
  tags = local.tags
}

resource "aws_sns_topic_subscription" "email" {
  count     = var.alarm_email == "" ? 0 : 1
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

# --- application metrics from the JSON logs ------------------------------------------------

resource "aws_cloudwatch_log_metric_filter" "requests" {
  name           = "${var.name_prefix}-requests"
  log_group_name = var.app_log_group_name
  pattern        = local.access_pattern

  metric_transformation {
    name          = "Requests"
    namespace     = local.app_namespace
    value         = "1"
    default_value = "0"
    unit          = "Count"
  }
}

resource "aws_cloudwatch_log_metric_filter" "server_errors" {
  name           = "${var.name_prefix}-server-errors"
  log_group_name = var.app_log_group_name
  pattern        = local.server_error_pattern

  metric_transformation {
    name          = "ServerErrors"
    namespace     = local.app_namespace
    value         = "1"
    default_value = "0"
    unit          = "Count"
  }
}

resource "aws_cloudwatch_log_metric_filter" "error_lines" {
  name           = "${var.name_prefix}-error-lines"
  log_group_name = var.app_log_group_name
  pattern        = local.error_line_pattern

  metric_transformation {
    name          = "ErrorLogLines"
    namespace     = local.app_namespace
    value         = "1"
    default_value = "0"
    unit          = "Count"
  }
}

# --- DynamoDB ------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "dynamodb_throttled_requests" {
  for_each            = toset(var.table_names)
  alarm_name          = "${each.value}-ThrottledRequests"
  alarm_description   = "DynamoDB throttled requests on ${each.value} (all the app's operations)."
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.dynamodb_throttle_threshold
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags

  metric_query {
    id          = "total"
    expression  = local.dynamodb_sum_expression
    label       = "ThrottledRequests"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = var.dynamodb_operations
    content {
      id = "m${metric_query.key}"

      metric {
        namespace   = "AWS/DynamoDB"
        metric_name = "ThrottledRequests"
        period      = 300
        stat        = "Sum"
        dimensions = {
          TableName = each.value
          Operation = metric_query.value
        }
      }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "dynamodb_system_errors" {
  for_each            = toset(var.table_names)
  alarm_name          = "${each.value}-SystemErrors"
  alarm_description   = "DynamoDB 5xx (SystemErrors) on ${each.value}: the app retries them, but a run of them means an AWS-side problem."
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags

  metric_query {
    id          = "total"
    expression  = local.dynamodb_sum_expression
    label       = "SystemErrors"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = var.dynamodb_operations
    content {
      id = "m${metric_query.key}"

      metric {
        namespace   = "AWS/DynamoDB"
        metric_name = "SystemErrors"
        period      = 300
        stat        = "Sum"
        dimensions = {
          TableName = each.value
          Operation = metric_query.value
        }
      }
    }
  }
}

# --- ECS -----------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "ecs_running_below_desired" {
  alarm_name          = "${var.name_prefix}-RunningTaskCount-below-desired"
  alarm_description   = "Fewer tasks running than desired for 5 minutes (tasks crashing, failing health checks, or unable to start)."
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 5
  datapoints_to_alarm = 5
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags

  metric_query {
    id          = "missing"
    expression  = "desired - running"
    label       = "Desired minus running tasks"
    return_data = true
  }

  metric_query {
    id = "running"

    metric {
      namespace   = "ECS/ContainerInsights"
      metric_name = "RunningTaskCount"
      period      = 60
      stat        = "Average"
      dimensions = {
        ClusterName = var.cluster_name
        ServiceName = var.service_name
      }
    }
  }

  metric_query {
    id = "desired"

    metric {
      namespace   = "ECS/ContainerInsights"
      metric_name = "DesiredTaskCount"
      period      = 60
      stat        = "Average"
      dimensions = {
        ClusterName = var.cluster_name
        ServiceName = var.service_name
      }
    }
  }
}

# --- load balancer -------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "alb_target_5xx" {
  alarm_name          = "${var.name_prefix}-HTTPCode_Target_5XX_Count"
  alarm_description   = "5xx responses from the tasks (nginx or the app) seen by the load balancer."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_Target_5XX_Count"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.target_5xx_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags

  dimensions = {
    LoadBalancer = var.alb_arn_suffix
    TargetGroup  = var.target_group_arn_suffix
  }
}

# --- application ---------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "app_error_rate" {
  alarm_name          = "${var.name_prefix}-app-error-rate"
  alarm_description   = "More than ${var.error_rate_threshold_percent}% of the app's responses were 5xx (from the access lines of its JSON log)."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.error_rate_threshold_percent
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags

  metric_query {
    id          = "rate"
    expression  = "IF(FILL(requests, 0) >= ${var.error_rate_min_requests}, 100 * FILL(errors, 0) / requests, 0)"
    label       = "5xx responses (%)"
    return_data = true
  }

  metric_query {
    id = "requests"

    metric {
      namespace   = local.app_namespace
      metric_name = "Requests"
      period      = 300
      stat        = "Sum"
    }
  }

  metric_query {
    id = "errors"

    metric {
      namespace   = local.app_namespace
      metric_name = "ServerErrors"
      period      = 300
      stat        = "Sum"
    }
  }

  depends_on = [aws_cloudwatch_log_metric_filter.requests, aws_cloudwatch_log_metric_filter.server_errors]
}

resource "aws_cloudwatch_metric_alarm" "app_error_lines" {
  alarm_name          = "${var.name_prefix}-app-error-log-lines"
  alarm_description   = "The app logged ${var.error_log_threshold} or more \"level\":\"error\" lines in 5 minutes."
  namespace           = local.app_namespace
  metric_name         = "ErrorLogLines"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.error_log_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags

  depends_on = [aws_cloudwatch_log_metric_filter.error_lines]
}
