#include "aws/session.h"

#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"

static struct aws_session *session;
static pid_t session_pid;	/* a session never crosses fork(): each process makes its own */

struct aws_session *
aws_session_get(const struct config *cfg)
{
	char err[512];

	if (session != NULL && session_pid == getpid())
		return session;
	session = xcalloc(1, sizeof *session);
	session_pid = getpid();
	if ((session->transport = transport_new()) == NULL) {
		log_errorx("cannot create the HTTP transport");
		goto fail;
	}
	if ((session->creds = creds_provider_new(cfg, session->transport, err, sizeof err)) == NULL) {
		log_errorx("AWS credentials: %s", err);
		goto fail;
	}
	return session;
fail:
	aws_session_release();
	return NULL;
}

void
aws_session_release(void)
{
	if (session == NULL)
		return;
	creds_provider_free(session->creds);
	transport_free(session->transport);
	free(session);
	session = NULL;
}
