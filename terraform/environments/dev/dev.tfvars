# FileShare Plus, dev. Replace the REPLACE values before `terraform apply -var-file=dev.tfvars`.
environment = "dev"
aws_region  = "us-east-2"

# The host name users open, and an ISSUED ACM certificate for it in us-east-2.
domain_name     = "dev.files.example.com"
certificate_arn = "arn:aws:acm:us-east-2:111122223333:certificate/REPLACE-with-your-certificate-id"
# route53_zone_id = "Z0123456789ABCDEFGHIJ"   # to have Terraform create the DNS record

# Network: null/empty = the account's default VPC, tasks with public IPs (no NAT needed).
# vpc_id             = "vpc-0123456789abcdef0"
# public_subnet_ids  = ["subnet-aaaa", "subnet-bbbb"]
# private_subnet_ids = ["subnet-cccc", "subnet-dddd"]

# Cheap dev: no point-in-time recovery, deletable tables and bucket, one small task.
point_in_time_recovery  = false
deletion_protection     = false
alb_deletion_protection = false
s3_force_destroy        = true
task_cpu                = 512
task_memory             = 1024
app_workers             = 2
desired_count           = 1
min_capacity            = 1
max_capacity            = 2
log_retention_days      = 14

alarm_email = ""

# The deploy workflow's role: jobs of this repository in its GitHub environment "dev".
github_repository           = "your-org/fileshare-plus"
create_github_oidc_provider = true
