output "users_table_name" {
  description = "Name of the users table (DYNAMODB_USERS_TABLE_NAME)."
  value       = aws_dynamodb_table.users.name
}

output "users_table_arn" {
  description = "ARN of the users table."
  value       = aws_dynamodb_table.users.arn
}

output "urls_table_name" {
  description = "Name of the urls table (DYNAMODB_URLS_TABLE_NAME)."
  value       = aws_dynamodb_table.urls.name
}

output "urls_table_arn" {
  description = "ARN of the urls table."
  value       = aws_dynamodb_table.urls.arn
}

output "policy_arn" {
  description = "ARN of the IAM policy to attach to the application's task role."
  value       = aws_iam_policy.app.arn
}

output "app_actions" {
  description = "The DynamoDB IAM actions granted to the application."
  value       = local.app_actions
}

output "table_names" {
  description = "Both table names, for monitoring."
  value       = [aws_dynamodb_table.users.name, aws_dynamodb_table.urls.name]
}

output "ssm_parameter_names" {
  description = "The SSM parameters this module writes."
  value = [
    aws_ssm_parameter.users_table_name.name,
    aws_ssm_parameter.urls_table_name.name,
    aws_ssm_parameter.users_table_arn.name,
    aws_ssm_parameter.urls_table_arn.name,
    aws_ssm_parameter.policy_arn.name,
    aws_ssm_parameter.use_dynamodb.name,
  ]
}
