/*
 * handlers_health: liveness and readiness for nginx, the ALB and ECS.
 */
#include "app.h"

/* GET /healthz: 200 while the process can answer at all. */
void
h_healthz(struct ctx *c)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "status", json_object_new_string("ok"));
	app_send_json(c, 200, o);
}

/* GET /readyz: 200 when the store answers a query and the blob store is usable; 503
 * store_unavailable / storage_unavailable otherwise. */
void
h_readyz(struct ctx *c)
{
	json_object *o;
	enum store_rc rc = store_ping(c->app->store);

	if (rc != STORE_OK) {
		app_store_error(c, rc);
		return;
	}
	if (blob_ping(c->app->blob) != BLOB_OK) {
		resp_error(c->resp, 503, "storage_unavailable", "The file store is not usable right now.");
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("ready"));
	json_object_object_add(o, "store", json_object_new_string(c->app->store->backend->name));
	json_object_object_add(o, "blobs", json_object_new_string(c->app->blob->backend->name));
	app_send_json(c, 200, o);
}
