/*
 * `virttax gate` exit codes and JUnit output on the synthetic results in
 * tests/data/, and the HTML report rendered in headless Chromium (the charts
 * must be in the DOM a browser builds, not just in the text).
 */
#include <criterion/criterion.h>
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
	cr_assert(strstr(err, "pass"));
	cr_assert_eq(gate("tests/data/synthetic-a.json", "tests/data/synthetic-b.json", "", err,
			  sizeof(err)),
		     1, "%s", err);
	cr_assert(strstr(err, "regression: exit-storm time vm[pagesize=2m]"), "%s", err);
	cr_assert_null(strstr(err, "regression: mem-stream"), "1%% is noise: %s", err);
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
	cr_assert_eq(sh("cd / && true", NULL, 0), 0);
}

Test(gate, junit_is_well_formed_xml)
{
	char dir[] = "/tmp/vtx-gate-XXXXXX", cmd[512], out[8192];
	cr_assert(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "--junit %s/j.xml --markdown %s/g.md", dir, dir);
	cr_assert_eq(gate("tests/data/synthetic-a.json", "tests/data/synthetic-b.json", cmd, out,
			  sizeof(out)),
		     1);
	if (sh("command -v xmllint >/dev/null", NULL, 0) == 0) {
		snprintf(cmd, sizeof(cmd), "xmllint --noout %s/j.xml 2>&1", dir);
		cr_assert_eq(sh(cmd, out, sizeof(out)), 0, "xmllint: %s", out);
	}
	snprintf(cmd, sizeof(cmd), "grep -c '<failure type=\"regression\"' %s/j.xml", dir);
	sh(cmd, out, sizeof(out));
	cr_assert(atoi(out) >= 2, "failures: %s", out);
	snprintf(cmd, sizeof(cmd), "grep -c 'regression' %s/g.md", dir);
	sh(cmd, out, sizeof(out));
	cr_assert(atoi(out) >= 2);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	sh(cmd, NULL, 0);
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
