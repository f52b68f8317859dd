#include "timeutil.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "num.h"

int64_t (*clock_now_ms)(void) = clock_real_ms;

int64_t
clock_real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
time_format(int64_t epoch_s, char out[RFC3339_LEN])
{
	time_t t = (time_t)epoch_s;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, RFC3339_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Days from 1970-01-01 to y-m-01 in the proleptic Gregorian calendar (H. Hinnant's
 * days_from_civil), so a day past the month's end rolls over as timegm() does. */
static int64_t
days_from_civil(int64_t y, int m)
{
	int64_t era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* n digits at s, or -1. */
static int
digits(const char *s, int n)
{
	int v = 0;

	for (; n > 0; n--, s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

/*
 * "YYYY-MM-DDTHH:MM:SSZ" exactly (what time_format writes), by hand: strptime() and timegm()
 * were 1,500 instructions of every link read (callgrind). The ranges are strptime's (day
 * 1-31 in any month, rolling over; second up to 60).
 */
int
time_parse(const char *s, int64_t *out)
{
	int y, mo, d, h, mi, se;

	if (s == NULL || strlen(s) != RFC3339_LEN - 1 || s[4] != '-' || s[7] != '-' ||
	    s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z')
		return -1;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	se = digits(s + 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 ||
	    mi > 59 || se < 0 || se > 60)
		return -1;
	*out = (days_from_civil(y, mo) + d - 1) * 86400 + h * 3600 + mi * 60 + se;
	return 0;
}
