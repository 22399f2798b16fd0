/*
 * Small freestanding string helpers for workloads and the shared command-line
 * parser.
 *
 * Why: neither the workloads nor wl_cmdline.c may call libc (they are also
 * linked into the guest agent), yet both need to compare keys and build short
 * log/error messages with numbers in them. The core helpers (wl_parse_u64,
 * wl_rdtsc, ...) are declared in include/virttax/workload.h.
 */
#ifndef VIRTTAX_WL_UTIL_H
#define VIRTTAX_WL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

size_t wl_strlen(const char *s);
bool wl_streq(const char *a, const char *b);
/* Append src to the NUL-terminated dst (capacity cap), truncating. Returns dst. */
char *wl_strcat(char *dst, size_t cap, const char *src);
/* Append the decimal form of v. */
char *wl_strcat_u64(char *dst, size_t cap, uint64_t v);
/* Append v as 0x-prefixed lowercase hex. */
char *wl_strcat_hex(char *dst, size_t cap, uint64_t v);
/* Convert TSC ticks to milliseconds with env's frequency. */
struct wl_env;
double wl_ticks_to_ms(const struct wl_env *env, uint64_t ticks);
/* TSC ticks in `ms` milliseconds (for time bounds). */
uint64_t wl_ms_to_ticks(const struct wl_env *env, uint64_t ms);
/* Keep `v` alive: the compiler must assume it is used. */
static inline void wl_keep_u64(uint64_t v)
{
	__asm__ volatile("" ::"r"(v));
}
/* Log "prefix<number>suffix" through env->log. */
void wl_log_u64(struct wl_env *env, const char *prefix, uint64_t v, const char *suffix);

#endif
