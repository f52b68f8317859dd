provider "aws" {
  region = var.aws_region

  # Every resource gets these tags; the modules add Component and Name.
  default_tags {
    tags = local.tags
  }
}
