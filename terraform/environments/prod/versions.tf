terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.70"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  # Terraform state lives in an S3 bucket you create once per account (versioned, encrypted,
  # private). The settings are given at init time (partial configuration) so nothing
  # account-specific is committed:
  #
  #   cp backend.hcl.example backend.hcl    # and fill in the bucket
  #   terraform init -backend-config=backend.hcl
  #
  # backend.hcl holds:
  #   bucket       = "<your-terraform-state-bucket>"
  #   key          = "fileshare/prod/terraform.tfstate"
  #   region       = "us-east-2"
  #   encrypt      = true
  #   use_lockfile = true          # Terraform >= 1.10; older: dynamodb_table = "<lock table>"
  backend "s3" {}
}
