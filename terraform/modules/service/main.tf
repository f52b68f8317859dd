# FileShare Plus on ECS Fargate: one task = two containers from one image, sharing localhost.
#
#   ALB :443 ──> nginx (:8080, "nginx" argument) ──FastCGI 127.0.0.1:9000──> app ("app" argument,
#                                                                             fileshare-fcgi workers)
#
# nginx serves the static UI and enforces body-size and rate limits; the app talks to DynamoDB
# and S3 with the task role's credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

data "aws_vpc" "this" {
  id = var.vpc_id
}

locals {
  cluster_name    = "${var.name_prefix}-cluster"
  service_name    = "${var.name_prefix}-service"
  task_family     = "${var.name_prefix}-task"
  public_base_url = "https://${var.domain_name}"
  image           = "${aws_ecr_repository.app.repository_url}:${var.image_tag}"
  fcgi_addr       = "127.0.0.1:9000"
  nginx_port      = 8080
  tags            = merge(var.tags, { Component = "service" })

  # Settings fileshare-fcgi reads (src/config.c; tests/terraform checks every name). The deploy
  # workflow re-applies USE_DYNAMODB, AWS_REGION, the table names and S3_BUCKET from SSM.
  app_env = {
    USE_DYNAMODB              = var.use_dynamodb ? "true" : "false"
    AWS_REGION                = var.aws_region
    DYNAMODB_USERS_TABLE_NAME = var.users_table_name
    DYNAMODB_URLS_TABLE_NAME  = var.urls_table_name
    BLOB_BACKEND              = "s3"
    S3_BUCKET                 = var.s3_bucket_name
    PUBLIC_BASE_URL           = local.public_base_url
    LOG_LEVEL                 = var.log_level
  }

  # Settings docker/entrypoint.sh reads for the "app" role.
  app_entrypoint_env = {
    FCGI_LISTEN = local.fcgi_addr
    WORKERS     = tostring(var.app_workers)
  }

  # Settings docker/entrypoint.sh reads for the "nginx" role. REAL_IP_FROM makes nginx take the
  # client address from the ALB's X-Forwarded-For, so per-address rate limits see clients.
  nginx_entrypoint_env = {
    NGINX_STATE_DIR = local.nginx_state_dir
    NGINX_LISTEN    = "0.0.0.0:${local.nginx_port}"
    FCGI_ADDR     = local.fcgi_addr
    NGINX_WORKERS = tostring(var.nginx_workers)
    REAL_IP_FROM  = data.aws_vpc.this.cidr_block
  }

  # nginx buffers each upload to a file under its state directory and hands the worker the
  # file's path (BODY_FILE): both containers mount one task volume at that same path, the app
  # read-only, so the worker can stream the file to S3 without the body passing through memory.
  nginx_state_dir = "/var/lib/fileshare/nginx"
  shared_volume   = "nginx-state"

  app_environment   = merge(var.app_settings, local.app_env, local.app_entrypoint_env)
  nginx_environment = local.nginx_entrypoint_env

  app_container = {
    name        = "app"
    image       = local.image
    essential   = true
    command     = ["app"]
    environment = [for k in sort(keys(local.app_environment)) : { name = k, value = local.app_environment[k] }]
    mountPoints = [
      { sourceVolume = local.shared_volume, containerPath = local.nginx_state_dir, readOnly = true },
    ]
    secrets = [
      { name = "SESSION_SECRET", valueFrom = aws_ssm_parameter.session_secret.arn },
    ]
    healthCheck = {
      command     = ["CMD", "docker-entrypoint", "healthcheck"]
      interval    = 10
      timeout     = 5
      retries     = 3
      startPeriod = 10
    }
    # SIGTERM lets in-flight requests finish; give the workers time before SIGKILL.
    stopTimeout     = 30
    linuxParameters = { initProcessEnabled = true }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        "awslogs-group"         = aws_cloudwatch_log_group.app.name
        "awslogs-region"        = var.aws_region
        "awslogs-stream-prefix" = "app"
        "mode"                  = "non-blocking"
        "max-buffer-size"       = "4m"
      }
    }
  }

  nginx_container = {
    name        = "nginx"
    image       = local.image
    essential   = true
    command     = ["nginx"]
    environment = [for k in sort(keys(local.nginx_environment)) : { name = k, value = local.nginx_environment[k] }]
    mountPoints = [
      { sourceVolume = local.shared_volume, containerPath = local.nginx_state_dir, readOnly = false },
    ]
    portMappings = [
      { name = "http", containerPort = local.nginx_port, hostPort = local.nginx_port, protocol = "tcp" },
    ]
    dependsOn = [
      { containerName = "app", condition = "HEALTHY" },
    ]
    healthCheck = {
      command     = ["CMD", "docker-entrypoint", "healthcheck"]
      interval    = 10
      timeout     = 5
      retries     = 3
      startPeriod = 10
    }
    stopTimeout     = 30
    linuxParameters = { initProcessEnabled = true }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        "awslogs-group"         = aws_cloudwatch_log_group.nginx.name
        "awslogs-region"        = var.aws_region
        "awslogs-stream-prefix" = "nginx"
        "mode"                  = "non-blocking"
        "max-buffer-size"       = "4m"
      }
    }
  }
}

# --- image ---------------------------------------------------------------------------------

resource "aws_ecr_repository" "app" {
  name                 = var.name_prefix
  image_tag_mutability = "MUTABLE"
  force_delete         = false

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "AES256"
  }

  tags = local.tags
}

resource "aws_ecr_lifecycle_policy" "app" {
  repository = aws_ecr_repository.app.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the 30 most recent images (rollback targets)"
      selection = {
        tagStatus   = "any"
        countType   = "imageCountMoreThan"
        countNumber = 30
      }
      action = { type = "expire" }
    }]
  })
}

# --- cluster and logs ----------------------------------------------------------------------

resource "aws_ecs_cluster" "this" {
  name = local.cluster_name

  # Container Insights publishes RunningTaskCount/DesiredTaskCount (the monitoring module's
  # "fewer tasks than desired" alarm).
  setting {
    name  = "containerInsights"
    value = "enabled"
  }

  tags = local.tags
}

resource "aws_cloudwatch_log_group" "app" {
  name              = "/ecs/${var.name_prefix}/app"
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

resource "aws_cloudwatch_log_group" "nginx" {
  name              = "/ecs/${var.name_prefix}/nginx"
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

# --- SESSION_SECRET ------------------------------------------------------------------------

# Generated once. The value lives in the Terraform state too: keep the state bucket private and
# encrypted. Rotate with `aws ssm put-parameter --overwrite` (Terraform ignores later values);
# rotating signs everyone out.
resource "random_password" "session_secret" {
  length  = 64
  special = false
}

resource "aws_ssm_parameter" "session_secret" {
  name        = "/fileshare/${var.environment}/session_secret"
  description = "SESSION_SECRET of FileShare Plus (HMAC key of session tokens)"
  type        = "SecureString"
  key_id      = var.session_secret_kms_key_arn
  value       = random_password.session_secret.result
  tags        = local.tags

  lifecycle {
    ignore_changes = [value]
  }
}

# --- task and service ----------------------------------------------------------------------

resource "aws_ecs_task_definition" "app" {
  family                   = local.task_family
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = tostring(var.task_cpu)
  memory                   = tostring(var.task_memory)
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  container_definitions    = jsonencode([local.nginx_container, local.app_container])

  # Task storage shared by nginx (writes uploads) and the app (reads them); see nginx_state_dir.
  volume {
    name = local.shared_volume
  }

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  tags = local.tags
}

resource "aws_ecs_service" "app" {
  name                               = local.service_name
  cluster                            = aws_ecs_cluster.this.id
  task_definition                    = aws_ecs_task_definition.app.arn
  desired_count                      = var.desired_count
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  enable_execute_command             = var.enable_execute_command
  health_check_grace_period_seconds  = 60
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  enable_ecs_managed_tags            = true
  propagate_tags                     = "SERVICE"

  network_configuration {
    subnets          = var.task_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = var.assign_public_ip
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.app.arn
    container_name   = "nginx"
    container_port   = local.nginx_port
  }

  # A deployment whose tasks never become healthy is stopped and rolled back.
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  tags = local.tags

  lifecycle {
    # The deploy workflow registers task definition revisions; autoscaling owns the count.
    ignore_changes = [task_definition, desired_count]
  }

  depends_on = [
    aws_lb_listener.https,
    aws_iam_role_policy_attachment.task_dynamodb,
    aws_iam_role_policy_attachment.task_s3,
    aws_iam_role_policy_attachment.execution,
  ]
}

# --- autoscaling on CPU --------------------------------------------------------------------

resource "aws_appautoscaling_target" "service" {
  min_capacity       = var.min_capacity
  max_capacity       = var.max_capacity
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.app.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  service_namespace  = "ecs"
  tags               = local.tags
}

resource "aws_appautoscaling_policy" "cpu" {
  name               = "${var.name_prefix}-cpu-target-tracking"
  policy_type        = "TargetTrackingScaling"
  resource_id        = aws_appautoscaling_target.service.resource_id
  scalable_dimension = aws_appautoscaling_target.service.scalable_dimension
  service_namespace  = aws_appautoscaling_target.service.service_namespace

  target_tracking_scaling_policy_configuration {
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
    target_value       = var.cpu_target_percent
    scale_out_cooldown = 60
    scale_in_cooldown  = 300
  }
}
