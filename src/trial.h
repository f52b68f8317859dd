/*
 * trial: the premium trial's rules, as pure functions of a user row and the time.
 * The effective tier is computed on read: a trial past its expiry is the free tier, and
 * trial_used never goes back to false, so the trial can be started once per account.
 */
#ifndef FS_TRIAL_H
#define FS_TRIAL_H
#include <stdbool.h>
#include <stdint.h>

#include "store.h"

#define TRIAL_DAYS	30
#define TRIAL_SECONDS	((int64_t)TRIAL_DAYS * 24 * 3600)

struct trial_status {
	bool	 used;
	bool	 active;
	int64_t	 started_at;	/* 0 if never */
	int64_t	 expires_at;	/* 0 if never */
	int	 days_left;	/* whole days, rounded up; 0 unless active */
	bool	 can_start;
};

enum tier	 user_effective_tier(const struct user *, int64_t now);
void		 trial_status(const struct user *, int64_t now, struct trial_status *);

#endif
