#include "views.h"

#include "buf.h"
#include "timeutil.h"
#include "trial.h"

json_object *
view_time(int64_t t)
{
	char ts[RFC3339_LEN];

	if (t == 0)
		return NULL;
	time_format(t, ts);
	return json_object_new_string(ts);
}

json_object *
view_trial(const struct user *u, int64_t now)
{
	json_object *t = json_object_new_object();
	struct trial_status ts;

	trial_status(u, now, &ts);
	json_object_object_add(t, "used", json_object_new_boolean(ts.used));
	json_object_object_add(t, "active", json_object_new_boolean(ts.active));
	json_object_object_add(t, "started_at", view_time(ts.started_at));
	json_object_object_add(t, "expires_at", view_time(ts.expires_at));
	json_object_object_add(t, "days_left", json_object_new_int(ts.days_left));
	json_object_object_add(t, "can_start", json_object_new_boolean(ts.can_start));
	return t;
}

json_object *
view_limits(const struct tier_limits *l)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "max_file_bytes", json_object_new_int64((int64_t)l->max_file_bytes));
	json_object_object_add(o, "max_lifetime_days", json_object_new_int64(l->max_lifetime_s / 86400));
	json_object_object_add(o, "default_lifetime_days",
	    json_object_new_int64(l->default_lifetime_s / 86400));
	json_object_object_add(o, "max_active_links", json_object_new_int64(l->max_active_links));
	json_object_object_add(o, "custom_slugs", json_object_new_boolean(l->custom_slugs));
	json_object_object_add(o, "password_links", json_object_new_boolean(l->custom_slugs));
	return o;
}

json_object *
view_account(const struct config *cfg, const struct user *u, int64_t now)
{
	json_object *o = json_object_new_object();
	enum tier eff = user_effective_tier(u, now);

	json_object_object_add(o, "user_id", json_object_new_string(u->user_id));
	json_object_object_add(o, "email", json_object_new_string(u->email));
	json_object_object_add(o, "tier", json_object_new_string(tier_name(eff)));
	json_object_object_add(o, "stored_tier", json_object_new_string(tier_name(u->tier)));
	json_object_object_add(o, "limits", view_limits(&cfg->limits[eff]));
	json_object_object_add(o, "trial", view_trial(u, now));
	json_object_object_add(o, "created_at", view_time(u->created_at));
	return o;
}

json_object *
view_link(const struct config *cfg, const struct link *l, int64_t now)
{
	json_object *o = json_object_new_object();
	struct buf url = BUF_INIT;
	bool file = l->file_key[0] != '\0';

	buf_printf(&url, "%s/%s", cfg->public_base_url, l->short_code);
	json_object_object_add(o, "short_code", json_object_new_string(l->short_code));
	json_object_object_add(o, "short_url", json_object_new_string_len(url.data, (int)url.len));
	json_object_object_add(o, "kind", json_object_new_string(file ? "file" : "url"));
	json_object_object_add(o, "full_url", file || l->full_url == NULL ? NULL :
	    json_object_new_string(l->full_url));
	if (file) {
		json_object_object_add(o, "filename", json_object_new_string(l->filename ? l->filename : ""));
		json_object_object_add(o, "size", json_object_new_int64((int64_t)l->file_size));
		json_object_object_add(o, "content_type",
		    json_object_new_string(l->content_type ? l->content_type : "application/octet-stream"));
	}
	json_object_object_add(o, "created_at", view_time(l->created_at));
	json_object_object_add(o, "expires_at", view_time(l->expires_at));
	json_object_object_add(o, "max_clicks", l->max_clicks > 0 ?
	    json_object_new_int64(l->max_clicks) : NULL);
	json_object_object_add(o, "click_count", json_object_new_int64(l->click_count));
	json_object_object_add(o, "password_protected", json_object_new_boolean(l->password_hash != NULL));
	json_object_object_add(o, "status", json_object_new_string(now >= l->expires_at ? "expired" :
	    link_is_live(l, now) ? "active" : "exhausted"));
	buf_free(&url);
	return o;
}
