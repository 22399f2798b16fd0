/*
 * Unit tests of vmm-lite's option parsing (vmm-lite/options.c) and of its
 * devices on the I/O bus (vmm-lite/bus.c, dev_uart.c, dev_debug_exit.c).
 */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "vmm-lite/vmm.h"

Test(vmm_options, mem_sizes)
{
	uint64_t v;

	cr_assert_eq(parse_mem_size("128M", &v), 0);
	cr_assert_eq(v, 128ULL << 20);
	cr_assert_eq(parse_mem_size("1G", &v), 0);
	cr_assert_eq(v, 1ULL << 30);
	cr_assert_eq(parse_mem_size("1024M", &v), 0);
	cr_assert_eq(v, 1ULL << 30);
	cr_assert_eq(parse_mem_size("16777216", &v), 0);
	cr_assert_eq(v, 16ULL << 20);
	cr_assert_eq(parse_mem_size("2GiB", &v), 0);
	cr_assert_eq(v, 2ULL << 30);
	cr_assert_neq(parse_mem_size("0", &v), 0);
	cr_assert_neq(parse_mem_size("", &v), 0);
	cr_assert_neq(parse_mem_size("abc", &v), 0);
	cr_assert_neq(parse_mem_size("12X", &v), 0);
	cr_assert_neq(parse_mem_size("-1G", &v), 0);
	cr_assert_neq(parse_mem_size("99999999999999999999", &v), 0);
	cr_assert_neq(parse_mem_size("99999999999T", &v), 0);
}

Test(vmm_options, cpu_lists_and_backing)
{
	int cpus[4];
	uint32_t n;
	enum backing b;

	cr_assert_eq(parse_cpu_list("1", cpus, 4, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(cpus[0], 1);
	cr_assert_eq(parse_cpu_list("0,1,3", cpus, 4, &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(cpus[2], 3);
	cr_assert_neq(parse_cpu_list("0,,1", cpus, 4, &n), 0);
	cr_assert_neq(parse_cpu_list("0,1,2,3,4", cpus, 4, &n), 0);
	cr_assert_neq(parse_cpu_list("a", cpus, 4, &n), 0);
	cr_assert_neq(parse_cpu_list("-1", cpus, 4, &n), 0);
	cr_assert_eq(parse_backing("thp", &b), 0);
	cr_assert_eq(b, BACKING_THP);
	cr_assert_eq(parse_backing("hugetlb-1g", &b), 0);
	cr_assert_eq(b, BACKING_HUGETLB_1G);
	cr_assert_str_eq(backing_name(BACKING_HUGETLB_2M), "hugetlb-2m");
	cr_assert_neq(parse_backing("2m", &b), 0);
}

static int parse(struct vmm_options *o, char *err, int argc, char **argv)
{
	return vmm_parse_options(argc, argv, o, err, 256);
}

Test(vmm_options, full_command_line)
{
	struct vmm_options o;
	char err[256];
	char *argv[] = {"vmm-lite",	"--kernel", "k.elf",	    "--cmdline", "workload=noop",
			"--mem",	"1G",	    "--vcpus",	    "2",	 "--backing",
			"thp",		"--pin",    "1,0",	    "--timeout", "30",
			"--stats-json", "s.json",   "--control-fd", "5",	 NULL};

	cr_assert_eq(parse(&o, err, 19, argv), 0, "%s", err);
	cr_assert_str_eq(o.kernel, "k.elf");
	cr_assert_str_eq(o.cmdline, "workload=noop");
	cr_assert_eq(o.mem_bytes, 1ULL << 30);
	cr_assert_eq(o.nvcpus, 2);
	cr_assert_eq(o.backing, BACKING_THP);
	cr_assert_eq(o.npin, 2);
	cr_assert_eq(o.pin[0], 1);
	cr_assert_eq(o.timeout_s, 30);
	cr_assert_str_eq(o.stats_json, "s.json");
	cr_assert_eq(o.control_fd, 5);
}

Test(vmm_options, defaults_and_errors)
{
	struct vmm_options o;
	char err[256];
	char *ok[] = {"vmm-lite", "--kernel", "k", NULL};
	char *nokernel[] = {"vmm-lite", NULL};
	char *small[] = {"vmm-lite", "--kernel", "k", "--mem", "8M", NULL};
	char *zero[] = {"vmm-lite", "--kernel", "k", "--mem", "0", NULL};
	char *odd[] = {"vmm-lite", "--kernel", "k", "--mem", "16777217", NULL};
	char *vcpus[] = {"vmm-lite", "--kernel", "k", "--vcpus", "0", NULL};
	char *bogus[] = {"vmm-lite", "--kernel", "k", "--frobnicate", NULL};
	char *extra[] = {"vmm-lite", "--kernel", "k", "stray", NULL};
	char *help[] = {"vmm-lite", "--help", NULL};

	cr_assert_eq(parse(&o, err, 3, ok), 0);
	cr_assert_eq(o.mem_bytes, VMM_DEFAULT_MEM);
	cr_assert_eq(o.nvcpus, 1);
	cr_assert_eq(o.timeout_s, VMM_DEFAULT_TIMEOUT_S);
	cr_assert_eq(o.control_fd, -1);
	cr_assert_neq(parse(&o, err, 1, nokernel), 0);
	cr_assert(strstr(err, "--kernel"), "%s", err);
	cr_assert_neq(parse(&o, err, 5, small), 0);
	cr_assert(strstr(err, "--mem"), "%s", err);
	cr_assert_neq(parse(&o, err, 5, zero), 0);
	cr_assert_neq(parse(&o, err, 5, odd), 0);
	cr_assert_neq(parse(&o, err, 5, vcpus), 0);
	cr_assert_neq(parse(&o, err, 4, bogus), 0);
	cr_assert_neq(parse(&o, err, 4, extra), 0);
	cr_assert_eq(parse(&o, err, 2, help), 1);
}

static void null_read(struct bus_dev *d, uint64_t off, uint8_t *data, uint32_t len)
{
	(void)d;
	for (uint32_t i = 0; i < len; i++)
		data[i] = (uint8_t)(off + i);
}

static const struct bus_dev_ops null_ops = {.name = "null", .read = null_read};

Test(vmm_bus, register_and_dispatch)
{
	struct bus b = {0};
	struct bus_dev d1 = {.ops = &null_ops, .base = 0x100, .len = 8};
	struct bus_dev d2 = {.ops = &null_ops, .base = 0x104, .len = 8};
	struct bus_dev d3 = {.ops = &null_ops, .base = 0x108, .len = 8};
	uint8_t data[4];

	cr_assert_eq(bus_register(&b, &d1), 0);
	cr_assert_neq(bus_register(&b, &d2), 0, "overlap accepted");
	cr_assert_eq(bus_register(&b, &d3), 0);
	cr_assert(bus_access(&b, 0x102, data, 2, false));
	cr_assert_eq(data[0], 2);
	cr_assert_eq(data[1], 3);
	cr_assert_not(bus_access(&b, 0x106, data, 4, false), "access straddling two devices");
	cr_assert_eq(data[0], 0xff);
	cr_assert_not(bus_access(&b, 0x200, data, 1, true));
	cr_assert_eq(b.unhandled_reads, 1);
	cr_assert_eq(b.unhandled_writes, 1);
}

static void tag_read(struct bus_dev *d, uint64_t off, uint8_t *data, uint32_t len)
{
	(void)off;
	memset(data, (int)(uintptr_t)d->priv, len);
}

static const struct bus_dev_ops tag_ops = {.name = "tag", .read = tag_read};

/* the previous device is tried first: it must never take another's access */
Test(vmm_bus, last_device_hint_never_misroutes)
{
	struct bus b = {0};
	struct bus_dev d[3] = {
	    {.ops = &tag_ops, .base = 0x10, .len = 4, .priv = (void *)1},
	    {.ops = &tag_ops, .base = 0x20, .len = 4, .priv = (void *)2},
	    {.ops = &tag_ops, .base = 0x30, .len = 4, .priv = (void *)3},
	};
	static const struct {
		uint64_t addr;
		uint32_t len;
		int want; /* 0: nobody */
	} seq[] = {{0x30, 1, 3}, {0x33, 1, 3}, {0x10, 2, 1}, {0x31, 4, 0}, {0x12, 2, 1},
		   {0x23, 1, 2}, {0x14, 1, 0}, {0x20, 4, 2}, {0x33, 1, 3}};
	uint8_t data[4];

	for (int i = 0; i < 3; i++)
		cr_assert_eq(bus_register(&b, &d[i]), 0);
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		bool hit = bus_access(&b, seq[i].addr, data, seq[i].len, false);
		cr_assert_eq(hit, seq[i].want != 0, "access %zu at %#lx", i,
			     (unsigned long)seq[i].addr);
		cr_assert_eq(data[0], seq[i].want ? seq[i].want : 0xff, "access %zu", i);
	}
	cr_assert_eq(b.unhandled_reads, 2);
}

static uint8_t uart_in(struct uart16550 *u, uint64_t reg)
{
	uint8_t v;

	u->dev.ops->read(&u->dev, reg, &v, 1);
	return v;
}

static void uart_out(struct uart16550 *u, uint64_t reg, uint8_t v)
{
	u->dev.ops->write(&u->dev, reg, &v, 1);
}

Test(vmm_uart, registers_and_output)
{
	struct uart16550 u;
	int p[2];
	char out[64] = "";
	ssize_t n;

	cr_assert_eq(pipe(p), 0);
	uart_init(&u, 0x3f8, p[1]);
	cr_assert_eq(uart_in(&u, 5) & 0x60, 0x60, "LSR must say THR empty and TEMT");
	cr_assert_eq(uart_in(&u, 2) & 0x01, 0x01, "IIR: no interrupt pending");
	uart_out(&u, 2, 0x01); /* FIFO on */
	cr_assert_eq(uart_in(&u, 2) & 0xc0, 0xc0);
	uart_out(&u, 7, 0x5a);
	cr_assert_eq(uart_in(&u, 7), 0x5a);
	uart_out(&u, 1, 0xff);
	cr_assert_eq(uart_in(&u, 1), 0x0f, "IER keeps 4 bits");
	uart_out(&u, 3, 0x83); /* DLAB */
	uart_out(&u, 0, 0x01);
	uart_out(&u, 1, 0x00);
	cr_assert_eq(uart_in(&u, 0), 0x01);
	cr_assert_eq(uart_in(&u, 1), 0x00);
	uart_out(&u, 3, 0x03);
	cr_assert_eq(uart_in(&u, 1), 0x0f, "IER survives DLAB");
	uart_out(&u, 0, 'h');
	uart_out(&u, 0, 'i');
	cr_assert_eq(u.nbuf, 2, "buffered until newline");
	uart_out(&u, 0, '\n');
	cr_assert_eq(u.nbuf, 0);
	n = read(p[0], out, sizeof(out) - 1);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(out, "hi\n", "DLL write must not be printed");
	cr_assert_eq(u.bytes_out, 3);
	cr_assert_neq(u.first_byte_ns, 0);
	uart_out(&u, 0, 'x');
	uart_destroy(&u); /* flushes */
	cr_assert_eq(read(p[0], out, sizeof(out)), 1);
	cr_assert_eq(out[0], 'x');
	close(p[0]);
	close(p[1]);
}

Test(vmm_uart, flush_when_full)
{
	struct uart16550 u;
	int p[2];
	static char out[8192];

	cr_assert_eq(pipe(p), 0);
	uart_init(&u, 0x3f8, p[1]);
	for (size_t i = 0; i < sizeof(u.buf) + 1; i++)
		uart_out(&u, 0, 'a');
	cr_assert_eq(u.nbuf, 1);
	cr_assert_eq(read(p[0], out, sizeof(out)), (ssize_t)sizeof(u.buf));
	uart_destroy(&u);
	close(p[0]);
	close(p[1]);
}
