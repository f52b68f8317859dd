output "sns_topic_arn" {
  description = "Topic the alarms notify (subscribe more endpoints to it as needed)."
  value       = aws_sns_topic.alarms.arn
}

output "dashboard_name" {
  description = "CloudWatch dashboard of this environment."
  value       = aws_cloudwatch_dashboard.main.dashboard_name
}

output "alarm_names" {
  description = "Every alarm of this environment."
  value = concat(
    [for a in aws_cloudwatch_metric_alarm.dynamodb_throttled_requests : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.dynamodb_system_errors : a.alarm_name],
    [
      aws_cloudwatch_metric_alarm.ecs_running_below_desired.alarm_name,
      aws_cloudwatch_metric_alarm.alb_target_5xx.alarm_name,
      aws_cloudwatch_metric_alarm.app_error_rate.alarm_name,
      aws_cloudwatch_metric_alarm.app_error_lines.alarm_name,
    ],
  )
}

output "app_metric_namespace" {
  description = "Namespace of the metrics taken from the app's JSON log."
  value       = local.app_namespace
}
