/*
 * Unit tests of the legacy NIC's register state machine
 * (vmm-lite/dev_legacy_nic.c) driven through its bus handlers, with a
 * SOCK_SEQPACKET socketpair standing in for the tap (one frame per record,
 * like a tap fd). Hostile sequences: a tx length too large or too small,
 * data before a length and past it, SEND before the whole frame, a narrow
 * TX_LEN write, rx reads and RX_NEXT with nothing pending, reads past the
 * frame. Each must fail only that frame and leave the device serving.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "virttax/wl_net.h"
#include "vmm-lite/virtio.h"

static struct net_backend net;
static struct io_stats st;
static struct legacy_nic l;
static int peer;

static void setup(void)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
	int big = 1 << 20;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	memset(&net, 0, sizeof(net));
	memset(&st, 0, sizeof(st));
	net.fd = sv[0];
	peer = sv[1];
	memcpy(net.mac, (uint8_t[6]){0x52, 0x54, 0x00, 0x76, 0x74, 0x78}, 6);
	cr_assert_eq(legacy_nic_init(&l, &net, &st), 0);
}

static void teardown(void)
{
	legacy_nic_destroy(&l);
	close(net.fd);
	close(peer);
}

TestSuite(legacy_nic, .init = setup, .fini = teardown);

static void wr32(uint64_t off, uint32_t v)
{
	legacy_nic_write(&l.dev, off, (uint8_t *)&v, 4);
}

static void wr8(uint64_t off, uint8_t v)
{
	legacy_nic_write(&l.dev, off, &v, 1);
}

static uint32_t rd32(uint64_t off)
{
	uint32_t v = 0xdeadbeef;
	legacy_nic_read(&l.dev, off, (uint8_t *)&v, 4);
	return v;
}

static void send_words(const uint8_t *f, uint32_t len)
{
	for (uint32_t i = 0; i < len; i += 4) {
		uint32_t w = 0;
		memcpy(&w, f + i, len - i < 4 ? len - i : 4);
		wr32(LNIC_TX_DATA, w);
	}
}

static ssize_t peer_recv(uint8_t *buf, size_t len)
{
	return recv(peer, buf, len, MSG_DONTWAIT);
}

static void frame(uint8_t *f, uint32_t len, uint8_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		f[i] = (uint8_t)(seed + i * 7);
}

Test(legacy_nic, id_and_mac)
{
	cr_assert_eq(rd32(LNIC_ID), LNIC_MAGIC);
	for (int i = 0; i < 6; i++) {
		uint8_t b = 0;
		legacy_nic_read(&l.dev, LNIC_MAC + (uint64_t)i, &b, 1);
		cr_assert_eq(b, net.mac[i]);
	}
}

Test(legacy_nic, tx_good_frame_odd_length)
{
	uint8_t f[67], got[128];
	frame(f, sizeof(f), 3);
	wr32(LNIC_TX_LEN, sizeof(f));
	send_words(f, sizeof(f));
	wr8(LNIC_CMD, LNIC_CMD_SEND);
	cr_assert_eq(peer_recv(got, sizeof(got)), (ssize_t)sizeof(f));
	cr_assert_arr_eq(got, f, sizeof(f));
	cr_assert_eq(rd32(LNIC_STATUS) & LNIC_ST_TX_ERR, 0);
	cr_assert_eq(net.tx_frames, 1);
	cr_assert_eq(st.errors, 0);
	cr_assert_eq(st.exits, 1 + 17 + 1 + 1); /* len, 17 words, send, status */
}

Test(legacy_nic, tx_length_too_large_or_small)
{
	uint8_t f[64], got[64];
	frame(f, sizeof(f), 1);
	uint32_t bad[] = {VIRTIO_NET_MAX_FRAME + 1, 0xffffffffu, 0, VTX_NET_HDR - 1};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		wr32(LNIC_TX_LEN, bad[i]);
		send_words(f, sizeof(f)); /* must not be written anywhere */
		wr8(LNIC_CMD, LNIC_CMD_SEND);
		cr_assert(rd32(LNIC_STATUS) & LNIC_ST_TX_ERR, "len %u accepted", bad[i]);
		cr_assert_eq(peer_recv(got, sizeof(got)), -1);
	}
	cr_assert_eq(st.errors, 4);
	/* a narrow TX_LEN write is a bad length too */
	uint16_t n16 = 64;
	legacy_nic_write(&l.dev, LNIC_TX_LEN, (uint8_t *)&n16, 2);
	send_words(f, sizeof(f));
	wr8(LNIC_CMD, LNIC_CMD_SEND);
	cr_assert_eq(peer_recv(got, sizeof(got)), -1);
	/* the device still serves a good frame afterwards and clears TX_ERR */
	wr32(LNIC_TX_LEN, sizeof(f));
	send_words(f, sizeof(f));
	wr8(LNIC_CMD, LNIC_CMD_SEND);
	cr_assert_eq(peer_recv(got, sizeof(got)), 64);
	cr_assert_eq(rd32(LNIC_STATUS) & LNIC_ST_TX_ERR, 0);
}

Test(legacy_nic, tx_data_past_length_and_before_length)
{
	uint8_t f[64], got[256];
	frame(f, sizeof(f), 9);
	/* data with no frame started */
	wr32(LNIC_TX_DATA, 0x11223344);
	wr8(LNIC_CMD, LNIC_CMD_SEND);
	cr_assert(rd32(LNIC_STATUS) & LNIC_ST_TX_ERR);
	cr_assert_eq(peer_recv(got, sizeof(got)), -1);
	/* one word too many: the frame is failed, nothing overflows */
	wr32(LNIC_TX_LEN, sizeof(f));
	send_words(f, sizeof(f));
	wr32(LNIC_TX_DATA, 0xffffffff);
	wr8(LNIC_CMD, LNIC_CMD_SEND);
	cr_assert(rd32(LNIC_STATUS) & LNIC_ST_TX_ERR);
	cr_assert_eq(peer_recv(got, sizeof(got)), -1);
	/* 70000 words at the largest length: capped, failed */
	wr32(LNIC_TX_LEN, VIRTIO_NET_MAX_FRAME);
	for (int i = 0; i < 70000; i++)
		wr32(LNIC_TX_DATA, (uint32_t)i);
	wr8(LNIC_CMD, LNIC_CMD_SEND);
	cr_assert(rd32(LNIC_STATUS) & LNIC_ST_TX_ERR);
	cr_assert_eq(peer_recv(got, sizeof(got)), -1);
	/* SEND before the whole frame */
	wr32(LNIC_TX_LEN, sizeof(f));
	send_words(f, 32);
	wr8(LNIC_CMD, LNIC_CMD_SEND);
	cr_assert_eq(peer_recv(got, sizeof(got)), -1);
	cr_assert_eq(net.tx_dropped, 4);
	cr_assert_eq(net.tx_frames, 0);
	/* a second SEND with nothing started fails too */
	wr8(LNIC_CMD, LNIC_CMD_SEND);
	cr_assert_eq(net.tx_dropped, 5);
}

Test(legacy_nic, rx_nothing_pending)
{
	uint32_t w = 0x12345678;
	cr_assert_eq(rd32(LNIC_STATUS) & LNIC_ST_RX_READY, 0);
	cr_assert_eq(rd32(LNIC_RX_LEN), 0);
	legacy_nic_read(&l.dev, LNIC_RX_DATA, (uint8_t *)&w, 4);
	cr_assert_eq(w, 0);
	cr_assert(rd32(LNIC_STATUS) & LNIC_ST_RX_ERR);
	wr8(LNIC_CMD, LNIC_CMD_RX_NEXT);
	cr_assert_eq(net.rx_frames, 0);
	cr_assert_eq(st.requests, 0);
	cr_assert_geq(l.idle_polls, 2);
}

Test(legacy_nic, rx_frames_in_order_and_past_end)
{
	uint8_t a[70], b[64], got[72];
	frame(a, sizeof(a), 5);
	frame(b, sizeof(b), 77);
	cr_assert_eq(send(peer, a, sizeof(a), 0), (ssize_t)sizeof(a));
	cr_assert_eq(send(peer, b, sizeof(b), 0), (ssize_t)sizeof(b));
	cr_assert(rd32(LNIC_STATUS) & LNIC_ST_RX_READY);
	cr_assert_eq(rd32(LNIC_RX_LEN), sizeof(a));
	memset(got, 0xaa, sizeof(got));
	for (uint32_t i = 0; i < sizeof(got); i += 4) /* 72 bytes: 2 past the frame, padded 0 */
		legacy_nic_read(&l.dev, LNIC_RX_DATA, got + i, 4);
	cr_assert_arr_eq(got, a, sizeof(a));
	cr_assert_eq(got[70], 0);
	cr_assert_eq(got[71], 0);
	uint32_t w = 0xffffffff; /* past the end: zeros, RX_ERR */
	legacy_nic_read(&l.dev, LNIC_RX_DATA, (uint8_t *)&w, 4);
	cr_assert_eq(w, 0);
	cr_assert(rd32(LNIC_STATUS) & LNIC_ST_RX_ERR);
	wr8(LNIC_CMD, LNIC_CMD_RX_NEXT);
	cr_assert_eq(rd32(LNIC_STATUS) & LNIC_ST_RX_ERR, 0);
	cr_assert_eq(rd32(LNIC_RX_LEN), sizeof(b));
	/* 16-bit reads work as well */
	for (uint32_t i = 0; i < sizeof(b); i += 2)
		legacy_nic_read(&l.dev, LNIC_RX_DATA, got + i, 2);
	cr_assert_arr_eq(got, b, sizeof(b));
	wr8(LNIC_CMD, LNIC_CMD_RX_NEXT);
	cr_assert_eq(rd32(LNIC_RX_LEN), 0);
	cr_assert_eq(net.rx_frames, 2);
	cr_assert_eq(st.bytes, sizeof(a) + sizeof(b));
}

Test(legacy_nic, rx_queue_holds_a_few_then_the_rest)
{
	uint8_t f[64];
	for (int i = 0; i < LNIC_RXQ + 3; i++) {
		frame(f, sizeof(f), (uint8_t)i);
		cr_assert_eq(send(peer, f, sizeof(f), 0), (ssize_t)sizeof(f));
	}
	for (int i = 0; i < LNIC_RXQ + 3; i++) {
		uint8_t got[64];
		cr_assert_eq(rd32(LNIC_RX_LEN), 64, "frame %d", i);
		for (uint32_t k = 0; k < 64; k += 4)
			legacy_nic_read(&l.dev, LNIC_RX_DATA, got + k, 4);
		frame(f, sizeof(f), (uint8_t)i);
		cr_assert_arr_eq(got, f, 64, "frame %d out of order", i);
		wr8(LNIC_CMD, LNIC_CMD_RX_NEXT);
	}
	cr_assert_eq(rd32(LNIC_RX_LEN), 0);
}
