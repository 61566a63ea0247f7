#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"
#include "util.h"

static bool enabled;

void
progress_enable(bool on)
{
	enabled = on;
}

struct progress {
	char *label;
	uint64_t total, pos, start;
	double t0, last_draw;
	bool tty;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *
progress_human(uint64_t bytes, char *buf, size_t size)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1024 && u + 1 < ARRAY_SIZE(unit)) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, size, "%.1f %s", v, unit[u]);
	return buf;
}

struct progress *
progress_new(const char *label, uint64_t total)
{
	struct progress *p;

	if (!enabled || log_get_level() < LOG_NORMAL)
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->label = xstrdup(label);
	p->total = total;
	p->t0 = now();
	p->tty = isatty(STDERR_FILENO);
	return p;
}

void
progress_set_total(struct progress *p, uint64_t total)
{
	if (p != NULL)
		p->total = total;
}

void
progress_set_start(struct progress *p, uint64_t start)
{
	if (p != NULL)
		p->start = p->pos = start;
}

static void
draw(struct progress *p, bool final)
{
	char done[32], tot[32], rate[32];
	double el = now() - p->t0;
	double bps = el > 0 ? (double)(p->pos - p->start) / el : 0;

	progress_human(p->pos, done, sizeof(done));
	progress_human((uint64_t)bps, rate, sizeof(rate));
	if (!p->tty) {
		if (!final)
			return;
		fprintf(stderr, "sbx-build: %s: %s in %.1f s (%s/s)\n",
			p->label, done, el, rate);
		return;
	}
	if (p->total > 0) {
		int pct = (int)(p->pos * 100 / p->total);
		int width = 30, fill = pct * width / 100;
		double eta = bps > 0 ? (double)(p->total - p->pos) / bps : 0;

		progress_human(p->total, tot, sizeof(tot));
		fprintf(stderr, "\r%s [%.*s%*s] %3d%% %s/%s %s/s", p->label,
			fill, "##############################", width - fill,
			"", pct, done, tot, rate);
		if (!final && bps > 0)
			fprintf(stderr, " ETA %ds", (int)eta);
		fputs("\033[K", stderr);
	} else {
		fprintf(stderr, "\r%s %s %s/s\033[K", p->label, done, rate);
	}
	if (final)
		fputc('\n', stderr);
}

void
progress_update(struct progress *p, uint64_t pos)
{
	double t;

	if (p == NULL)
		return;
	p->pos = pos;
	t = now();
	if (p->tty && t - p->last_draw >= 0.1) {
		p->last_draw = t;
		draw(p, false);
	}
}

void
progress_done(struct progress *p)
{
	if (p == NULL)
		return;
	draw(p, true);
	free(p->label);
	free(p);
}
