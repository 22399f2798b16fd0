/*
 * Helpers shared by every workload, in both builds. Freestanding: no libc.
 */
#include "virttax/workload.h"

#define WL_EINVAL 22

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
