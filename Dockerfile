# syntax=docker/dockerfile:1
# FileShare Plus: one image for both containers of the ECS task (docker/entrypoint.sh):
#   docker run IMAGE app      fileshare-fcgi on 127.0.0.1:9000 (FastCGI)
#   docker run IMAGE nginx    nginx on 0.0.0.0:8080 in front of it
#   docker run IMAGE fileshare-admin trial-status someone@example.com
#
# Build: docker build -t fileshare-plus .
# Local try-out with both roles in one network namespace:
#   docker run -d --name fs-app -e SESSION_SECRET=$(openssl rand -hex 32) fileshare-plus app
#   docker run -d --network container:fs-app fileshare-plus nginx   (then curl from inside)
ARG DEBIAN_IMAGE=debian:bookworm-slim

# --- build: the same scripts CI and developers use --------------------------------------------
FROM ${DEBIAN_IMAGE} AS build
WORKDIR /src
# Build dependencies first (a layer that changes only when the package list does).
COPY scripts/install-deps scripts/install-deps
RUN scripts/install-deps build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN scripts/build /src/build \
	&& make -C /src/build install DESTDIR=/out \
	&& test -x /out/usr/local/bin/fileshare-fcgi \
	&& test -x /out/usr/local/bin/fileshare-admin

# --- runtime: Debian's runtime libraries, nginx, and the two programs -------------------------
FROM ${DEBIAN_IMAGE} AS runtime
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
	&& apt-get install -y --no-install-recommends \
		nginx-light libfcgi0ldbl libcurl4 libjson-c5 libsqlite3-0 libssl3 libqrencode4 ca-certificates curl \
	&& rm -rf /var/lib/apt/lists/* \
	&& groupadd --system --gid 10001 fileshare \
	&& useradd --system --uid 10001 --gid fileshare --home-dir /var/lib/fileshare \
		--shell /usr/sbin/nologin fileshare \
	&& install -d -o fileshare -g fileshare -m 0750 /var/lib/fileshare \
	&& install -d -o fileshare -g fileshare -m 0750 /var/lib/fileshare/nginx

COPY --from=build /out/usr/local/bin/fileshare-fcgi /out/usr/local/bin/fileshare-admin /usr/local/bin/
COPY conf/ /opt/fileshare/conf/
COPY web/ /opt/fileshare/web/
COPY scripts/render-conf /opt/fileshare/scripts/render-conf
COPY docker/entrypoint.sh /usr/local/bin/docker-entrypoint
RUN chmod 0755 /usr/local/bin/docker-entrypoint /opt/fileshare/scripts/render-conf \
	&& fileshare-fcgi --help >/dev/null \
	&& nginx -v

ENV FILESHARE_HOME=/opt/fileshare \
	DATA_DIR=/var/lib/fileshare \
	FCGI_LISTEN=127.0.0.1:9000 \
	FCGI_ADDR=127.0.0.1:9000 \
	NGINX_LISTEN=0.0.0.0:8080 \
	NGINX_STATE_DIR=/var/lib/fileshare/nginx

USER 10001:10001
WORKDIR /var/lib/fileshare
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
	CMD ["docker-entrypoint", "healthcheck"]
ENTRYPOINT ["docker-entrypoint"]
CMD ["app"]
