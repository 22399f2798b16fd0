/*
 * `virttax gate` exit codes and outputs on the synthetic results in
 * tests/data/ and on candidates made from them by one change each: the gate
 * fails closed (a missing workload or metric, crashed VM runs, too few reps,
 * other parameters, a partial file), its JUnit validates against
 * tests/data/junit.xsd; options go anywhere. And the HTML report rendered in
 * headless Chromium (the charts must be in the DOM a browser builds).
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *build_dir(void)
{
	const char *b = getenv("VTX_BUILD");
	return b && *b ? b : "build";
}

/* Run a shell command; its exit status. Output to `out` (may be NULL). */
static int sh(const char *cmd, char *out, size_t len)
{
	FILE *p = popen(cmd, "r");
	cr_assert(p, "popen %s", cmd);
	size_t n = 0;
	char buf[4096];
	size_t r;
	while ((r = fread(buf, 1, sizeof(buf), p)) > 0)
		if (out && n + 1 < len) {
			size_t k = r < len - n - 1 ? r : len - n - 1;
			memcpy(out + n, buf, k);
			n += k;
		}
	if (out)
		out[n] = 0;
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int gate(const char *a, const char *b, const char *extra, char *err, size_t len)
{
	char cmd[4096];
	snprintf(cmd, sizeof(cmd),
		 "%s/virttax gate --baseline %s --candidate %s %s 2>&1 >/dev/null", build_dir(), a,
		 b, extra);
	return sh(cmd, err, len);
}

Test(gate, exit_codes)
{
	static char err[16384];
	cr_assert_eq(gate("tests/data/synthetic-a.json", "tests/data/synthetic-a.json", "", err,
			  sizeof(err)),
		     0, "%s", err);
	cr_assert(strstr(err, "virttax gate: pass"), "%s", err);
	cr_assert_eq(gate("tests/data/synthetic-a.json", "tests/data/synthetic-b.json", "", err,
			  sizeof(err)),
		     1, "%s", err);
	cr_assert(strstr(err, "regression: exit-storm time vm[pagesize=2m] overhead"), "%s", err);
	cr_assert_null(strstr(err, "regression: mem-stream"), "1%% is within the noise: %s", err);
	cr_assert_eq(gate("tests/data/synthetic-a.json", "tests/data/synthetic-c.json", "", err,
			  sizeof(err)),
		     0, "improvements pass: %s", err);
	cr_assert_eq(
	    gate("tests/data/synthetic-a.json", "/nonexistent/results.json", "", err, sizeof(err)),
	    2);
	cr_assert(strstr(err, "/nonexistent"));
	cr_assert_eq(gate("tests/data/synthetic-a.json", "tests/data/make_synthetic.py", "", err,
			  sizeof(err)),
		     2, "not JSON");
	cr_assert_eq(gate("tests/data/synthetic-a.json", "tests/data/synthetic-b.json",
			  "--noise abc", err, sizeof(err)),
		     2);
	cr_assert_eq(gate("tests/data/synthetic-a.json", "tests/data/synthetic-b.json",
			  "--allow-param-diff nosuch", err, sizeof(err)),
		     2);
	cr_assert(strstr(err, "vmm-build"), "the categories are listed: %s", err);
}

/* ---- fail-closed: candidates made from synthetic-a.json by one change each ---- */

static char tmp_dir[] = "/tmp/vtx-gate-XXXXXX";

static void setup(void)
{
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/vtx-gate-XXXXXX");
	cr_assert(mkdtemp(tmp_dir));
}

static void teardown(void)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
	sh(cmd, NULL, 0);
}

static json_t *synthetic_a(void)
{
	json_error_t e;
	json_t *j = json_load_file("tests/data/synthetic-a.json", 0, &e);
	cr_assert(j, "%s", e.text);
	return j;
}

static json_t *workload(json_t *root, const char *name)
{
	size_t i;
	json_t *w;
	json_array_foreach(
	    json_object_get(root, "workloads"), i,
	    w) if (!strcmp(json_string_value(json_object_get(w, "name")), name)) return w;
	cr_assert_fail("no workload %s", name);
	return NULL;
}

/* Write j (stolen) to TMP/name; the path in a static buffer per call site */
static const char *save(json_t *j, const char *name, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", tmp_dir, name);
	cr_assert_eq(json_dump_file(j, path, JSON_INDENT(1)), 0);
	json_decref(j);
	return path;
}

Test(gate, candidate_missing_a_workload_fails, .init = setup, .fini = teardown)
{
	static char err[16384];
	char path[512];
	json_t *b = synthetic_a(), *wls = json_object_get(b, "workloads");
	for (size_t i = json_array_size(wls); i-- > 0;)
		if (!strcmp(json_string_value(json_object_get(json_array_get(wls, i), "name")),
			    "mem-stream"))
			json_array_remove(wls, i);
	save(b, "no-stream.json", path, sizeof(path));
	cr_assert_eq(gate("tests/data/synthetic-a.json", path, "", err, sizeof(err)), 1, "%s", err);
	cr_assert(strstr(err, "missing: mem-stream: workload of the baseline not in the candidate"),
		  "%s", err);
	cr_assert(strstr(err, "virttax gate: FAIL"), "%s", err);
	cr_assert_eq(gate("tests/data/synthetic-a.json", path, "--allow-missing", err, sizeof(err)),
		     0, "explicit opt-out: %s", err);
	cr_assert(strstr(err, "allowed missing: mem-stream"), "still named: %s", err);
}

Test(gate, candidate_missing_a_metric_fails, .init = setup, .fini = teardown)
{
	static char err[16384];
	char path[512];
	json_t *b = synthetic_a(), *run;
	size_t i;
	/* cpu-int's VM runs lost their ns_per_iter */
	json_array_foreach(json_object_get(workload(b, "cpu-int"), "runs"), i, run)
	{
		json_t *ms = json_object_get(run, "metrics");
		for (size_t k = json_array_size(ms); k-- > 0;)
			if (!strcmp(json_string_value(json_object_get(json_array_get(ms, k), "m")),
				    "ns_per_iter") &&
			    !strcmp(json_string_value(json_object_get(run, "side")), "vm"))
				json_array_remove(ms, k);
	}
	save(b, "no-metric.json", path, sizeof(path));
	cr_assert_eq(gate("tests/data/synthetic-a.json", path, "", err, sizeof(err)), 1, "%s", err);
	cr_assert(strstr(err, "missing: cpu-int ns_per_iter vm[pagesize=2m] overhead"), "%s", err);
}

Test(gate, candidate_with_crashed_vm_runs_fails, .init = setup, .fini = teardown)
{
	static char err[16384];
	char path[512];
	json_t *b = synthetic_a(), *run;
	size_t i;
	json_array_foreach(json_object_get(workload(b, "cpu-int"), "runs"), i, run)
	{
		if (strcmp(json_string_value(json_object_get(run, "side")), "vm"))
			continue;
		json_object_set_new(run, "status", json_string("crash"));
		json_object_set_new(run, "reason", json_string("guest exception: #GP"));
	}
	save(b, "crashed.json", path, sizeof(path));
	cr_assert_eq(gate("tests/data/synthetic-a.json", path, "", err, sizeof(err)), 1, "%s", err);
	cr_assert(strstr(err, "failed-runs: candidate run cpu-int vm[pagesize=4k] rep 0: crash: "
			      "guest exception: #GP"),
		  "%s", err);
	cr_assert(strstr(err, "missing: cpu-int time vm[pagesize=4k] overhead"),
		  "and its rows have no samples: %s", err);
	/* every VM run of every workload crashed: still compared, still named (not "bad input") */
	json_t *c = synthetic_a(), *w;
	size_t k;
	json_array_foreach(json_object_get(c, "workloads"), k, w) json_array_foreach(
	    json_object_get(w, "runs"), i,
	    run) if (!strcmp(json_string_value(json_object_get(run, "side")), "vm"))
	    json_object_set_new(run, "status", json_string("crash"));
	save(c, "all-crashed.json", path, sizeof(path));
	cr_assert_eq(gate("tests/data/synthetic-a.json", path, "", err, sizeof(err)), 1, "%s", err);
	cr_assert(strstr(err, "failed-runs: candidate run exit-storm"), "%s", err);
	/* opting out of failed runs alone is not enough: the rows are still missing */
	cr_assert_eq(
	    gate("tests/data/synthetic-a.json", path, "--allow-failed-runs", err, sizeof(err)), 1,
	    "%s", err);
}

Test(gate, candidate_with_3_reps_is_inconclusive, .init = setup, .fini = teardown)
{
	static char err[16384];
	char path[512];
	json_t *b = synthetic_a(), *w;
	size_t i;
	json_array_foreach(json_object_get(b, "workloads"), i, w)
	{
		json_t *runs = json_object_get(w, "runs");
		for (size_t k = json_array_size(runs); k-- > 0;)
			if (json_integer_value(json_object_get(json_array_get(runs, k), "rep")) >=
			    3)
				json_array_remove(runs, k);
	}
	json_object_set_new(json_object_get(b, "parameters"), "reps", json_integer(3));
	save(b, "reps3.json", path, sizeof(path));
	cr_assert_eq(gate("tests/data/synthetic-a.json", path, "", err, sizeof(err)), 4, "%s", err);
	cr_assert(strstr(err, "inconclusive: cpu-int time vm[pagesize=4k] overhead: n=6+3: the "
			      "interval reaches 97.6% at most (99% needed)"),
		  "%s", err);
	cr_assert(strstr(err, "virttax gate: INCONCLUSIVE"), "%s", err);
	cr_assert(strstr(err, "runs per side (--reps "), "how many it needs: %s", err);
	/* both sides at 3 reps: the same */
	cr_assert_eq(gate(path, path, "", err, sizeof(err)), 4, "3 vs 3 can decide nothing: %s",
		     err);
	cr_assert_eq(gate(path, path, "--allow-inconclusive", err, sizeof(err)), 0, "%s", err);
}

Test(gate, candidate_with_other_parameters_fails, .init = setup, .fini = teardown)
{
	static char err[16384];
	char path[512];
	json_t *b = synthetic_a();
	json_object_set_new(json_object_get(workload(b, "cpu-int"), "params"), "iters",
			    json_string("1000000"));
	save(b, "params.json", path, sizeof(path));
	cr_assert_eq(gate("tests/data/synthetic-a.json", path, "", err, sizeof(err)), 1, "%s", err);
	cr_assert(strstr(err, "parameters: cpu-int parameters: baseline {"), "%s", err);
	cr_assert(strstr(err, "\"iters\":\"1000000\""), "%s", err);
	cr_assert_eq(gate("tests/data/synthetic-a.json", path, "--allow-param-diff workload", err,
			  sizeof(err)),
		     0, "%s", err);
	/* the host, the VMM build and the memory are parameters too */
	static const char *const what[][3] = {
	    {"environment", "kernel", "kernel"},
	    {"vmms", "vmm-lite", "VMM build"},
	    {"parameters", "mem_bytes", "guest memory"},
	};
	for (size_t k = 0; k < 3; k++) {
		json_t *c = synthetic_a(), *o = json_object_get(c, what[k][0]);
		if (!json_is_object(o))
			json_object_set_new(c, what[k][0], o = json_object());
		if (k == 0)
			json_object_set_new(o, "kernel", json_pack("{s:s}", "release", "6.1.0-x"));
		else if (k == 1)
			json_object_set_new(
			    o, "vmm-lite",
			    json_pack("{s:s,s:s}", "version", "x", "id", "fnv1a64:1"));
		else
			json_object_set_new(o, "mem_bytes", json_integer(1 << 30));
		save(c, "other.json", path, sizeof(path));
		cr_assert_eq(gate("tests/data/synthetic-a.json", path, "", err, sizeof(err)), 1,
			     "%s: %s", what[k][2], err);
		char needle[64];
		snprintf(needle, sizeof(needle), "parameters: %s", what[k][2]);
		cr_assert(strstr(err, needle), "%s", err);
	}
}

Test(gate, partial_results_fail, .init = setup, .fini = teardown)
{
	static char err[16384];
	char path[512];
	json_t *b = synthetic_a();
	json_object_set_new(b, "complete", json_false());
	json_object_set_new(
	    b, "stopped",
	    json_pack("{s:s,s:i,s:[]}", "reason", "SIGINT: kept", "runs_done", 10, "remaining"));
	save(b, "partial.json", path, sizeof(path));
	cr_assert_eq(gate("tests/data/synthetic-a.json", path, "", err, sizeof(err)), 1, "%s", err);
	cr_assert(strstr(err, "partial: candidate: partial results"), "%s", err);
	cr_assert_eq(gate("tests/data/synthetic-a.json", path, "--allow-partial", err, sizeof(err)),
		     0, "%s", err);
}

/* synthetic-a's cpu-int as series without a bare side (the shape of
 * vmm-footprint): bare runs dropped, VM runs' baseline_series null (or, as in
 * files from before the key, absent), every VM value times `scale` */
static json_t *no_bare_side(double scale, bool key)
{
	json_t *j = synthetic_a(), *runs = json_object_get(workload(j, "cpu-int"), "runs");
	json_object_set_new(j, "workloads", json_pack("[O]", workload(j, "cpu-int")));
	for (size_t k = json_array_size(runs); k-- > 0;) {
		json_t *run = json_array_get(runs, k), *m;
		if (!strcmp(json_string_value(json_object_get(run, "side")), "bare")) {
			json_array_remove(runs, k);
			continue;
		}
		if (key)
			json_object_set_new(run, "baseline_series", json_null());
		else
			json_object_del(run, "baseline_series");
		size_t i;
		json_array_foreach(json_object_get(run, "metrics"), i, m) json_object_set_new(
		    m, "v", json_real(json_number_value(json_object_get(m, "v")) * scale));
	}
	return j;
}

Test(gate, series_without_a_bare_side_are_judged, .init = setup, .fini = teardown)
{
	static char err[16384];
	char a[512], b[512];
	for (int key = 0; key < 2; key++) {
		save(no_bare_side(1.0, key), "nobare-a.json", a, sizeof(a));
		save(no_bare_side(2.0, key), "nobare-b.json", b, sizeof(b));
		cr_assert_eq(gate(a, a, "", err, sizeof(err)), 0, "key %d: %s", key, err);
		cr_assert_eq(gate(a, b, "", err, sizeof(err)), 1, "VM 2x slower, key %d: %s", key,
			     err);
		cr_assert(strstr(err, "regression: cpu-int time vm[pagesize=2m] vm:"), "%s", err);
		cr_assert_null(strstr(err, "nothing-judged"), "%s", err);
	}
	/* a reference series (kvm-floor in footprint: "reference" on its runs)
	 * is shown, not judged: 2x slower there is the host, not the VMM */
	json_t *ref[2] = {no_bare_side(1.0, true), no_bare_side(2.0, true)}, *run;
	for (int f = 0; f < 2; f++) {
		size_t i;
		json_array_foreach(json_object_get(workload(ref[f], "cpu-int"), "runs"), i, run)
		    json_object_set_new(
			run, "reference",
			json_boolean(!strcmp(json_string_value(json_object_get(run, "series")),
					     "vm[pagesize=4k]")));
	}
	save(ref[0], "ref-a.json", a, sizeof(a));
	save(ref[1], "ref-b.json", b, sizeof(b));
	cr_assert_eq(gate(a, b, "", err, sizeof(err)), 1, "%s", err);
	cr_assert(strstr(err, "regression: cpu-int time vm[pagesize=2m] vm:"), "%s", err);
	cr_assert_null(strstr(err, "vm[pagesize=4k] vm:"), "the reference is not judged: %s", err);
}

Test(gate, nothing_to_judge_fails, .init = setup, .fini = teardown)
{
	static char err[16384];
	char path[512];
	json_t *j = synthetic_a(), *w, *run, *m;
	size_t i, k, l;
	json_array_foreach(json_object_get(j, "workloads"), i, w)
	    json_array_foreach(json_object_get(w, "runs"), k, run)
		json_array_foreach(json_object_get(run, "metrics"), l, m)
		    json_object_set_new(m, "role", json_string("info"));
	save(j, "info-only.json", path, sizeof(path));
	cr_assert_eq(gate(path, path, "", err, sizeof(err)), 1, "%s", err);
	cr_assert(strstr(err, "nothing-judged: all rows: no row the gate judges"), "%s", err);
	cr_assert(strstr(err, "virttax gate: FAIL"), "%s", err);
	cr_assert_eq(gate(path, path, "--allow-missing --allow-inconclusive", err, sizeof(err)), 1,
		     "no opt-out: %s", err);
}

/* compare and gate take their options anywhere, as getopt users expect */
Test(gate, options_in_any_order)
{
	static char out[65536];
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "%s/virttax compare tests/data/synthetic-a.json tests/data/synthetic-b.json "
		 "--noise 5 2>&1",
		 build_dir());
	cr_assert_eq(sh(cmd, out, sizeof(out)), 0, "%s", out);
	cr_assert(strstr(out, "regression"), "%s", out);
	snprintf(cmd, sizeof(cmd),
		 "%s/virttax compare --noise 25 tests/data/synthetic-a.json "
		 "tests/data/synthetic-b.json --json - 2>/dev/null",
		 build_dir());
	cr_assert_eq(sh(cmd, out, sizeof(out)), 0, "%s", out);
	cr_assert(strstr(out, "\"noise_pct\": 25"), "--noise after A B is read: %s", out);
	snprintf(cmd, sizeof(cmd),
		 "%s/virttax gate tests/data/synthetic-a.json --noise 30 "
		 "tests/data/synthetic-b.json 2>&1 >/dev/null",
		 build_dir());
	cr_assert_eq(sh(cmd, out, sizeof(out)), 0, "a 20%% slowdown within 30%% noise: %s", out);
	snprintf(cmd, sizeof(cmd), "%s/virttax compare a b c 2>&1", build_dir());
	cr_assert_eq(sh(cmd, out, sizeof(out)), 2, "three runs: %s", out);
	snprintf(cmd, sizeof(cmd),
		 "%s/virttax report --format csv tests/data/synthetic-a.json -o /dev/null && "
		 "%s/virttax report tests/data/synthetic-a.json --format csv >/dev/null",
		 build_dir(), build_dir());
	cr_assert_eq(sh(cmd, NULL, 0), 0, "report too");
}

Test(gate, junit_validates_against_the_schema, .init = setup, .fini = teardown)
{
	char cmd[1024], out[16384], path[512];
	cr_assert_eq(sh("command -v xmllint >/dev/null", NULL, 0), 0,
		     "xmllint missing: scripts/install-deps.sh installs libxml2-utils");
	snprintf(cmd, sizeof(cmd), "--junit %s/j.xml --markdown %s/g.md", tmp_dir, tmp_dir);
	cr_assert_eq(gate("tests/data/synthetic-a.json", "tests/data/synthetic-b.json", cmd, out,
			  sizeof(out)),
		     1);
	snprintf(cmd, sizeof(cmd), "xmllint --noout --schema tests/data/junit.xsd %s/j.xml 2>&1",
		 tmp_dir);
	cr_assert_eq(sh(cmd, out, sizeof(out)), 0, "xmllint: %s", out);
	snprintf(cmd, sizeof(cmd),
		 "grep -c '<failure type=\"regression\" message=\"regression: ' %s/j.xml", tmp_dir);
	sh(cmd, out, sizeof(out));
	cr_assert_eq(atoi(out), 2, "failures: %s", out);
	snprintf(cmd, sizeof(cmd), "grep -c 'noise 5%%</failure>' %s/j.xml", tmp_dir);
	sh(cmd, out, sizeof(out));
	cr_assert_eq(atoi(out), 2, "the text in the failure's body: %s", out);
	snprintf(cmd, sizeof(cmd), "grep -c 'regression' %s/g.md", tmp_dir);
	sh(cmd, out, sizeof(out));
	cr_assert(atoi(out) >= 2);
	/* the schema can fail: the old empty <failure/> and a suite without a hostname */
	FILE *f = fopen(save(json_object(), "bad.xml", path, sizeof(path)), "w");
	cr_assert(f);
	fprintf(f, "<testsuites><testsuite name=\"s\" tests=\"1\" failures=\"1\" errors=\"0\" "
		   "time=\"1\" timestamp=\"2026-01-01T00:00:00\"><testcase classname=\"c\" "
		   "name=\"n\" time=\"0\"><failure type=\"regression\" message=\"m\"/></testcase>"
		   "</testsuite></testsuites>\n");
	fclose(f);
	snprintf(cmd, sizeof(cmd), "xmllint --noout --schema tests/data/junit.xsd %s 2>&1", path);
	cr_assert_neq(sh(cmd, out, sizeof(out)), 0, "the schema must reject it: %s", out);
	cr_assert(strstr(out, "hostname") && strstr(out, "failure"), "%s", out);
}

/* A candidate with inconclusive rows and a failure: the failure decides (exit 1);
 * the JUnit names every cause as a testcase that CI shows. */
Test(gate, junit_names_every_cause, .init = setup, .fini = teardown)
{
	char cmd[1024], out[65536], path[512];
	json_t *b = synthetic_a(), *wls = json_object_get(b, "workloads");
	json_array_remove(wls, json_array_size(wls) - 1); /* mem-stream */
	json_object_set_new(json_object_get(workload(b, "cpu-int"), "params"), "iters",
			    json_string("7"));
	save(b, "two-causes.json", path, sizeof(path));
	snprintf(cmd, sizeof(cmd), "--junit %s/j.xml", tmp_dir);
	cr_assert_eq(gate("tests/data/synthetic-a.json", path, cmd, out, sizeof(out)), 1, "%s",
		     out);
	snprintf(cmd, sizeof(cmd), "xmllint --noout --schema tests/data/junit.xsd %s/j.xml 2>&1",
		 tmp_dir);
	cr_assert_eq(sh(cmd, out, sizeof(out)), 0, "xmllint: %s", out);
	snprintf(cmd, sizeof(cmd), "cat %s/j.xml", tmp_dir);
	sh(cmd, out, sizeof(out));
	cr_assert(strstr(out, "<testcase classname=\"virttax.gate\" name=\"missing: mem-stream\""),
		  "%s", out);
	cr_assert(strstr(out, "name=\"parameters: cpu-int parameters\""), "%s", out);
	cr_assert(strstr(out, "<failure type=\"parameters\""), "%s", out);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

Test(report, html_renders_in_headless_chromium, .timeout = 120)
{
	if (sh("command -v chromium >/dev/null", NULL, 0))
		cr_skip_test("chromium not installed (scripts/install-deps.sh installs it)");
	char dir[] = "/tmp/vtx-html-XXXXXX", cmd[2048];
	static char dom[1 << 20];
	cr_assert(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd),
		 "%s/virttax report tests/data/synthetic-a.json --format html -o %s/r.html",
		 build_dir(), dir);
	cr_assert_eq(sh(cmd, NULL, 0), 0);
	snprintf(cmd, sizeof(cmd),
		 "timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic "
		 "--no-first-run "
		 "--disable-background-networking --disable-component-update --disable-sync "
		 "--user-data-dir=%s/profile --dump-dom file://%s/r.html 2>/dev/null",
		 dir, dir);
	cr_assert_eq(sh(cmd, dom, sizeof(dom)), 0);
	cr_assert(strstr(dom, "<svg id=\"chart-decomposition\""), "no bar chart in the DOM");
	cr_assert(strstr(dom, "<svg id=\"chart-ladder\""), "no ladder in the DOM");
	cr_assert(strstr(dom, "id=\"chart-curve-mem-chase-latency\""));
	/* exit-storm, cpu-int and mem-stream, 2 series each: 6 bars; 5 priced ladder rungs */
	cr_assert_eq(count(dom, "<g class=\"bar\""), 6);
	cr_assert_eq(count(dom, "class=\"rung\""), 5);
	cr_assert_eq(count(dom, "class=\"series-line\""), 3, "bare, 4k and 2m curves");
	cr_assert(count(dom, "class=\"seg seg-mediation\"") >= 4);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	sh(cmd, NULL, 0);
}
