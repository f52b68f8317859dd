# FileShare Plus, prod. Replace the REPLACE values before `terraform apply -var-file=prod.tfvars`.
environment = "prod"
aws_region  = "us-east-2"

domain_name     = "files.example.com"
certificate_arn = "arn:aws:acm:us-east-2:111122223333:certificate/REPLACE-with-your-certificate-id"
# route53_zone_id = "Z0123456789ABCDEFGHIJ"

# Production belongs in a VPC with private subnets for the tasks (NAT gateway or VPC endpoints
# for ECR, S3, DynamoDB, SSM and CloudWatch Logs). Leaving these unset uses the default VPC.
# vpc_id             = "vpc-0123456789abcdef0"
# public_subnet_ids  = ["subnet-aaaa", "subnet-bbbb"]
# private_subnet_ids = ["subnet-cccc", "subnet-dddd"]

# Keep data: point-in-time recovery, deletion protection on tables and load balancer, and a
# bucket terraform destroy will not empty.
point_in_time_recovery  = true
deletion_protection     = true
alb_deletion_protection = true
s3_force_destroy        = false

task_cpu           = 1024
task_memory        = 2048
app_workers        = 4
desired_count      = 2
min_capacity       = 2
max_capacity       = 6
log_retention_days = 90

alarm_email = "REPLACE-oncall@example.com"

# The GitHub OIDC provider exists once per AWS account: if dev lives in the same account and
# created it, leave this false; set it to true if prod has an account of its own.
github_repository           = "your-org/fileshare-plus"
create_github_oidc_provider = false
