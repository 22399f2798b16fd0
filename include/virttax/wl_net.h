/*
 * A network interface as the network workloads (net-rr, net-stream) see it,
 * and the reflector protocol they speak with the host.
 *
 * Why a separate header (like wl_blk.h): the guest agent's virtio-net driver
 * and the harness's AF_PACKET endpoint (the veth baseline) both implement
 * struct wl_net, so the very same workload code runs in the VM and on bare
 * metal. workloads/net_io.c defines a weak wl_net_get() returning
 * wl_net_hosted (NULL unless the harness set it); the agent defines the real
 * one. Frames are raw Ethernet: no IP stack on either side.
 */
#ifndef VIRTTAX_WL_NET_H
#define VIRTTAX_WL_NET_H

#include <stdbool.h>
#include <stdint.h>

struct wl_net {
	const char *driver; /* "virtio-net", "af-packet" */
	uint8_t mac[6];
	uint32_t max_frame; /* largest frame (Ethernet header included) */
	/* Queue one frame (copied). 0, or -EAGAIN (-11) when the tx ring is full:
	 * call again; -errno on error. */
	int (*send)(struct wl_net *n, const void *frame, uint32_t len);
	/* Next received frame: 1, with frame and len valid until release(); 0 when none. */
	int (*recv)(struct wl_net *n, const uint8_t **frame, uint32_t *len);
	void (*release)(struct wl_net *n);
	void *priv;
};

struct wl_net *wl_net_get(void);
extern struct wl_net *wl_net_hosted; /* set by the harness for the bare-metal baseline */

/* ---- reflector protocol: Ethernet type 0x88B5 (IEEE local experimental) ---- */
#define VTX_NET_ETHERTYPE 0x88b5
#define VTX_NET_MAGIC 0x4e585456u /* "VTXN" */
#define VTX_NET_MIN_FRAME 64
#define VTX_NET_MAX_FRAME 65535 /* the tap's largest MTU (65521) + 14 */
enum vtx_net_op {
	VTX_NET_ECHO = 1,   /* reflected back whole, MACs swapped */
	VTX_NET_SINK = 2,   /* counted, not answered */
	VTX_NET_REPORT = 3, /* answered with the frames/bytes sunk since the last report */
};
struct vtx_net_msg { /* after the 14-byte Ethernet header, little endian */
	uint32_t magic;
	uint32_t op;
	uint64_t seq;
	uint64_t frames, bytes; /* REPORT answers */
};
#define VTX_NET_HDR 14

#endif
