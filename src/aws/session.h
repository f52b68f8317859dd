/*
 * session: the AWS plumbing one process shares between its DynamoDB store and its S3 blob
 * store: one transport (one libcurl handle, kept alive) and one credentials provider. Made on
 * first use in each process (workers call it after fork) and kept for the process's life.
 */
#ifndef FS_AWS_SESSION_H
#define FS_AWS_SESSION_H

#include "aws/credentials.h"
#include "aws/transport.h"

struct config;

struct aws_session {
	struct transport	*transport;
	struct creds_provider	*creds;
};

/* The process's session, made from cfg the first time. NULL with the reason logged. */
struct aws_session *aws_session_get(const struct config *cfg);
/* Frees the session (at process exit, so sanitizer builds see no leak). */
void		 aws_session_release(void);

#endif
