#include "trial.h"

enum tier
user_effective_tier(const struct user *u, int64_t now)
{
	if (u->tier == TIER_PREMIUM)
		return TIER_PREMIUM;
	if (u->tier == TIER_TRIAL && u->trial_used && now < u->trial_expires_at)
		return TIER_TRIAL;
	return TIER_FREE;
}

void
trial_status(const struct user *u, int64_t now, struct trial_status *ts)
{
	ts->used = u->trial_used;
	ts->started_at = u->trial_used ? u->trial_started_at : 0;
	ts->expires_at = u->trial_used ? u->trial_expires_at : 0;
	ts->active = u->tier == TIER_TRIAL && u->trial_used && now < u->trial_expires_at;
	ts->days_left = ts->active ? (int)((u->trial_expires_at - now + 86399) / 86400) : 0;
	/* A paying account has nothing to try; everyone else may start it exactly once. */
	ts->can_start = !u->trial_used && u->tier != TIER_PREMIUM;
}
