/*
 * fileshare-fcgi: the FastCGI application. Under spawn-fcgi (listening socket on fd 0) it is
 * one worker; with --listen ADDR --workers N it is a supervisor with N preforked workers.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "log.h"
#include "num.h"
#include "worker.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: fileshare-fcgi [--listen unix:/path.sock|HOST:PORT] [--workers N]\n"
	    "Without --listen, fd 0 must be the FastCGI listening socket (spawn-fcgi).\n"
	    "Settings come from the environment; see README.md.\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "workers", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen_addr = NULL;
	struct config cfg;
	char err[512];
	int64_t workers = 2;
	int c, fd, rc, type;
	socklen_t tl = sizeof type;

	while ((c = getopt_long(argc, argv, "l:w:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen_addr = optarg;
			break;
		case 'w':
			if (num_parse_i64(optarg, 1, 256, &workers) == -1) {
				fprintf(stderr, "fileshare-fcgi: --workers must be 1 to 256\n");
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (config_load(&cfg, err, sizeof err) == -1) {
		log_errorx("configuration: %s", err);
		return 1;
	}
	log_set_level((enum log_level)cfg.log_level);
	if (listen_addr == NULL) {
		if (getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &tl) == -1) {
			log_errorx("fd 0 is not a socket: start under spawn-fcgi or pass --listen");
			config_free(&cfg);
			return 2;
		}
		rc = worker_run(0, &cfg);
	} else {
		if ((fd = listen_on(listen_addr)) == -1) {
			config_free(&cfg);
			return 1;
		}
		rc = supervisor_run(fd, listen_addr, (int)workers, &cfg);
	}
	config_free(&cfg);
	return rc;
}
