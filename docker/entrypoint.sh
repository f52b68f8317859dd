#!/bin/bash
# docker/entrypoint.sh: entry point of the FileShare Plus image. One image, one role per
# container (on ECS both run in one task and share localhost):
#
#   app                     fileshare-fcgi --listen $FCGI_LISTEN --workers $WORKERS
#   nginx                   render conf/nginx.conf.in (scripts/render-conf) into $NGINX_STATE_DIR
#                           and run nginx in the foreground, in front of $FCGI_ADDR
#   fileshare-admin ARGS    an operator command, e.g. fileshare-admin trial-status EMAIL
#   healthcheck             the image's HEALTHCHECK: checks whichever role this container runs
#   any other command       run as given (docker run IMAGE sh)
#
# Settings (environment):
#   FILESHARE_HOME (/opt/fileshare)  where conf/, web/ and scripts/render-conf are
#   FCGI_LISTEN (127.0.0.1:9000)     app: where fileshare-fcgi listens (HOST:PORT or unix:PATH)
#   LINKS_LISTEN                     app: a socket of their own for link opens (--links-listen;
#                                    on SQLite one more worker serves it alone), none if unset
#   WORKERS (2)                      app: worker processes
#   DATA_DIR                         app: created if missing (see README.md's configuration)
#   NGINX_LISTEN (0.0.0.0:8080)      nginx: where nginx listens
#   FCGI_ADDR (127.0.0.1:9000)       nginx: where the app listens
#   LINKS_ADDR (FCGI_ADDR)           nginx: where link opens go (the app's LINKS_LISTEN)
#   NGINX_STATE_DIR (/tmp/fileshare-nginx)  nginx: rendered config, pid, temp files (writable)
#   NGINX_WORKERS (1), AUTH_RATE (10r/s), AUTH_BURST (20): as for scripts/serve
#   LINKS_KEEP_CONN (off)            nginx: "on" keeps FastCGI connections for link opens
#                                    (pays off with SQLite only; the image runs DynamoDB)
#   REAL_IP_FROM                     nginx: comma-separated proxy ranges (the VPC behind an ALB);
#                                    client addresses are then taken from X-Forwarded-For
# Everything else (USE_DYNAMODB, AWS_REGION, ...) goes to fileshare-fcgi / fileshare-admin as is.
set -euo pipefail

FILESHARE_HOME=${FILESHARE_HOME:-/opt/fileshare}
ROLE_FILE=${FILESHARE_ROLE_FILE:-/tmp/fileshare-role}

usage() {
	cat >&2 <<-'EOF'
	usage: docker-entrypoint app | nginx | fileshare-admin COMMAND [ARGS] | healthcheck | COMMAND [ARGS]
	  app          run fileshare-fcgi (FastCGI on $FCGI_LISTEN, default 127.0.0.1:9000)
	  nginx        run nginx on $NGINX_LISTEN (default 0.0.0.0:8080) in front of $FCGI_ADDR
	  fileshare-admin ...   run an operator command
	  healthcheck  exit 0 if this container's role is serving
	EOF
}

die() {
	printf '{"level":"error","component":"entrypoint","msg":"%s"}\n' "$*" >&2
	exit 2
}

# host:port -> port (for healthchecks)
port_of() {
	printf '%s' "${1##*:}"
}

run_app() {
	local listen=${FCGI_LISTEN:-127.0.0.1:9000} workers=${WORKERS:-2}
	case "$workers" in
	'' | *[!0-9]*) die "WORKERS must be a number, got \"$workers\"" ;;
	esac
	# SQLite file and the generated session secret live here (USE_DYNAMODB=false, no SESSION_SECRET).
	[ -z "${DATA_DIR:-}" ] || mkdir -p "$DATA_DIR" 2>/dev/null || true
	printf 'app %s\n' "$listen" > "$ROLE_FILE" 2>/dev/null || true
	exec fileshare-fcgi --listen "$listen" ${LINKS_LISTEN:+--links-listen "$LINKS_LISTEN"} \
		--workers "$workers" "$@"
}

# Writes the nginx configuration into $NGINX_STATE_DIR and prints its path.
render_nginx() {
	local state=${NGINX_STATE_DIR:-/tmp/fileshare-nginx} user_line="" cidr extra
	mkdir -p "$state"
	if [ "$(id -u)" -eq 0 ]; then
		user_line="user $(id -un) $(id -gn);"
	fi
	"$FILESHARE_HOME/scripts/render-conf" "$state" \
		USER_LINE="$user_line" NGINX_WORKERS="${NGINX_WORKERS:-1}" STATE_DIR="$state" \
		LISTEN="${NGINX_LISTEN:-0.0.0.0:8080}" WEB_DIR="$FILESHARE_HOME/web" \
		FCGI_ADDR="${FCGI_ADDR:-127.0.0.1:9000}" \
		LINKS_ADDR="${LINKS_ADDR:-${FCGI_ADDR:-127.0.0.1:9000}}" \
		AUTH_RATE="${AUTH_RATE:-10r/s}" AUTH_BURST="${AUTH_BURST:-20}" \
		LINKS_KEEP_CONN="${LINKS_KEEP_CONN:-off}" >&2

	# Container-only additions to the http block: every temp path inside the writable state
	# directory (a non-root nginx cannot create Debian's /var/lib/nginx/*), and, behind a load
	# balancer, the client address from X-Forwarded-For so per-address limits see clients.
	extra=$state/container.conf
	{
		printf '\tuwsgi_temp_path %s/uwsgi_temp;\n' "$state"
		printf '\tscgi_temp_path %s/scgi_temp;\n' "$state"
		if [ -n "${REAL_IP_FROM:-}" ]; then
			for cidr in ${REAL_IP_FROM//,/ }; do
				case "$cidr" in
				*[!0-9a-fA-F.:/]*) die "REAL_IP_FROM: \"$cidr\" is not an address or CIDR range" ;;
				esac
				printf '\tset_real_ip_from %s;\n' "$cidr"
			done
			printf '\treal_ip_header X-Forwarded-For;\n'
			printf '\treal_ip_recursive on;\n'
		fi
	} > "$extra"
	grep -q '^http {$' "$state/nginx.conf" || die "conf/nginx.conf.in has no 'http {' line"
	sed -i "/^http {\$/r $extra" "$state/nginx.conf"
	rm -f "$extra"
	printf '%s\n' "$state/nginx.conf"
}

run_nginx() {
	local conf state
	conf=$(render_nginx)
	state=$(dirname "$conf")
	printf 'nginx %s\n' "${NGINX_LISTEN:-0.0.0.0:8080}" > "$ROLE_FILE" 2>/dev/null || true
	exec nginx -p "$state" -c "$conf" -e stderr "$@"
}

healthcheck() {
	local role addr
	[ -r "$ROLE_FILE" ] || exit 0 # an admin command or a shell: nothing to check
	read -r role addr < "$ROLE_FILE"
	case "$role" in
	nginx)
		exec curl -fsS -o /dev/null --max-time 4 "http://127.0.0.1:$(port_of "$addr")/healthz"
		;;
	app)
		case "$addr" in
		unix:*) [ -S "${addr#unix:}" ] ;;
		*) (exec 3<>"/dev/tcp/${addr%:*}/$(port_of "$addr")") 2>/dev/null ;;
		esac
		;;
	*) exit 0 ;;
	esac
}

[ $# -gt 0 ] || { usage; exit 2; }
cmd=$1
shift
case "$cmd" in
app) run_app "$@" ;;
nginx) run_nginx "$@" ;;
render-nginx) render_nginx "$@" ;;
healthcheck) healthcheck ;;
fileshare-admin | admin) exec fileshare-admin "$@" ;;
-h | --help | help) usage; exit 0 ;;
*)
	command -v "$cmd" >/dev/null 2>&1 || { usage; die "unknown role or command \"$cmd\""; }
	exec "$cmd" "$@"
	;;
esac
