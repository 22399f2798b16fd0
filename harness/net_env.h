/*
 * The host side of the network workloads (harness/net_env.c): the tap a VM
 * is attached to, the veth pair in two network namespaces of the bare-metal
 * baseline, the reflector, an AF_PACKET struct wl_net (`virttax baseline
 * --netns --net-dev`), and iperf3. Fixtures are removed by their owner (the
 * io-net experiment's end(), which an interrupt reaches too).
 */
#ifndef VIRTTAX_HARNESS_NET_ENV_H
#define VIRTTAX_HARNESS_NET_ENV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define NET_TAP_MTU 65521  /* the tun driver's largest MTU */
#define NET_VETH_MTU 65521 /* the same, so both sides carry the same frames */

/* A tap named `name` (ip tuntap add), MTU NET_TAP_MTU, up, IPv6 off (no
 * router solicitations in the guest's rx ring). 0 or -errno with `err`. */
int net_tap_create(const char *name, char *err, size_t len);
void net_tap_remove(const char *name);

struct net_veth {
	char ns_a[32], ns_b[32];   /* network namespaces (ip netns) */
	char dev_a[16], dev_b[16]; /* the veth ends, one in each */
	char ip_a[20], ip_b[20];   /* 10.x.y.1/2, for iperf3 only */
	bool created;
};
/* Names from `tag` (e.g. the pid); removes any stale leftovers first. */
int net_veth_create(struct net_veth *v, const char *tag, char *err, size_t len);
void net_veth_remove(struct net_veth *v); /* always safe, idempotent */

/* The reflector: a thread with an AF_PACKET socket (EtherType 0x88B5) on
 * `ifname`, in network namespace `netns` (NULL: the harness's own). It
 * answers ECHO frames (MACs swapped), counts SINK frames and answers REPORT
 * with the counts. */
struct net_reflector {
	pthread_t th;
	int fd, ns_fd;
	volatile bool stop;
	bool started;
	uint8_t mac[6];
	uint64_t echoed, sunk, sunk_bytes, reports;
	int err; /* set by the thread before it signals ready */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool ready;
};
int net_reflector_start(struct net_reflector *r, const char *ifname, const char *netns, char *err,
			size_t len);
void net_reflector_stop(struct net_reflector *r);

/* AF_PACKET socket on `ifname` (current namespace) as a struct wl_net. */
struct wl_net;
struct wl_net *net_afp_open(const char *ifname, char *err, size_t len);
void net_afp_close(struct wl_net *n);

/* Enter network namespace `ns` (ip netns) with the calling thread. 0 or -errno. */
int net_enter_netns(const char *ns);

/* iperf3 -s in ns_b, iperf3 -c in ns_a for `secs` seconds, --json parsed:
 * end.sum_received.bits_per_second -> *gbps; *raw the whole JSON. */
int net_iperf3(const struct net_veth *v, unsigned secs, double *gbps, json_t **raw, char *err,
	       size_t len);

/* Run argv (PATH lookup): stdout into *out (malloc'd) when out != NULL, the
 * first stderr line into err. The exit status (0 ok, 128: killed) or -errno. */
int net_run_cmd(char *const argv[], char **out, char *err, size_t errlen);

#endif
