# FileShare Plus file storage (BLOB_BACKEND=s3): one private bucket. Downloads are 302s to
# short-lived presigned GET URLs and browser uploads are presigned POSTs, so the bucket is never
# public; the task role signs those URLs with the permissions below.

data "aws_caller_identity" "current" {}

locals {
  bucket_name = coalesce(var.bucket_name, "${var.name_prefix}-blobs-${data.aws_caller_identity.current.account_id}")
  tags        = merge(var.tags, { Component = "blobs" })
}

resource "aws_s3_bucket" "blobs" {
  bucket        = local.bucket_name
  force_destroy = var.force_destroy
  tags          = merge(local.tags, { Name = local.bucket_name })
}

# ACLs off: the bucket owner owns every object, whoever uploaded it.
resource "aws_s3_bucket_ownership_controls" "blobs" {
  bucket = aws_s3_bucket.blobs.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "blobs" {
  bucket                  = aws_s3_bucket.blobs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "blobs" {
  bucket = aws_s3_bucket.blobs.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = var.kms_key_arn != null
  }
}

# Uploads that never complete (a closed browser tab, a killed worker) leave parts that are
# billed but invisible; abort them after a day.
resource "aws_s3_bucket_lifecycle_configuration" "blobs" {
  bucket = aws_s3_bucket.blobs.id

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

# Browsers upload straight to S3 with a presigned POST (POST /api/uploads), which is a
# cross-origin form POST from the site's origin.
resource "aws_s3_bucket_cors_configuration" "blobs" {
  bucket = aws_s3_bucket.blobs.id

  cors_rule {
    id              = "presigned-post-uploads"
    allowed_methods = ["POST"]
    allowed_origins = var.allowed_origins
    allowed_headers = ["*"]
    expose_headers  = ["ETag", "Location"]
    max_age_seconds = 3000
  }
}

# Refuse plain-HTTP access (presigned URLs are https).
data "aws_iam_policy_document" "bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.blobs.arn,
      "${aws_s3_bucket.blobs.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "blobs" {
  bucket = aws_s3_bucket.blobs.id
  policy = data.aws_iam_policy_document.bucket.json

  # S3 rejects bucket policies while the public access block is being applied.
  depends_on = [aws_s3_bucket_public_access_block.blobs]
}

# What the application needs: write, read (and presign reads of) and delete objects, abort its
# own failed multipart uploads, and list (HeadBucket for /readyz needs s3:ListBucket).
data "aws_iam_policy_document" "app" {
  statement {
    sid    = "Objects"
    effect = "Allow"
    actions = [
      "s3:PutObject",
      "s3:GetObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]
    resources = ["${aws_s3_bucket.blobs.arn}/*"]
  }

  statement {
    sid    = "Bucket"
    effect = "Allow"
    actions = [
      "s3:ListBucket",
      "s3:ListBucketMultipartUploads",
    ]
    resources = [aws_s3_bucket.blobs.arn]
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      sid       = "BucketKey"
      effect    = "Allow"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_policy" "app" {
  name        = "${var.name_prefix}-s3-access"
  description = "FileShare Plus (${var.environment}): object access to the blobs bucket"
  policy      = data.aws_iam_policy_document.app.json
  tags        = local.tags
}

resource "aws_ssm_parameter" "s3_bucket" {
  name        = "/fileshare/${var.environment}/s3_bucket"
  description = "FileShare Plus blobs bucket (S3_BUCKET)"
  type        = "String"
  value       = aws_s3_bucket.blobs.id
  tags        = local.tags
}
