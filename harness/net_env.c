/*
 * Host side of net-rr / net-stream: tap, veth + network namespaces,
 * reflector, AF_PACKET endpoint, iperf3.
 *
 * Why this design (the simplest one that is correct):
 * - The reflector is a thread with an AF_PACKET socket bound to EtherType
 *   0x88B5 on the tap interface. A frame the guest transmits is written by
 *   vmm-lite into the tap fd, so the kernel receives it on the tap interface,
 *   where the packet socket sees it; the reflector's answer is sent on the
 *   same interface, which for a tap means "deliver to the fd", i.e. to
 *   vmm-lite's rx path. No bridge, no IP addresses, no routing: only frames
 *   of our EtherType are seen, nothing else on the machine is touched.
 * - The bare-metal baseline is the same exchange between two host endpoints:
 *   the same reflector code on one end of a veth pair in namespace B, and
 *   the same workload code (workloads/net_io.c, hosted build) in `virttax
 *   baseline --netns A --net-dev DEV` on an AF_PACKET socket on the other
 *   end in namespace A. Both enter their namespace with setns(CLONE_NEWNET),
 *   which is per-thread. iperf3 across the same veth (addresses inside the
 *   private namespaces only) is the TCP throughput reference.
 * - Namespaces, veth and tap are made and removed with iproute2 commands;
 *   leftovers of a killed run are removed before creating; the io-net
 *   experiment removes the current ones in its end(), which SIGINT/SIGTERM
 *   reach through the session (harness/session.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/proc.h"
#include "harness/net_env.h"
#include "virttax/wl_net.h"
#include "virttax/workload.h"

/* ---- commands ---- */

/* Run argv (PATH lookup): core/proc.c's proc_run. */
int net_run_cmd(char *const argv[], char **out, char *err, size_t errlen)
{
	return proc_run(argv, true, out, err, errlen);
}

#define CMD(err, len, ...) net_run_cmd((char *[]){__VA_ARGS__, NULL}, NULL, err, len)

/* ---- tap ---- */

int net_tap_create(const char *name, char *err, size_t len)
{
	char mtu[16], knob[96];
	int rc;

	snprintf(mtu, sizeof(mtu), "%d", NET_TAP_MTU);
	net_tap_remove(name);
	if ((rc = CMD(err, len, "ip", "tuntap", "add", "dev", (char *)name, "mode", "tap")))
		return rc < 0 ? rc : -EPERM;
	snprintf(knob, sizeof(knob), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
	int fd = open(knob, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) != 1)
			(void)0; /* IPv6 noise is filtered by the workload anyway */
		close(fd);
	}
	if ((rc = CMD(err, len, "ip", "link", "set", "dev", (char *)name, "mtu", mtu, "up"))) {
		net_tap_remove(name);
		return rc < 0 ? rc : -EINVAL;
	}
	return 0;
}

void net_tap_remove(const char *name)
{
	char e[8];

	CMD(e, 0, "ip", "tuntap", "del", "dev", (char *)name, "mode", "tap");
}

/* ---- veth in two namespaces ---- */

void net_veth_remove(struct net_veth *v)
{
	char e[8];

	if (!v->ns_a[0])
		return;
	CMD(e, 0, "ip", "netns", "del", v->ns_a); /* destroys its veth end and so the pair */
	CMD(e, 0, "ip", "netns", "del", v->ns_b);
	v->created = false;
}

int net_veth_create(struct net_veth *v, const char *tag, char *err, size_t len)
{
	char mtu[16];
	int rc;

	memset(v, 0, sizeof(*v));
	snprintf(v->ns_a, sizeof(v->ns_a), "vtx-a-%s", tag);
	snprintf(v->ns_b, sizeof(v->ns_b), "vtx-b-%s", tag);
	snprintf(v->dev_a, sizeof(v->dev_a), "vtxa%.10s", tag);
	snprintf(v->dev_b, sizeof(v->dev_b), "vtxb%.10s", tag);
	snprintf(v->ip_a, sizeof(v->ip_a), "10.203.0.1");
	snprintf(v->ip_b, sizeof(v->ip_b), "10.203.0.2");
	snprintf(mtu, sizeof(mtu), "%d", NET_VETH_MTU);
	net_veth_remove(v); /* a killed earlier run with the same tag */
	v->created = true;
	char ipa[24], ipb[24];
	snprintf(ipa, sizeof(ipa), "%s/24", v->ip_a);
	snprintf(ipb, sizeof(ipb), "%s/24", v->ip_b);
	if ((rc = CMD(err, len, "ip", "netns", "add", v->ns_a)) ||
	    (rc = CMD(err, len, "ip", "netns", "add", v->ns_b)) ||
	    (rc = CMD(err, len, "ip", "-n", v->ns_a, "link", "add", v->dev_a, "mtu", mtu, "type",
		      "veth", "peer", "name", v->dev_b, "mtu", mtu, "netns", v->ns_b)) ||
	    (rc = CMD(err, len, "ip", "-n", v->ns_a, "addr", "add", ipa, "dev", v->dev_a)) ||
	    (rc = CMD(err, len, "ip", "-n", v->ns_b, "addr", "add", ipb, "dev", v->dev_b)) ||
	    (rc = CMD(err, len, "ip", "-n", v->ns_a, "link", "set", v->dev_a, "up")) ||
	    (rc = CMD(err, len, "ip", "-n", v->ns_b, "link", "set", v->dev_b, "up")) ||
	    (rc = CMD(err, len, "ip", "-n", v->ns_a, "link", "set", "lo", "up")) ||
	    (rc = CMD(err, len, "ip", "-n", v->ns_b, "link", "set", "lo", "up"))) {
		net_veth_remove(v);
		return rc < 0 ? rc : -EPERM;
	}
	return 0;
}

int net_enter_netns(const char *ns)
{
	char path[96];
	int fd, rc = 0;

	if (!ns)
		return 0;
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (setns(fd, CLONE_NEWNET))
		rc = -errno;
	close(fd);
	return rc;
}

/* ---- AF_PACKET ---- */

static int packet_socket(const char *ifname, uint8_t mac[6], char *err, size_t len)
{
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(VTX_NET_ETHERTYPE));
	struct sockaddr_ll sll = {.sll_family = AF_PACKET,
				  .sll_protocol = htons(VTX_NET_ETHERTYPE)};
	struct ifreq ifr = {0};
	int big = 8 << 20;

	if (fd < 0) {
		snprintf(err, len, "AF_PACKET socket: %s (needs CAP_NET_RAW)", strerror(errno));
		return -errno;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (!(sll.sll_ifindex = (int)if_nametoindex(ifname)) ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) || ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		int e = errno;

		snprintf(err, len, "AF_PACKET on %s: %s", ifname, strerror(e));
		close(fd);
		return -e;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	return fd;
}

struct afp {
	struct wl_net pub;
	int fd;
	uint8_t buf[VTX_NET_MAX_FRAME + 64];
};

static int afp_send(struct wl_net *n, const void *frame, uint32_t len)
{
	struct afp *a = n->priv;

	if (send(a->fd, frame, len, MSG_DONTWAIT) == (ssize_t)len)
		return 0;
	return errno == EAGAIN || errno == ENOBUFS ? -EAGAIN : -errno;
}

static int afp_recv(struct wl_net *n, const uint8_t **frame, uint32_t *len)
{
	struct afp *a = n->priv;
	struct sockaddr_ll from;
	socklen_t fl = sizeof(from);

	for (;;) {
		ssize_t k = recvfrom(a->fd, a->buf, sizeof(a->buf), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fl);

		if (k <= 0)
			return 0;
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		*frame = a->buf;
		*len = (uint32_t)k;
		return 1;
	}
}

static void afp_release(struct wl_net *n)
{
	(void)n;
}

struct wl_net *net_afp_open(const char *ifname, char *err, size_t len)
{
	struct afp *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	if ((a->fd = packet_socket(ifname, a->pub.mac, err, len)) < 0) {
		free(a);
		return NULL;
	}
	a->pub.driver = "af-packet";
	a->pub.max_frame = VTX_NET_MAX_FRAME;
	a->pub.send = afp_send;
	a->pub.recv = afp_recv;
	a->pub.release = afp_release;
	a->pub.priv = a;
	return &a->pub;
}

void net_afp_close(struct wl_net *n)
{
	struct afp *a;

	if (!n)
		return;
	a = n->priv;
	close(a->fd);
	free(a);
}

/* ---- the reflector ---- */

static void reflect(struct net_reflector *r, uint8_t *f, size_t k)
{
	uint32_t op;

	if (k < 46 || f[12] != (VTX_NET_ETHERTYPE >> 8) || f[13] != (VTX_NET_ETHERTYPE & 0xff))
		return;
	memcpy(&op, f + 18, 4);
	if (op == VTX_NET_SINK) {
		r->sunk++;
		r->sunk_bytes += k;
		return;
	}
	if (op != VTX_NET_ECHO && op != VTX_NET_REPORT)
		return;
	memcpy(f, f + 6, 6); /* to the sender */
	memcpy(f + 6, r->mac, 6);
	if (op == VTX_NET_REPORT) {
		memcpy(f + 30, &r->sunk, 8);
		memcpy(f + 38, &r->sunk_bytes, 8);
		r->sunk = r->sunk_bytes = 0;
		r->reports++;
	} else
		r->echoed++;
	if (send(r->fd, f, k, 0) < 0)
		return; /* a lost answer is a lost transaction: the workload counts it */
}

static void *reflector_thread(void *arg)
{
	struct net_reflector *r = arg;
	static __thread uint8_t f[VTX_NET_MAX_FRAME + 64];

	pthread_mutex_lock(&r->lock);
	r->ready = true;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	while (!r->stop) {
		struct pollfd p = {.fd = r->fd, .events = POLLIN};
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t k;

		if (poll(&p, 1, 50) <= 0)
			continue;
		while ((k = recvfrom(r->fd, f, sizeof(f), MSG_DONTWAIT, (struct sockaddr *)&from,
				     &fl)) > 0) {
			if (from.sll_pkttype == PACKET_OUTGOING)
				continue;
			reflect(r, f, (size_t)k);
		}
	}
	return NULL;
}

struct refl_start {
	struct net_reflector *r;
	const char *ifname, *netns;
	char *err;
	size_t len;
};

static void *reflector_main(void *arg)
{
	struct refl_start s = *(struct refl_start *)arg;
	struct net_reflector *r = s.r;
	int rc = net_enter_netns(s.netns);

	if (rc) {
		snprintf(s.err, s.len, "setns %s: %s", s.netns, strerror(-rc));
		r->err = rc;
	} else if ((r->fd = packet_socket(s.ifname, r->mac, s.err, s.len)) < 0)
		r->err = r->fd;
	if (r->err) {
		pthread_mutex_lock(&r->lock);
		r->ready = true;
		pthread_cond_signal(&r->cond);
		pthread_mutex_unlock(&r->lock);
		return NULL;
	}
	return reflector_thread(r);
}

int net_reflector_start(struct net_reflector *r, const char *ifname, const char *netns, char *err,
			size_t len)
{
	struct refl_start s = {.r = r, .ifname = ifname, .netns = netns, .err = err, .len = len};
	int rc;

	memset(r, 0, sizeof(*r));
	r->fd = r->ns_fd = -1;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	if ((rc = pthread_create(&r->th, NULL, reflector_main, &s))) {
		snprintf(err, len, "reflector thread: %s", strerror(rc));
		return -rc;
	}
	pthread_mutex_lock(&r->lock);
	while (!r->ready)
		pthread_cond_wait(&r->cond, &r->lock);
	pthread_mutex_unlock(&r->lock);
	if (r->err) {
		pthread_join(r->th, NULL);
		return r->err;
	}
	r->started = true;
	return 0;
}

void net_reflector_stop(struct net_reflector *r)
{
	if (!r->started)
		return;
	r->stop = true;
	pthread_join(r->th, NULL);
	close(r->fd);
	r->started = false;
}

/* ---- in-process baseline ---- */

/* ---- iperf3 ---- */

int net_iperf3(const struct net_veth *v, unsigned secs, double *gbps, json_t **raw, char *err,
	       size_t len)
{
	char t[16], *out = NULL;
	pid_t srv;
	int rc;
	char *sargv[] = {"ip", "netns", "exec", (char *)v->ns_b, "iperf3",
			 "-s", "-1",	"-B",	(char *)v->ip_b, NULL};

	*raw = NULL;
	snprintf(t, sizeof(t), "%u", secs);
	struct proc_io io = {.out_fd = -1, .err_fd = -1, .keep_fd = -1, .search_path = true};
	rc = proc_spawn(sargv, &io, &srv);
	if (rc) {
		snprintf(err, len, "iperf3 server: %s", strerror(-rc));
		return rc;
	}
	/* the client retries while the server is still binding */
	for (int tries = 0; tries < 20; tries++) {
		free(out);
		out = NULL;
		rc = net_run_cmd((char *[]){"ip", "netns", "exec", (char *)v->ns_a, "iperf3", "-c",
					    (char *)v->ip_b, "-t", t, "--json", NULL},
				 &out, err, len);
		json_t *j = out ? json_loads(out, 0, NULL) : NULL;
		json_t *bps = json_object_get(
		    json_object_get(json_object_get(j, "end"), "sum_received"), "bits_per_second");
		if (!rc && json_is_number(bps)) {
			*gbps = json_number_value(bps) / 1e9;
			*raw = j;
			break;
		}
		json_decref(j);
		rc = rc ? rc : -EPROTO;
		usleep(100000);
	}
	free(out);
	if (rc) {
		kill(srv, SIGTERM);
		if (!err[0])
			snprintf(err, len, "iperf3 client failed");
	}
	waitpid(srv, NULL, 0);
	return rc > 0 ? -EIO : rc;
}
