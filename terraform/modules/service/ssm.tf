# What the deploy workflow (.github/workflows/deploy-backend.yml) needs to find the service,
# next to the dynamodb and blobs modules' parameters under /fileshare/<environment>/.

locals {
  deploy_parameters = {
    ecs_cluster_name   = aws_ecs_cluster.this.name
    ecs_service_name   = aws_ecs_service.app.name
    ecs_task_family    = aws_ecs_task_definition.app.family
    ecr_repository_url = aws_ecr_repository.app.repository_url
    public_base_url    = local.public_base_url
  }
}

resource "aws_ssm_parameter" "deploy" {
  for_each    = local.deploy_parameters
  name        = "/fileshare/${var.environment}/${each.key}"
  description = "FileShare Plus deploy setting ${each.key}"
  type        = "String"
  value       = each.value
  tags        = local.tags
}
