# FileShare Plus, one environment: DynamoDB tables, S3 bucket, ECS service behind an ALB,
# alarms and a dashboard. docs/deployment.md walks through apply, first deploy and rollback.
#
#   terraform init -backend-config=backend.hcl
#   terraform plan  -var-file=prod.tfvars
#   terraform apply -var-file=prod.tfvars

locals {
  # file-sharing-app-prod: tables file-sharing-app-prod-users / -urls, cluster
  # file-sharing-app-prod-cluster, service file-sharing-app-prod-service, ...
  name_prefix = "${var.project}-${var.environment}"

  tags = merge(var.tags, {
    Project     = var.project
    Environment = var.environment
    ManagedBy   = "terraform"
  })

  vpc_id           = var.vpc_id != null ? var.vpc_id : one(data.aws_vpc.default[*].id)
  alb_subnet_ids   = length(var.public_subnet_ids) > 0 ? var.public_subnet_ids : flatten(data.aws_subnets.vpc[*].ids)
  task_subnet_ids  = length(var.private_subnet_ids) > 0 ? var.private_subnet_ids : local.alb_subnet_ids
  assign_public_ip = length(var.private_subnet_ids) == 0
}

data "aws_vpc" "default" {
  count   = var.vpc_id == null ? 1 : 0
  default = true
}

data "aws_subnets" "vpc" {
  count = length(var.public_subnet_ids) == 0 ? 1 : 0

  filter {
    name   = "vpc-id"
    values = [local.vpc_id]
  }
}

module "dynamodb" {
  source = "../../modules/dynamodb"

  name_prefix            = local.name_prefix
  environment            = var.environment
  point_in_time_recovery = var.point_in_time_recovery
  deletion_protection    = var.deletion_protection
}

module "blobs" {
  source = "../../modules/blobs"

  name_prefix     = local.name_prefix
  environment     = var.environment
  bucket_name     = var.s3_bucket_name
  allowed_origins = ["https://${var.domain_name}"]
  force_destroy   = var.s3_force_destroy
}

module "service" {
  source = "../../modules/service"

  name_prefix      = local.name_prefix
  environment      = var.environment
  aws_region       = var.aws_region
  vpc_id           = local.vpc_id
  alb_subnet_ids   = local.alb_subnet_ids
  task_subnet_ids  = local.task_subnet_ids
  assign_public_ip = local.assign_public_ip

  alb_ingress_cidrs       = var.alb_ingress_cidrs
  domain_name             = var.domain_name
  certificate_arn         = var.certificate_arn
  route53_zone_id         = var.route53_zone_id
  alb_deletion_protection = var.alb_deletion_protection

  users_table_name    = module.dynamodb.users_table_name
  urls_table_name     = module.dynamodb.urls_table_name
  dynamodb_policy_arn = module.dynamodb.policy_arn
  s3_bucket_name      = module.blobs.bucket_name
  s3_policy_arn       = module.blobs.policy_arn

  task_cpu           = var.task_cpu
  task_memory        = var.task_memory
  app_workers        = var.app_workers
  log_level          = var.log_level
  app_settings       = var.app_settings
  log_retention_days = var.log_retention_days
  desired_count      = var.desired_count
  min_capacity       = var.min_capacity
  max_capacity       = var.max_capacity

  github_repository           = var.github_repository
  create_github_oidc_provider = var.create_github_oidc_provider
}

module "monitoring" {
  source = "../../modules/monitoring"

  name_prefix             = local.name_prefix
  environment             = var.environment
  aws_region              = var.aws_region
  table_names             = module.dynamodb.table_names
  cluster_name            = module.service.cluster_name
  service_name            = module.service.service_name
  alb_arn_suffix          = module.service.alb_arn_suffix
  target_group_arn_suffix = module.service.target_group_arn_suffix
  app_log_group_name      = module.service.app_log_group_name
  alarm_email             = var.alarm_email
}
