output "bucket_name" {
  description = "Name of the blobs bucket (S3_BUCKET)."
  value       = aws_s3_bucket.blobs.id
}

output "bucket_arn" {
  description = "ARN of the blobs bucket."
  value       = aws_s3_bucket.blobs.arn
}

output "policy_arn" {
  description = "ARN of the IAM policy to attach to the application's task role."
  value       = aws_iam_policy.app.arn
}

output "ssm_parameter_name" {
  description = "The SSM parameter holding the bucket name."
  value       = aws_ssm_parameter.s3_bucket.name
}
