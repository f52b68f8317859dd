/*
 * linkcache: an open-addressing hash table of struct link copies keyed by short code
 * (FNV-1a, linear probing, twice as many slots as LINKCACHE_MAX so probes stay short).
 * Entries are never removed one by one, only all at once, so no tombstones are needed, and
 * clearing costs what the cache holds, not its size: where several workers open links on one
 * SQLite file (scripts/serve FCGI_MODE=spawn) each one's commits empty the others' caches.
 *
 * The copies (struct and strings together) are carved from chunks mapped for the cache
 * alone, not from malloc: thousands of long-lived entries interleaved with a request's
 * short-lived allocations made glibc's malloc slower for everything else (perf under
 * bench/run: _int_malloc and malloc_consolidate from 4% to 9% of the link worker).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "linkcache.h"
#include "xmalloc.h"

#define SLOTS		(2 * LINKCACHE_MAX)	/* a power of two */
#define CHUNK_SIZE	((size_t)1 << 20)
#define MAX_CHUNKS	16			/* 16 MiB of copies at most */

struct entry {
	struct link	 link;
	int64_t		 rowid;
	/* the link's strings follow */
};

struct linkcache {
	struct entry	**slots;	/* SLOTS of them once the first link is put */
	uint32_t	 *taken;	/* the indexes of the n slots in use */
	size_t		  n;
	char		 *chunks[MAX_CHUNKS];
	int		  nchunks;	/* mapped; the last one is being filled */
	size_t		  used;		/* bytes of it */
};

static uint32_t
hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The slot of code: its entry's, or the empty one where it would go. */
static struct entry **
slot(struct linkcache *c, const char *code)
{
	size_t i = hash(code) & (SLOTS - 1);

	while (c->slots[i] != NULL && strcmp(c->slots[i]->link.short_code, code) != 0)
		i = (i + 1) & (SLOTS - 1);
	return &c->slots[i];
}

/* n bytes (n <= CHUNK_SIZE) from the chunks, or NULL when all MAX_CHUNKS are full. */
static void *
carve(struct linkcache *c, size_t n)
{
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (c->nchunks == 0 || c->used + n > CHUNK_SIZE) {
		if (c->nchunks == MAX_CHUNKS)
			return NULL;
		p = mmap(NULL, CHUNK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		c->chunks[c->nchunks++] = p;
		c->used = 0;
	}
	p = c->chunks[c->nchunks - 1] + c->used;
	c->used += n;
	return p;
}

static size_t
size_of(const char *s)
{
	return s != NULL ? strlen(s) + 1 : 0;
}

/* Copies s to *at (advancing it); NULL stays NULL. */
static char *
place(char **at, const char *s, size_t n)
{
	char *d = *at;

	if (s == NULL)
		return NULL;
	memcpy(d, s, n);
	*at += n;
	return d;
}

struct linkcache *
linkcache_new(void)
{
	return xcalloc(1, sizeof(struct linkcache));
}

void
linkcache_clear(struct linkcache *c)
{
	size_t k;
	int i;

	if (c == NULL || c->nchunks == 0)
		return;
	for (k = 0; k < c->n; k++)
		c->slots[c->taken[k]] = NULL;
	c->n = 0;
	/* Keep one chunk for the next fill; give the others back. */
	for (i = 1; i < c->nchunks; i++)
		munmap(c->chunks[i], CHUNK_SIZE);
	c->nchunks = 1;
	c->used = 0;
}

void
linkcache_free(struct linkcache *c)
{
	int i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nchunks; i++)
		munmap(c->chunks[i], CHUNK_SIZE);
	free(c->slots);
	free(c->taken);
	free(c);
}

size_t
linkcache_count(const struct linkcache *c)
{
	return c->n;
}

struct link *
linkcache_get(struct linkcache *c, const char *code, int64_t *rowid)
{
	struct entry *e;

	if (c->n == 0 || (e = *slot(c, code)) == NULL)
		return NULL;
	*rowid = e->rowid;
	return &e->link;
}

struct link *
linkcache_put(struct linkcache *c, const struct link *l, int64_t rowid)
{
	size_t nu = size_of(l->full_url), nf = size_of(l->filename),
	    nc = size_of(l->content_type), np = size_of(l->password_hash);
	size_t need = sizeof(struct entry) + nu + nf + nc + np;
	struct entry **sl, *e;
	char *at;

	if (need > CHUNK_SIZE)
		return NULL;
	if (c->slots == NULL) {
		c->slots = xcalloc(SLOTS, sizeof *c->slots);
		c->taken = xcalloc(LINKCACHE_MAX, sizeof *c->taken);
	}
	if (c->n == LINKCACHE_MAX)
		linkcache_clear(c);
	if ((e = carve(c, need)) == NULL) {
		linkcache_clear(c);
		if ((e = carve(c, need)) == NULL)
			return NULL;
	}
	/* A replaced entry's old copy stays in its chunk until the next clear. */
	e->link = *l;
	e->rowid = rowid;
	at = (char *)(e + 1);
	e->link.full_url = place(&at, l->full_url, nu);
	e->link.filename = place(&at, l->filename, nf);
	e->link.content_type = place(&at, l->content_type, nc);
	e->link.password_hash = place(&at, l->password_hash, np);
	if (*(sl = slot(c, l->short_code)) == NULL)
		c->taken[c->n++] = (uint32_t)(sl - c->slots);
	*sl = e;
	return &e->link;
}
