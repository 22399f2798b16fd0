/*
 * Helpers shared by every workload, in both builds. Freestanding: no libc.
 */
#include "virttax/wl_ops.h"
#include "virttax/workload.h"
#include "workloads/wl_errno.h"
#include "workloads/wl_util.h"

int wl_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0, base = 10;
	if (!s || !*s)
		return -WL_EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (!*s)
			return -WL_EINVAL;
	}
	const char *digits = s;
	for (; *s; s++) {
		uint64_t d;
		if (*s >= '0' && *s <= '9')
			d = (uint64_t)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (uint64_t)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (uint64_t)(*s - 'A' + 10);
		else
			break;
		if (v > (UINT64_MAX - d) / base)
			return -WL_EINVAL;
		v = v * base + d;
	}
	if (s == digits)
		return -WL_EINVAL; /* no digit at all: "", "K", "0x" */
	unsigned shift = 0;
	switch (*s) {
	case 0:
		break;
	case 'k':
	case 'K':
		shift = 10;
		s++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		s++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		s++;
		break;
	default:
		return -WL_EINVAL;
	}
	if (shift && (*s == 'i' || *s == 'I') && (s[1] == 'B' || s[1] == 'b'))
		s += 2;
	else if (shift && (*s == 'B' || *s == 'b'))
		s++;
	if (*s)
		return -WL_EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -WL_EINVAL;
	*out = v << shift;
	return 0;
}

int wl_param_u64(struct wl_env *env, const char *key, uint64_t *out)
{
	const char *v = env->param(env, key);
	if (!v)
		return -WL_EINVAL;
	return wl_parse_u64(v, out);
}

double wl_ticks_to_ns(const struct wl_env *env, uint64_t ticks)
{
	return (double)ticks * 1e9 / (double)env->tsc_hz;
}

uint64_t wl_xorshift64(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

double wl_ticks_to_ms(const struct wl_env *env, uint64_t ticks)
{
	return (double)ticks * 1e3 / (double)env->tsc_hz;
}

uint64_t wl_ms_to_ticks(const struct wl_env *env, uint64_t ms)
{
	uint64_t per_ms = env->tsc_hz / 1000;
	if (per_ms && ms > UINT64_MAX / per_ms)
		return UINT64_MAX;
	return ms * per_ms;
}

size_t wl_strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

bool wl_streq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

char *wl_strcat(char *dst, size_t cap, const char *src)
{
	size_t n = wl_strlen(dst);
	while (*src && n + 1 < cap)
		dst[n++] = *src++;
	if (n < cap)
		dst[n] = 0;
	return dst;
}

char *wl_strcat_u64(char *dst, size_t cap, uint64_t v)
{
	char tmp[21];
	size_t i = sizeof(tmp) - 1;
	tmp[i] = 0;
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return wl_strcat(dst, cap, tmp + i);
}

char *wl_strcat_hex(char *dst, size_t cap, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[19];
	size_t i = sizeof(tmp) - 1;
	tmp[i] = 0;
	do {
		tmp[--i] = hex[v & 15];
		v >>= 4;
	} while (v);
	tmp[--i] = 'x';
	tmp[--i] = '0';
	return wl_strcat(dst, cap, tmp + i);
}

void wl_log_u64(struct wl_env *env, const char *prefix, uint64_t v, const char *suffix)
{
	char msg[160];
	msg[0] = 0;
	wl_strcat(msg, sizeof(msg), prefix);
	wl_strcat_u64(msg, sizeof(msg), v);
	wl_strcat(msg, sizeof(msg), suffix);
	env->log(env, msg);
}

const char *wl_region_label_at(char *buf, size_t cap, const char *metric, uint64_t x)
{
	buf[0] = 0;
	wl_strcat(buf, cap, metric);
	wl_strcat(buf, cap, "@");
	return wl_strcat_u64(buf, cap, x);
}

int wl_host_irq_gaps(uint64_t tsc_hz, uint64_t n, uint64_t deadline, uint64_t *sum)
{
	uint64_t lo = WL_HOST_IRQ_MIN_NS * (tsc_hz / 1000000) / 1000;
	uint64_t hi = WL_HOST_IRQ_MAX_NS * (tsc_hz / 1000000) / 1000;
	uint64_t got = 0, total = 0, prev = wl_rdtsc();
	while (got < n) {
		uint64_t now = wl_rdtsc(), d = now - prev;
		prev = now;
		if (d >= lo && d <= hi) {
			got++;
			total += d;
		}
		if (now > deadline)
			break;
	}
	*sum = total;
	return got == n ? 0 : -WL_ETIMEDOUT;
}
