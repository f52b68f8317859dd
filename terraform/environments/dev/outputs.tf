output "public_base_url" {
  description = "Where the service answers once DNS points at the load balancer."
  value       = module.service.public_base_url
}

output "alb_dns_name" {
  description = "Point domain_name here (CNAME or alias) unless route53_zone_id was set."
  value       = module.service.alb_dns_name
}

output "users_table_name" {
  value = module.dynamodb.users_table_name
}

output "urls_table_name" {
  value = module.dynamodb.urls_table_name
}

output "dynamodb_policy_arn" {
  value = module.dynamodb.policy_arn
}

output "s3_bucket" {
  value = module.blobs.bucket_name
}

output "ssm_parameter_names" {
  description = "Configuration under /fileshare/<environment>/ read by the deploy workflow."
  value       = concat(module.dynamodb.ssm_parameter_names, [module.blobs.ssm_parameter_name, module.service.session_secret_parameter_name])
}

output "cluster_name" {
  value = module.service.cluster_name
}

output "service_name" {
  value = module.service.service_name
}

output "task_family" {
  value = module.service.task_family
}

output "task_role_name" {
  value = module.service.task_role_name
}

output "ecr_repository_url" {
  value = module.service.ecr_repository_url
}

output "deploy_role_arn" {
  description = "Set as the AWS_DEPLOY_ROLE_ARN variable of the GitHub environment of the same name."
  value       = module.service.deploy_role_arn
}

output "alarm_topic_arn" {
  value = module.monitoring.sns_topic_arn
}

output "dashboard_name" {
  value = module.monitoring.dashboard_name
}
