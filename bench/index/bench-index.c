/*
 * bench-index.c: issue 5's benchmark 3 for the parts of a poll that do not
 * wait on the network, linked against build/libaw.a.
 *
 *   bench-index memory [-n tags]
 *	Bytes per known tag: an index of n realistic tags (semver-like names
 *	with suffixes, distinct sha256 digests) against an empty one, by
 *	malloc's own count (mallinfo2: bytes handed out) and by resident
 *	memory (/proc/self/statm).  Also without digests (a fresh baseline).
 *   bench-index poll [-n tags] [-p polls]
 *	p steady-state polls of one repository of n tags, nothing new: the
 *	recorded listing (pages of 1000, as the fake sends them) parsed by
 *	the Docker provider's parser, de-duplicated through a seen index as
 *	the provider does, then diff_compute and diff_apply against the
 *	known index.  Run under callgrind with -p 1 and -p 11 (run.sh does):
 *	the difference / 10 is the cost of one poll, start-up excluded.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diff.h"
#include "provider.h"
#include "../providers/docker/provider-docker.h"

#define PAGE_TAGS	1000

/* A name such as "1.24.3-alpine3.19" or "v2.7.0-rc.1", fixed by i. */
static void
tag_name(char *buf, size_t size, size_t i)
{
	static const char	*suffix[] = { "", "-alpine", "-slim",
				    "-bookworm", "-rc.1", "-alpine3.19",
				    "-debug", "" };

	snprintf(buf, size, "%s%zu.%zu.%zu%s", i % 3 == 0 ? "v" : "",
	    i / 2000, (i / 40) % 50, i % 40, suffix[(i / 5) % 8]);
}

/* A distinct sha256 digest for i (splitmix64 words as hex). */
static void
tag_digest(char *buf, size_t size, size_t i)
{
	uint64_t	 x, w[4];
	int		 k;

	for (k = 0; k < 4; k++) {
		x = (uint64_t)i * 4 + (uint64_t)k + 0x9e3779b97f4a7c15ull;
		x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
		x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
		w[k] = x ^ (x >> 31);
	}
	snprintf(buf, size, "sha256:%016llx%016llx%016llx%016llx",
	    (unsigned long long)w[0], (unsigned long long)w[1],
	    (unsigned long long)w[2], (unsigned long long)w[3]);
}

static size_t
heap_bytes(void)
{
	struct mallinfo2	 mi = mallinfo2();

	return (mi.uordblks + mi.hblkhd);
}

static size_t
rss_bytes(void)
{
	FILE		*f;
	unsigned long	 size, resident;

	if ((f = fopen("/proc/self/statm", "r")) == NULL)
		return (0);
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return (resident * (size_t)sysconf(_SC_PAGESIZE));
}

static void
measure(size_t n, int digests)
{
	struct index	*idx;
	char		 name[64], dig[80];
	size_t		 i, heap0, rss0, heap1, rss1, names = 0;

	idx = index_create();
	heap0 = heap_bytes();
	rss0 = rss_bytes();
	for (i = 0; i < n; i++) {
		tag_name(name, sizeof name, i);
		tag_digest(dig, sizeof dig, i);
		names += strlen(name);
		index_put(idx, name, digests ? dig : NULL, 1700000000 + i);
	}
	heap1 = heap_bytes();
	rss1 = rss_bytes();
	if (index_count(idx) != n) {
		fprintf(stderr, "bench-index: %zu names collided\n",
		    n - index_count(idx));
		exit(1);
	}
	printf("%zu tags %s digests (names %.1f chars on average): "
	    "heap %.1f bytes/tag, rss %.1f bytes/tag\n", n,
	    digests ? "with sha256" : "without", (double)names / (double)n,
	    (double)(heap1 - heap0) / (double)n,
	    (double)(rss1 - rss0) / (double)n);
	index_free(idx);
}

/* The listing a registry sends for n tags, as pages of PAGE_TAGS. */
static char **
record_pages(size_t n, size_t *npages)
{
	struct buf	 b;
	char		**pages, name[64];
	size_t		 i, p;

	*npages = (n + PAGE_TAGS - 1) / PAGE_TAGS;
	pages = xcalloc(*npages, sizeof *pages);
	for (p = 0; p < *npages; p++) {
		memset(&b, 0, sizeof b);
		buf_printf(&b, "{\"name\":\"bench/r%zu\",\"tags\":[", n);
		for (i = p * PAGE_TAGS; i < n && i < (p + 1) * PAGE_TAGS; i++) {
			tag_name(name, sizeof name, i);
			buf_printf(&b, "%s\"%s\"", i == p * PAGE_TAGS ? "" : ",",
			    name);
		}
		buf_printf(&b, "]}");
		pages[p] = buf_take(&b);
	}
	return (pages);
}

/* One poll that finds nothing new; returns the changes found (0). */
static size_t
poll_once(struct index *known, char **pages, size_t npages)
{
	struct versions	 vs = { 0 };
	struct index	*seen = index_create();
	struct diff	 d;
	char		**tags, *cause;
	size_t		 p, i, n, changes;

	for (p = 0; p < npages; p++) {
		if (docker_parse_tags(pages[p], strlen(pages[p]), &tags, &n,
		    &cause) != 0) {
			fprintf(stderr, "bench-index: %s\n", cause);
			exit(1);
		}
		for (i = 0; i < n; i++) {
			if (index_get(seen, tags[i], NULL))
				continue;
			index_put(seen, tags[i], NULL, 0);
			versions_add(&vs, tags[i]);
		}
		docker_tags_free(tags, n);
	}
	diff_compute(known, &vs, 0, 0, &d);
	changes = d.nchanges;
	if (changes == 0)
		diff_apply(known, &vs, 1700000000);
	diff_free(&d);
	versions_free(&vs);
	index_free(seen);
	return (changes);
}

static void
polls(size_t n, int count)
{
	struct index	*known = index_create();
	char		**pages, name[64], dig[80];
	size_t		 npages, i;
	int		 k;

	pages = record_pages(n, &npages);
	for (i = 0; i < n; i++) {
		tag_name(name, sizeof name, i);
		tag_digest(dig, sizeof dig, i);
		index_put(known, name, dig, 1700000000);
	}
	for (k = 0; k < count; k++) {
		if (poll_once(known, pages, npages) != 0) {
			fprintf(stderr, "bench-index: a poll found changes\n");
			exit(1);
		}
	}
	printf("%d polls of %zu tags in %zu pages, nothing new\n", count, n,
	    npages);
	for (i = 0; i < npages; i++)
		free(pages[i]);
	free(pages);
	index_free(known);
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench-index memory [-n tags]\n"
	    "       bench-index poll [-n tags] [-p polls]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	size_t	 n = 0;
	int	 c, count = 1;

	if (argc < 2)
		usage();
	optind = 2;
	while ((c = getopt(argc, argv, "n:p:")) != -1) {
		switch (c) {
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'p':
			count = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (strcmp(argv[1], "memory") == 0) {
		n = n == 0 ? 100000 : n;
		measure(n, 1);
		measure(n, 0);
	} else if (strcmp(argv[1], "poll") == 0)
		polls(n == 0 ? 10000 : n, count);
	else
		usage();
	return (0);
}
