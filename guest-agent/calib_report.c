/*
 * The agent's {"t":"calib"} record (include/virttax/protocol.h) and the hook
 * that gives workloads the agent's platform primitives.
 *
 * Why integers only: this file is built without SSE like the rest of the
 * agent's plumbing; the raw TSC ticks per round go out and the harness does
 * the arithmetic (harness/calib.c), the same for the guest and the host.
 */
#include "guest-agent/agent.h"
#include "virttax/wl_ops.h"

void ag_calib_install(struct wl_env *env);

static void ag_emit_calib(struct wl_env *env, const struct wl_calib *c)
{
	(void)env;
	struct ag_line l;
	ag_rec_begin(&l, "calib");
	ag_rec_str(&l, "kind", c->kind);
	if (c->reason) {
		ag_line_raw(&l, ",\"ok\":false");
		ag_rec_str(&l, "reason", c->reason);
		ag_emit_line(&l);
		return;
	}
	ag_line_raw(&l, ",\"ok\":true");
	if (c->how)
		ag_rec_str(&l, "how", c->how);
	ag_rec_u64(&l, "iters", c->iters);
	ag_line_raw(&l, ",\"ticks\":[");
	for (uint32_t i = 0; i < c->nrounds && i < WL_CALIB_MAX_ROUNDS; i++) {
		if (i)
			ag_line_char(&l, ',');
		ag_line_u64(&l, c->ticks[i]);
	}
	ag_line_char(&l, ']');
	if (c->spacing) {
		ag_line_raw(&l, ",\"spacing\":true");
		ag_rec_u64(&l, "gap_units", c->gap_units);
		ag_line_raw(&l, ",\"base_ticks\":[");
		for (uint32_t i = 0; i < c->nrounds && i < WL_CALIB_MAX_ROUNDS; i++) {
			if (i)
				ag_line_char(&l, ',');
			ag_line_u64(&l, c->base_ticks[i]);
		}
		ag_line_char(&l, ']');
	}
	ag_emit_line(&l);
}

void ag_calib_env(struct wl_env *env)
{
	ag_calib_install(env);
	env->emit_calib = ag_emit_calib;
}
