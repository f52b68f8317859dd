/*
 * log: one JSON object per line on stderr. Every line has ts (RFC 3339 UTC, ms), level, pid;
 * message lines add func and msg. Callers must never pass secrets (passwords, tokens, keys,
 * cookies): this module cannot tell them apart from other text.
 */
#ifndef FS_LOG_H
#define FS_LOG_H
#include <stdbool.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void	log_set_level(enum log_level);
void	log_msg(enum log_level, const char *func, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* The access log line: one per request, written by the app after the response is built. */
void	log_access(const char *method, const char *path, int status, long usec, const char *user_id);
/* While on, access lines are kept and written several at a time by log_flush() (the worker
 * flushes after each turn of its loop); any other line flushes them first. */
void	log_hold(bool on);
void	log_flush(void);

#define log_debug(...)	log_msg(LOG_DEBUG, __func__, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __func__, __VA_ARGS__)
#define log_warnx(...)	log_msg(LOG_WARN, __func__, __VA_ARGS__)
#define log_errorx(...)	log_msg(LOG_ERROR, __func__, __VA_ARGS__)

#endif
