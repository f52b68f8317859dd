output "cluster_name" {
  description = "ECS cluster name."
  value       = aws_ecs_cluster.this.name
}

output "service_name" {
  description = "ECS service name."
  value       = aws_ecs_service.app.name
}

output "task_family" {
  description = "Task definition family (the deploy workflow registers new revisions of it)."
  value       = aws_ecs_task_definition.app.family
}

output "task_role_name" {
  description = "The application's IAM role (DynamoDB and S3 policies attached)."
  value       = aws_iam_role.task.name
}

output "task_role_arn" {
  description = "ARN of the application's IAM role."
  value       = aws_iam_role.task.arn
}

output "execution_role_arn" {
  description = "ARN of the ECS task execution role."
  value       = aws_iam_role.execution.arn
}

output "ecr_repository_url" {
  description = "Where the deploy workflow pushes the image."
  value       = aws_ecr_repository.app.repository_url
}

output "alb_dns_name" {
  description = "The load balancer's DNS name (point domain_name at it if route53_zone_id is not set)."
  value       = aws_lb.this.dns_name
}

output "alb_zone_id" {
  description = "The load balancer's hosted zone, for alias records."
  value       = aws_lb.this.zone_id
}

output "alb_arn_suffix" {
  description = "LoadBalancer dimension of the AWS/ApplicationELB metrics."
  value       = aws_lb.this.arn_suffix
}

output "target_group_arn_suffix" {
  description = "TargetGroup dimension of the AWS/ApplicationELB metrics."
  value       = aws_lb_target_group.app.arn_suffix
}

output "app_log_group_name" {
  description = "CloudWatch Logs group of the app container (JSON lines)."
  value       = aws_cloudwatch_log_group.app.name
}

output "nginx_log_group_name" {
  description = "CloudWatch Logs group of the nginx container."
  value       = aws_cloudwatch_log_group.nginx.name
}

output "public_base_url" {
  description = "PUBLIC_BASE_URL of the service."
  value       = local.public_base_url
}

output "session_secret_parameter_name" {
  description = "SSM SecureString holding SESSION_SECRET."
  value       = aws_ssm_parameter.session_secret.name
}

output "deploy_role_arn" {
  description = "Role for the GitHub deploy workflow (set it as the AWS_DEPLOY_ROLE_ARN variable of the GitHub environment); null without github_repository."
  value       = local.github_deploy ? aws_iam_role.deploy[0].arn : null
}
