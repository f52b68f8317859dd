/*
 * fileshare-fcgi: the FastCGI application. Under spawn-fcgi (listening socket on fd 0) it is
 * one worker; with --listen ADDR --workers N it is a supervisor with N preforked workers
 * (and, with --links-listen ADDR, a socket for link opens: see supervisor_run).
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "num.h"
#include "worker.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: fileshare-fcgi [--listen unix:/path.sock|HOST:PORT] [--workers N]\n"
	    "                      [--links-listen unix:/path.sock|HOST:PORT]\n"
	    "       fileshare-fcgi --check-config\n"
	    "Without --listen, fd 0 must be the FastCGI listening socket (spawn-fcgi).\n"
	    "--links-listen: a second socket for link opens (GET/HEAD /{code}), served by one\n"
	    "worker of its own on SQLite and by every worker on DynamoDB.\n"
	    "--check-config: read the settings, print the backends they choose as\n"
	    "\"store=sqlite|dynamodb blob=local|s3\" and exit (1 with the error if they are wrong).\n"
	    "Settings come from the environment; see README.md.\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "workers", required_argument, NULL, 'w' },
		{ "links-listen", required_argument, NULL, 'L' },
		{ "check-config", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen_addr = NULL, *links_addr = NULL;
	struct config cfg;
	char err[512];
	int64_t workers = 2;
	int c, fd, links_fd = -1, rc, type;
	bool check_only = false;
	socklen_t tl = sizeof type;

	while ((c = getopt_long(argc, argv, "l:w:L:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen_addr = optarg;
			break;
		case 'L':
			links_addr = optarg;
			break;
		case 'w':
			if (num_parse_i64(optarg, 1, 256, &workers) == -1) {
				fprintf(stderr, "fileshare-fcgi: --workers must be 1 to 256\n");
				return 2;
			}
			break;
		case 'c':
			check_only = true;
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
	if (check_only && (listen_addr != NULL || links_addr != NULL)) {
		fprintf(stderr, "fileshare-fcgi: --check-config takes no other option\n");
		return 2;
	}
	if (links_addr != NULL && (listen_addr == NULL || !strcmp(links_addr, listen_addr))) {
		fprintf(stderr, "fileshare-fcgi: --links-listen needs --listen, and another address\n");
		return 2;
	}
	if (config_load(&cfg, err, sizeof err) == -1) {
		log_errorx("configuration: %s", err);
		return 1;
	}
	log_set_level((enum log_level)cfg.log_level);
	if (check_only) {
		/* For scripts (scripts/serve): the backends as config_load decided them, so no
		 * script repeats its rules (USE_DYNAMODB's spellings, BLOB_BACKEND's default). */
		printf("store=%s blob=%s\n", cfg.use_dynamodb ? "dynamodb" : "sqlite", cfg.blob_backend);
		config_free(&cfg);
		return 0;
	}
	if (listen_addr == NULL) {
		if (getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &tl) == -1) {
			log_errorx("fd 0 is not a socket: start under spawn-fcgi or pass --listen");
			config_free(&cfg);
			return 2;
		}
		fd = 0;
		rc = worker_run(&fd, 1, false, &cfg);
	} else {
		if ((fd = listen_on(listen_addr)) == -1 ||
		    (links_addr != NULL && (links_fd = listen_on(links_addr)) == -1)) {
			if (fd != -1)
				close(fd);
			config_free(&cfg);
			return 1;
		}
		rc = supervisor_run(fd, listen_addr, links_fd, links_addr, (int)workers, &cfg);
	}
	config_free(&cfg);
	return rc;
}
