/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/mesp: group ESP outbound and inbound on real mbufs.
 *
 * Oracles: encapsulations are compared byte for byte with vectors produced by scapy's ESP
 * implementation (independent code: Python `cryptography` for AES-GCM, scapy for the tunnel
 * header, padding and AAD); every inbound drop reason is reached by a crafted packet whose ICV
 * is made with the crypto session API directly, so the check after the ICV is the one that fires.
 *
 * EAL runs once per process from an unchecked fixture, that is in the runner's own process
 * before Check forks a test: with CK_FORK (the default) each test gets a copy of the initialised
 * EAL and mempool, with CK_FORK=no the tests share them and free what they allocate.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <check.h>

#include <rte_byteorder.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "mesp.h"
#include "mesp_replay.h"
#include "test_common.h"

#define SPI4 0x1001u
#define SPI6 0x2002u
#define NB_CTR 4

static struct rte_mempool *pool;
static struct mesp_lcore lc;
static struct mesp_sa_ctr ctr[NB_CTR];

static const uint8_t G4[16] = { 232, 1, 1, 1 };
static const uint8_t S4[16] = { 192, 0, 2, 10 };
static const uint8_t G6[16] = { 0xff, 0x3e, [12] = 0x80, [15] = 0x01 };
static const uint8_t S6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x10 };
static const uint8_t OTHER4[16] = { 192, 0, 2, 99 };
static const uint8_t OTHER6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x99 };

/* AES-128 key || salt and AES-256 key || salt */
static const uint8_t K128[20] = {
	0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c, 0x6d, 0x6a, 0x8f, 0x94, 0x67, 0x30,
	0x83, 0x08, 0xca, 0xfe, 0xba, 0xbe,
};
static const uint8_t K256[36] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d,
	0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
	0x1c, 0x1d, 0x1e, 0x1f, 0x11, 0x22, 0x33, 0x44,
};
static const uint16_t SIDS[] = { 1, 2, 3, 4 };

/* ------------------------------------------------------------------ fixtures */

static void eal_setup(void)
{
	if (pool == NULL)
		pool = test_eal_pool("test_mesp");
}

static void ctx_setup(void)
{
	memset(&lc, 0, sizeof(lc));
	memset(ctr, 0, sizeof(ctr));
	lc.sa_ctr = ctr;
	lc.max_sas = NB_CTR;
}

/* ------------------------------------------------------------------ packet helpers */

static uint32_t hdr_len(uint8_t family)
{
	return family == AF_INET ? 20 : 40;
}

static const uint8_t *grp_addr(uint8_t family)
{
	return family == AF_INET ? G4 : G6;
}

static const uint8_t *src_addr(uint8_t family)
{
	return family == AF_INET ? S4 : S6;
}

/* An inner IP/UDP packet from src_addr() to grp_addr() with `plen` payload bytes. */
static uint32_t inner_pkt(uint8_t family, uint8_t *b, uint8_t tc, uint16_t plen)
{
	uint32_t hl = hdr_len(family);
	uint32_t len = hl + 8 + plen;

	memset(b, 0, len);
	if (family == AF_INET) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)b;

		ip->version_ihl = 0x45;
		ip->type_of_service = tc;
		ip->total_length = rte_cpu_to_be_16((uint16_t)len);
		ip->packet_id = rte_cpu_to_be_16(0x4242);
		ip->fragment_offset = rte_cpu_to_be_16(0x4000);
		ip->time_to_live = 32;
		ip->next_proto_id = IPPROTO_UDP;
		memcpy(&ip->src_addr, S4, 4);
		memcpy(&ip->dst_addr, G4, 4);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)b;

		ip->vtc_flow = rte_cpu_to_be_32((6u << 28) | ((uint32_t)tc << 20) | 0x12345);
		ip->payload_len = rte_cpu_to_be_16((uint16_t)(8 + plen));
		ip->proto = IPPROTO_UDP;
		ip->hop_limits = 32;
		memcpy(ip->src_addr, S6, 16);
		memcpy(ip->dst_addr, G6, 16);
	}
	b[hl] = 0x04, b[hl + 1] = 0xd2;                         /* sport 1234 */
	b[hl + 2] = 0x13, b[hl + 3] = 0x88;                     /* dport 5000 */
	b[hl + 4] = (uint8_t)((8 + plen) >> 8), b[hl + 5] = (uint8_t)(8 + plen);
	for (uint32_t i = 0; i < plen; i++)
		b[hl + 8 + i] = (uint8_t)(i * 7 + plen);
	return len;
}

/* Append the RFC 4303 §2.4 trailer: padding 1, 2, 3 to a 4-byte boundary, pad length, nh. */
static uint32_t trailer(uint8_t *b, uint32_t len, uint8_t nh)
{
	uint32_t pad = (4 - (len + 2) % 4) % 4;

	for (uint32_t i = 0; i < pad; i++)
		b[len + i] = (uint8_t)(i + 1);
	b[len + pad] = (uint8_t)pad;
	b[len + pad + 1] = nh;
	return len + pad + 2;
}

static struct rte_mbuf *mbuf_from(const uint8_t *data, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *p;

	ck_assert_ptr_nonnull(m);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	ck_assert_ptr_nonnull(p);
	memcpy(p, data, len);
	return m;
}

/* What seal() puts around a plaintext: the header fields a test may want to get wrong. */
struct spec {
	uint8_t family;
	uint32_t spi;
	bool esn;
	uint8_t sid_bits;
	uint16_t sid;
	uint64_t seq;           /* the sequence number the ICV covers */
	uint64_t iv_seq;        /* the SSIV written into the IV (normally seq) */
	uint8_t otc;            /* outer TOS / traffic class */
	const uint8_t *osrc, *odst;
};

static void spec_init(struct spec *s, uint8_t family, uint16_t sid, uint64_t seq)
{
	memset(s, 0, sizeof(*s));
	s->family = family;
	s->spi = family == AF_INET ? SPI4 : SPI6;
	s->esn = true;
	s->sid_bits = family == AF_INET ? 8 : 16;
	s->sid = sid;
	s->seq = seq;
	s->iv_seq = seq;
	s->osrc = src_addr(family);
	s->odst = grp_addr(family);
}

/*
 * Build an ESP packet around `pt` (inner packet and trailer exactly as given) with the session
 * API directly (RFC 4106 nonce and AAD, see doc/wire-format.md §4), so that tests can make
 * packets with a valid ICV and wrong content.
 */
static struct rte_mbuf *seal(const struct mcrypto_session *cs, const struct spec *s,
		const uint8_t *pt, uint32_t pt_len)
{
	uint8_t b[2048] __rte_aligned(8);
	uint32_t hl = hdr_len(s->family);
	uint32_t len = hl + 16 + pt_len + 16;
	uint32_t aad[3], aad_len;
	uint64_t iv;
	uint32_t seq_be = rte_cpu_to_be_32((uint32_t)s->seq);
	struct rte_mbuf *m;

	ck_assert_uint_le(len, sizeof(b));
	memset(b, 0, hl);
	if (s->family == AF_INET) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)b;

		ip->version_ihl = 0x45;
		ip->type_of_service = s->otc;
		ip->total_length = rte_cpu_to_be_16((uint16_t)len);
		ip->time_to_live = 32;
		ip->next_proto_id = IPPROTO_ESP;
		memcpy(&ip->src_addr, s->osrc, 4);
		memcpy(&ip->dst_addr, s->odst, 4);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)b;

		ip->vtc_flow = rte_cpu_to_be_32((6u << 28) | ((uint32_t)s->otc << 20));
		ip->payload_len = rte_cpu_to_be_16((uint16_t)(len - 40));
		ip->proto = IPPROTO_ESP;
		ip->hop_limits = 32;
		memcpy(ip->src_addr, s->osrc, 16);
		memcpy(ip->dst_addr, s->odst, 16);
	}
	uint32_t spi_be = rte_cpu_to_be_32(s->spi);
	memcpy(b + hl, &spi_be, 4);
	memcpy(b + hl + 4, &seq_be, 4);
	iv = rte_cpu_to_be_64(((uint64_t)s->sid << (64 - s->sid_bits)) | s->iv_seq);
	memcpy(b + hl + 8, &iv, 8);
	aad[0] = spi_be;
	if (s->esn) {
		aad[1] = rte_cpu_to_be_32((uint32_t)(s->seq >> 32));
		aad[2] = seq_be;
		aad_len = 12;
	} else {
		aad[1] = seq_be;
		aad_len = 8;
	}
	memcpy(b + hl + 16, pt, pt_len);
	cs->seal(cs, b + hl + 8, (const uint8_t *)aad, aad_len, b + hl + 16, pt_len,
			b + hl + 16 + pt_len);
	m = mbuf_from(b, len);
	m->l3_len = (uint16_t)hl;
	return m;
}

/* A well-formed packet from sender `sid` with sequence number `seq`, ESN on or off. */
static struct rte_mbuf *good_pkt_esn(const struct mcrypto_session *cs, uint8_t family, bool esn,
		uint16_t sid, uint64_t seq)
{
	uint8_t pt[256];
	struct spec s;
	uint32_t n = trailer(pt, inner_pkt(family, pt, 0, 11), family == AF_INET ? 4 : 41);

	spec_init(&s, family, sid, seq);
	s.esn = esn;
	return seal(cs, &s, pt, n);
}

static struct rte_mbuf *good_pkt(const struct mcrypto_session *cs, uint8_t family, uint16_t sid,
		uint64_t seq)
{
	return good_pkt_esn(cs, family, true, sid, seq);
}

static void conf_init(struct mesp_sa_conf *c, uint8_t family)
{
	memset(c, 0, sizeof(*c));
	c->family = family;
	c->dir = MESP_SA_IN | MESP_SA_OUT;
	c->esn = true;
	memcpy(c->dst, grp_addr(family), 16);
	memcpy(c->src, src_addr(family), 16);
	c->has_src = true;
	if (family == AF_INET) {
		c->spi = SPI4;
		c->suite = MCRYPTO_SUITE_AES_GCM_128;
		c->keymat = K128;
		c->keymat_len = sizeof(K128);
		c->sid_bits = 8;
	} else {
		c->spi = SPI6;
		c->suite = MCRYPTO_SUITE_AES_GCM_256;
		c->keymat = K256;
		c->keymat_len = sizeof(K256);
		c->sid_bits = 16;
	}
	c->nb_sids = 1;
	c->sids = SIDS;
	c->replay_window = 64;
	c->max_senders = 4;
	c->ttl = MESP_COPY;
	c->dscp = MESP_COPY;
	c->stats_id = 0;
}

static struct mesp_sa *sa_new(const struct mesp_sa_conf *c)
{
	struct mesp_sa *sa = NULL;

	ck_assert_int_eq(mesp_sa_create(c, NULL, &sa), 0);
	ck_assert_ptr_nonnull(sa);
	return sa;
}

static struct mcrypto_session *cs_new(uint8_t family)
{
	struct mcrypto_session *cs = NULL;

	if (family == AF_INET)
		ck_assert_int_eq(mcrypto_session_create(NULL, MCRYPTO_SUITE_AES_GCM_128, K128,
				sizeof(K128), &cs), 0);
	else
		ck_assert_int_eq(mcrypto_session_create(NULL, MCRYPTO_SUITE_AES_GCM_256, K256,
				sizeof(K256), &cs), 0);
	return cs;
}

static uint16_t inb1(struct mesp_sa *sa, struct rte_mbuf *m)
{
	struct mesp_sa *sas[1] = { sa };

	return mesp_inb_burst(&lc, sas, &m, 1);
}

static uint16_t outb1(struct mesp_sa *sa, struct rte_mbuf *m, uint16_t mtu)
{
	struct mesp_sa *sas[1] = { sa };

	return mesp_outb_burst(&lc, sas, &m, 1, mtu);
}

/* Deliver a packet that must be accepted, then free it. */
static void deliver(struct mesp_sa *sa, struct rte_mbuf *m)
{
	ck_assert_uint_eq(inb1(sa, m), 1);
	rte_pktmbuf_free(m);
}

static uint64_t drops_total(void)
{
	uint64_t t = 0;

	for (int r = 0; r < MESP_DROP_MAX; r++)
		t += lc.drops[r];
	return t;
}

static uint64_t pkt_iv(const struct rte_mbuf *m, uint32_t hl)
{
	uint64_t iv;

	memcpy(&iv, rte_pktmbuf_mtod_offset(m, const uint8_t *, hl + 8), 8);
	return rte_be_to_cpu_64(iv);
}

static uint32_t pkt_seq(const struct rte_mbuf *m, uint32_t hl)
{
	uint32_t s;

	memcpy(&s, rte_pktmbuf_mtod_offset(m, const uint8_t *, hl + 4), 4);
	return rte_be_to_cpu_32(s);
}

/* ------------------------------------------------------------------ scapy vectors */

/*
 * Produced by scapy 2.5.0 (Python cryptography 38 for AES-GCM); regenerate with:
 *
 * /usr/bin/python3 -c '
 * from scapy.all import IP, IPv6, UDP, Raw
 * from scapy.layers.ipsec import SecurityAssociation, ESP
 * def v(hdr, udp, key, spi, iv, seq, esn_en, esn, tun=None):
 *     inner = hdr / udp
 *     sa = SecurityAssociation(ESP, spi=spi, crypt_algo="AES-GCM",
 *                              crypt_key=bytes.fromhex(key), tunnel_header=tun or hdr,
 *                              esn_en=esn_en, esn=esn)
 *     out = sa.encrypt(inner, seq_num=seq, iv=bytes.fromhex(iv), esn_en=esn_en, esn=esn)
 *     print(bytes(inner).hex()); print(bytes(out).hex())
 * v(IP(src="192.0.2.10", dst="232.1.1.1", ttl=17, id=0x1234, tos=0xba, flags="DF"),
 *   UDP(sport=4000, dport=5000) / Raw(b"msecgw vector 1"),
 *   "feffe9928665731c6d6a8f9467308308cafebabe", 0x1001, "2a00000100000005", 5, True, 1)
 * v(IPv6(src="2001:db8::10", dst="ff3e::8000:1", tc=0x29, fl=0x12345, hlim=9),
 *   UDP(sport=4001, dport=5001) / Raw(b"IPv6 group ESP!!"),
 *   "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f11223344",
 *   0x2002, "beef000000000007", 7, False, 0)
 * v(IP(src="198.51.100.7", dst="239.192.0.9", ttl=1, id=0xabcd, tos=0x01),
 *   UDP(sport=4002, dport=5002) / Raw(b"fixed ttl/dscp"),
 *   "4c80cdefbb5d10da906ac73c3613a634a0b1c2d3e4f5061728394a5b6c7d8e9fdeadbeef",
 *   0x3003, "abc0000000000001", 1, True, 0,
 *   tun=IP(src="198.51.100.7", dst="239.192.0.9", ttl=64, id=0xabcd, tos=0x29))
 * v(IPv6(src="2001:db8:1::7", dst="ff3e::1:2", tc=0xb8, fl=0, hlim=64),
 *   UDP(sport=4003, dport=5003) / Raw(b"esn high half"),
 *   "ad7a2bd03eac835a6f620fdcb506b345c0ffee00", 0x4004, "07123456fffffffe", 0xfffffffe,
 *   True, 0x00123456)
 * '
 *
 * Each call prints the inner packet and the whole outer packet. scapy takes the tunnel header
 * as given (here the inner header itself, or `tun`), so its fields are what msecgw's outer
 * header carries (wire-format.md §1):
 * TTL, ID, DF, DSCP and ECN copied from the inner header, or the SA's TTL and DSCP with the
 * inner ECN (vector 3: ttl 64, dscp 10). The IV is SID || sequence number (RFC 6054); scapy's
 * esn is the high half of the 64-bit sequence number.
 */
struct vec {
	const char *name;
	uint8_t family;
	enum mcrypto_suite suite;
	const char *keymat;
	uint32_t spi;
	bool esn;
	uint8_t sid_bits;
	uint16_t sid;
	uint64_t seq;
	int16_t ttl, dscp;
	const char *inner;
	const char *outer;
};

static const struct vec vecs[] = {
	{
		.name = "ipv4 aes-gcm-128 sid8 esn high 1",
		.family = AF_INET, .suite = MCRYPTO_SUITE_AES_GCM_128,
		.keymat = "feffe9928665731c6d6a8f9467308308cafebabe",
		.spi = 0x1001, .esn = true, .sid_bits = 8, .sid = 0x2a, .seq = 0x100000005,
		.ttl = MESP_COPY, .dscp = MESP_COPY,
		.inner = "45ba002b123440001111abc7c000020ae80101010fa01388001759d36d736563677720"
			"766563746f722031",
		.outer = "45ba0064123440001132ab6dc000020ae801010100001001000000052a000001000000"
			"0584e85c5d83f03613660438cb8022d2720defd6128bc0813482fb86af39fe75c93721"
			"e13fedad45ae3c1beb5b5b0168e0c59cbb6434c03ddd4f8dd4d59801574c",
	},
	{
		.name = "ipv6 aes-gcm-256 sid16 no esn",
		.family = AF_INET6, .suite = MCRYPTO_SUITE_AES_GCM_256,
		.keymat = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
			"11223344",
		.spi = 0x2002, .esn = false, .sid_bits = 16, .sid = 0xbeef, .seq = 7,
		.ttl = MESP_COPY, .dscp = MESP_COPY,
		.inner = "629123450018110920010db8000000000000000000000010ff3e000000000000000000"
			"00800000010fa113890018d306495076362067726f7570204553502121",
		.outer = "629123450064320920010db8000000000000000000000010ff3e000000000000000000"
			"00800000010000200200000007beef0000000000072a442f6e20b80b1b33519f6b0208"
			"c2de1f9f67360fc7b1bf11cb7afe6f6ab6e5d0a1a4c702780146ddce124ce46ac2159c"
			"61d763b8f79559056c46d6e4bdb7bf0eadf42e21945e3da6ebba8fa946fa422c54fd5e",
	},
	{
		.name = "ipv4 aes-gcm-256 sid12 esn ttl 64 dscp 10",
		.family = AF_INET, .suite = MCRYPTO_SUITE_AES_GCM_256,
		.keymat = "4c80cdefbb5d10da906ac73c3613a634a0b1c2d3e4f5061728394a5b6c7d8e9f"
			"deadbeef",
		.spi = 0x3003, .esn = true, .sid_bits = 12, .sid = 0xabc, .seq = 1,
		.ttl = 64, .dscp = 10,
		.inner = "4501002aabcd00000111f3f0c6336407efc000090fa2138a0016d71a66697865642074"
			"746c2f64736370",
		.outer = "45290060abcd00004032b471c6336407efc000090000300300000001abc00000000000"
			"013f7aa2b5151c29e243a332a2538bed234cd246f9e12f6df232cf094ae91127f15c2f"
			"0ed54dc6e0592c4c8ab277ce097bd464dc6bc59f72be5dd9ffe0",
	},
	{
		.name = "ipv6 aes-gcm-128 sid8 esn high 0x123456",
		.family = AF_INET6, .suite = MCRYPTO_SUITE_AES_GCM_128,
		.keymat = "ad7a2bd03eac835a6f620fdcb506b345c0ffee00",
		.spi = 0x4004, .esn = true, .sid_bits = 8, .sid = 7, .seq = 0x00123456fffffffe,
		.ttl = MESP_COPY, .dscp = MESP_COPY,
		.inner = "6b8000000015114020010db8000100000000000000000007ff3e000000000000000000"
			"00000100020fa3138b0015245965736e20686967682068616c66",
		.outer = "6b8000000060324020010db8000100000000000000000007ff3e000000000000000000"
			"000001000200004004fffffffe07123456fffffffe9d396e68e31832dcdd35e8073a92"
			"fda066256242e0cbec741e44760f1e36ebb39dc95726691089a43959853ba016418b4b"
			"81d9fe20765870746ab2fe516bd2d7df6beff75098f41dceb8a65117c822b4",
	},
};

struct vec_bytes {
	uint8_t key[64];
	int key_len;
	uint8_t in[256];
	int in_len;
	uint8_t out[512];
	int out_len;
};

static struct mesp_sa *vec_sa(const struct vec *v, struct vec_bytes *b, uint8_t dir)
{
	struct mesp_sa_conf c;
	uint16_t sid = v->sid;
	uint32_t sa_off = v->family == AF_INET ? 12 : 8;
	uint32_t da_off = v->family == AF_INET ? 16 : 24;

	b->key_len = test_hex(v->keymat, b->key, sizeof(b->key));
	b->in_len = test_hex(v->inner, b->in, sizeof(b->in));
	b->out_len = test_hex(v->outer, b->out, sizeof(b->out));
	ck_assert_int_gt(b->key_len, 0);
	ck_assert_int_gt(b->in_len, 0);
	ck_assert_int_gt(b->out_len, 0);

	memset(&c, 0, sizeof(c));
	c.spi = v->spi;
	c.family = v->family;
	c.dir = dir;
	c.esn = v->esn;
	memcpy(c.dst, b->in + da_off, hdr_len(v->family) == 20 ? 4 : 16);
	memcpy(c.src, b->in + sa_off, hdr_len(v->family) == 20 ? 4 : 16);
	c.has_src = true;
	c.suite = v->suite;
	c.keymat = b->key;
	c.keymat_len = (uint8_t)b->key_len;
	c.sid_bits = v->sid_bits;
	c.nb_sids = (dir & MESP_SA_OUT) ? 1 : 0;
	c.sids = (dir & MESP_SA_OUT) ? &sid : NULL;
	c.replay_window = 64;
	c.max_senders = 4;
	c.ttl = v->ttl;
	c.dscp = v->dscp;
	return sa_new(&c);
}

START_TEST(vec_outbound)
{
	const struct vec *v = &vecs[_i];
	struct vec_bytes b;
	struct mesp_sa *sa = vec_sa(v, &b, MESP_SA_OUT);
	struct mesp_sa_info info;
	struct rte_mbuf *m;

	ck_assert_int_eq(mesp_sa_set_tx_seq(sa, 0, v->seq - 1), 0);
	m = mbuf_from(b.in, (uint32_t)b.in_len);
	ck_assert_msg(outb1(sa, m, 1500) == 1, "%s: not sent", v->name);
	ck_assert_uint_eq(rte_pktmbuf_pkt_len(m), (uint32_t)b.out_len);
	ck_assert_mem_eq(rte_pktmbuf_mtod(m, uint8_t *), b.out, (size_t)b.out_len);
	ck_assert_uint_eq(mesp_sa_overhead(sa, (uint32_t)b.in_len),
			(uint32_t)(b.out_len - b.in_len));
	ck_assert_uint_eq(ctr[0].out_pkts, 1);
	ck_assert_uint_eq(ctr[0].out_bytes, (uint64_t)b.in_len);
	ck_assert_uint_eq(drops_total(), 0);
	mesp_sa_get_info(sa, &info);
	ck_assert_uint_eq(info.tx_seq_max, v->seq);
	rte_pktmbuf_free(m);
	mesp_sa_free(sa);
}
END_TEST

/* The scapy packets decrypt back to the inner packet; the receiver has never seen the sender,
 * so for the ESN vectors it learns the high half from the IV (wire-format.md §3). */
START_TEST(vec_inbound)
{
	const struct vec *v = &vecs[_i];
	struct vec_bytes b;
	struct mesp_sa *sa = vec_sa(v, &b, MESP_SA_IN);
	struct mesp_sa_info info;
	struct rte_mbuf *m;

	m = mbuf_from(b.out, (uint32_t)b.out_len);
	m->l3_len = (uint16_t)hdr_len(v->family);
	ck_assert_msg(inb1(sa, m) == 1, "%s: dropped", v->name);
	ck_assert_uint_eq(rte_pktmbuf_pkt_len(m), (uint32_t)b.in_len);
	ck_assert_mem_eq(rte_pktmbuf_mtod(m, uint8_t *), b.in, (size_t)b.in_len);
	ck_assert_uint_eq(ctr[0].in_pkts, 1);
	ck_assert_uint_eq(ctr[0].in_bytes, (uint64_t)b.in_len);
	rte_pktmbuf_free(m);

	/* the same bytes again are a replay */
	m = mbuf_from(b.out, (uint32_t)b.out_len);
	m->l3_len = (uint16_t)hdr_len(v->family);
	ck_assert_uint_eq(inb1(sa, m), 0);
	ck_assert_uint_eq(lc.drops[MESP_DROP_REPLAY], 1);
	rte_pktmbuf_free(m);
	mesp_sa_get_info(sa, &info);
	ck_assert_uint_eq(info.nb_senders, 1);
	mesp_sa_free(sa);
}
END_TEST

/* A flipped bit anywhere in ESP header, IV, ciphertext or ICV of a scapy packet fails the ICV. */
START_TEST(vec_tamper)
{
	const struct vec *v = &vecs[_i];
	struct vec_bytes b;
	struct mesp_sa *sa = vec_sa(v, &b, MESP_SA_IN);
	uint32_t hl = hdr_len(v->family);
	uint64_t n = 0;

	/* from the sequence number on: the SPI selected the SA, the AAD takes it from the SA */
	for (uint32_t off = hl + 4; off < (uint32_t)b.out_len; off += 3) {
		struct rte_mbuf *m = mbuf_from(b.out, (uint32_t)b.out_len);

		m->l3_len = (uint16_t)hl;
		rte_pktmbuf_mtod(m, uint8_t *)[off] ^= 0x10;
		ck_assert_msg(inb1(sa, m) == 0, "%s: offset %u accepted", v->name, off);
		rte_pktmbuf_free(m);
		n++;
	}
	/* a change of the sequence number is caught by the ICV or as the replay of seq 0 */
	ck_assert_uint_eq(lc.drops[MESP_DROP_AUTH_FAIL] + lc.drops[MESP_DROP_REPLAY], n);
	ck_assert_uint_eq(drops_total(), n);
	ck_assert_uint_eq(ctr[0].in_pkts, 0);
	mesp_sa_free(sa);
}
END_TEST

/* ------------------------------------------------------------------ round trips */

/* Every padding length, both families, outer TTL/DSCP copied or set, ECN copied. */
START_TEST(round_trip)
{
	uint8_t family = _i < 2 ? AF_INET : AF_INET6;
	bool fixed = _i & 1;
	struct mesp_sa_conf c;
	struct mesp_sa *sa;
	uint64_t ivs[16];

	conf_init(&c, family);
	c.nb_sids = 2;
	if (fixed) {
		c.ttl = 7;
		c.dscp = 46;
	}
	sa = sa_new(&c);
	lc.tx_slot = 1;
	for (uint16_t plen = 0; plen < 16; plen++) {
		uint8_t in[128], tc = (uint8_t)((10 << 2) | (plen % 3));
		uint32_t len = inner_pkt(family, in, tc, plen);
		uint32_t hl = hdr_len(family);
		struct rte_mbuf *m = mbuf_from(in, len);
		const uint8_t *o;

		ck_assert_uint_eq(outb1(sa, m, 1500), 1);
		o = rte_pktmbuf_mtod(m, const uint8_t *);
		ck_assert_uint_eq(rte_pktmbuf_pkt_len(m), len + mesp_sa_overhead(sa, len));
		ck_assert_uint_eq((rte_pktmbuf_pkt_len(m) - hl - 32) % 4, 0);
		if (family == AF_INET) {
			const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)o;
			struct rte_ipv4_hdr h = *ip;

			ck_assert_uint_eq(ip->next_proto_id, IPPROTO_ESP);
			ck_assert_uint_eq(ip->time_to_live, fixed ? 7 : 32);
			ck_assert_uint_eq(ip->type_of_service,
					(fixed ? 46 << 2 : 10 << 2) | (plen % 3));
			ck_assert_uint_eq(rte_be_to_cpu_16(ip->total_length),
					rte_pktmbuf_pkt_len(m));
			ck_assert_uint_eq(ip->packet_id, rte_cpu_to_be_16(0x4242));
			ck_assert_uint_eq(ip->fragment_offset, rte_cpu_to_be_16(0x4000));
			h.hdr_checksum = 0;
			ck_assert_uint_eq(rte_ipv4_cksum(&h), ip->hdr_checksum);
		} else {
			const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)o;
			uint32_t vtc = rte_be_to_cpu_32(ip->vtc_flow);

			ck_assert_uint_eq(ip->proto, IPPROTO_ESP);
			ck_assert_uint_eq(ip->hop_limits, fixed ? 7 : 32);
			ck_assert_uint_eq(vtc >> 28, 6);
			ck_assert_uint_eq((vtc >> 20) & 0xff,
					(fixed ? 46 << 2 : 10 << 2) | (plen % 3));
			ck_assert_uint_eq(vtc & 0xfffff, 0x12345);
			ck_assert_uint_eq(rte_be_to_cpu_16(ip->payload_len),
					rte_pktmbuf_pkt_len(m) - 40);
		}
		ck_assert_mem_eq(o + (family == AF_INET ? 12 : 8), src_addr(family),
				family == AF_INET ? 4 : 16);
		ck_assert_mem_eq(o + (family == AF_INET ? 16 : 24), grp_addr(family),
				family == AF_INET ? 4 : 16);
		ck_assert_uint_eq(pkt_seq(m, hl), plen + 1u);
		ivs[plen] = pkt_iv(m, hl);
		ck_assert_uint_eq(ivs[plen],
				((uint64_t)SIDS[1] << (64 - c.sid_bits)) | (plen + 1u));

		m->l3_len = (uint16_t)hl;
		ck_assert_uint_eq(inb1(sa, m), 1);
		ck_assert_uint_eq(rte_pktmbuf_pkt_len(m), len);
		ck_assert_mem_eq(rte_pktmbuf_mtod(m, uint8_t *), in, len);
		rte_pktmbuf_free(m);
	}
	ck_assert_uint_eq(ctr[0].out_pkts, 16);
	ck_assert_uint_eq(ctr[0].in_pkts, 16);
	ck_assert_uint_eq(ctr[0].in_bytes, ctr[0].out_bytes);
	ck_assert_uint_eq(drops_total(), 0);
	mesp_sa_free(sa);
}
END_TEST

/*
 * RFC 6040 §4.2, Figure 4 (decapsulation), every combination of arriving inner and outer
 * codepoint, both families: the inner header leaves with the table's codepoint (IPv4 with a
 * valid checksum, IPv6 with its flow label intact), and CE outside Not-ECT is dropped.
 * _i: bit 4 family, bits 2-3 outer, bits 0-1 inner (00 Not-ECT, 01 ECT(1), 10 ECT(0), 11 CE).
 */
START_TEST(ecn_decap_table)
{
	/* [inner][outer], written out from the RFC's figure; -1 = drop */
	static const int fig4[4][4] = {
		/* outer:   Not-ECT ECT(1) ECT(0) CE */
		/* Not-ECT */ { 0, 0, 0, -1 },
		/* ECT(1)  */ { 1, 1, 1, 3 },
		/* ECT(0)  */ { 2, 1, 2, 3 },
		/* CE      */ { 3, 3, 3, 3 },
	};
	uint8_t family = (_i & 16) ? AF_INET6 : AF_INET;
	uint8_t outer = (uint8_t)((_i >> 2) & 3), inner = (uint8_t)(_i & 3);
	int want = fig4[inner][outer];
	struct mcrypto_session *cs = cs_new(family);
	uint64_t ecn_drops = lc.drops[MESP_DROP_ECN];
	struct mesp_sa_conf c;
	struct mesp_sa *sa;
	uint8_t pt[128];
	struct spec s;
	struct rte_mbuf *m;
	uint32_t len;

	conf_init(&c, family);
	sa = sa_new(&c);
	len = inner_pkt(family, pt, (12 << 2) | inner, 20);
	spec_init(&s, family, 3, 1);
	s.otc = (uint8_t)((12 << 2) | outer);
	m = seal(cs, &s, pt, trailer(pt, len, family == AF_INET ? 4 : 41));
	if (want < 0) {
		ck_assert_uint_eq(inb1(sa, m), 0);
		ck_assert_uint_eq(lc.drops[MESP_DROP_ECN], ecn_drops + 1);
		rte_pktmbuf_free(m);
		goto out;
	}
	ck_assert_uint_eq(inb1(sa, m), 1);
	ck_assert_uint_eq(lc.drops[MESP_DROP_ECN], ecn_drops);
	ck_assert_uint_eq(rte_pktmbuf_pkt_len(m), len);
	if (family == AF_INET) {
		struct rte_ipv4_hdr h = *rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
		uint16_t sum = h.hdr_checksum;

		ck_assert_uint_eq(h.type_of_service, (12 << 2) | want);
		h.hdr_checksum = 0;
		ck_assert_uint_eq(rte_ipv4_cksum(&h), sum);
	} else {
		const struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv6_hdr *);
		uint32_t vtc = rte_be_to_cpu_32(ip->vtc_flow);

		ck_assert_uint_eq(vtc >> 28, 6);
		ck_assert_uint_eq((vtc >> 20) & 0xff, (12 << 2) | want);
		ck_assert_uint_eq(vtc & 0xfffff, 0x12345);
	}
	rte_pktmbuf_free(m);
out:
	mesp_sa_free(sa);
	mcrypto_session_free(cs);
}
END_TEST

/* RFC 4303 §2.7: bytes between the inner packet and the padding (TFC) are accepted and cut. */
START_TEST(tfc_padding)
{
	uint8_t family = _i == 0 ? AF_INET : AF_INET6;
	struct mcrypto_session *cs = cs_new(family);
	struct mesp_sa_conf c;
	struct mesp_sa *sa;
	uint8_t pt[256], in[128];
	struct spec s;
	struct rte_mbuf *m;
	uint32_t len;

	conf_init(&c, family);
	sa = sa_new(&c);
	len = inner_pkt(family, in, 0, 9);
	memcpy(pt, in, len);
	memset(pt + len, 0xee, 37);
	spec_init(&s, family, 1, 1);
	m = seal(cs, &s, pt, trailer(pt, len + 37, family == AF_INET ? 4 : 41));
	ck_assert_uint_eq(inb1(sa, m), 1);
	ck_assert_uint_eq(rte_pktmbuf_pkt_len(m), len);
	ck_assert_mem_eq(rte_pktmbuf_mtod(m, uint8_t *), in, len);
	ck_assert_uint_eq(ctr[0].in_bytes, len);
	rte_pktmbuf_free(m);
	mesp_sa_free(sa);
	mcrypto_session_free(cs);
}
END_TEST

/* ------------------------------------------------------------------ inbound drop table */

struct env {
	uint8_t family;
	bool esn;
	struct mesp_sa *sa;
	const struct mcrypto_session *cs;
};

typedef struct rte_mbuf *(*make_fn)(const struct env *e);

/* the next header an SA of family f expects */
#define NH_OK(f) ((f) == AF_INET ? 4 : 41)

static struct rte_mbuf *mk_truncated(const struct env *e)
{
	struct rte_mbuf *m = good_pkt(e->cs, e->family, 1, 1);

	/* ESP header, IV and ICV but fewer than 4 bytes of ciphertext */
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - hdr_len(e->family) - 16 - 16 - 3));
	return m;
}

static struct rte_mbuf *mk_tiny(const struct env *e)
{
	struct rte_mbuf *m = good_pkt(e->cs, e->family, 1, 1);

	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - hdr_len(e->family) - 6));
	return m;
}

static struct rte_mbuf *mk_unaligned(const struct env *e)
{
	struct rte_mbuf *m = good_pkt(e->cs, e->family, 1, 1);

	*(uint8_t *)rte_pktmbuf_append(m, 1) = 0;
	return m;
}

static struct rte_mbuf *mk_bad_icv(const struct env *e)
{
	struct rte_mbuf *m = good_pkt(e->cs, e->family, 1, 1);

	rte_pktmbuf_mtod(m, uint8_t *)[rte_pktmbuf_pkt_len(m) - 1] ^= 1;
	return m;
}

static struct rte_mbuf *mk_bad_ciphertext(const struct env *e)
{
	struct rte_mbuf *m = good_pkt(e->cs, e->family, 1, 1);

	rte_pktmbuf_mtod(m, uint8_t *)[hdr_len(e->family) + 20] ^= 0x80;
	return m;
}

/* The IV claims ESN high half 2, the ICV was made over high half 1 (late joiner misled). */
static struct rte_mbuf *mk_esn_high_wrong(const struct env *e)
{
	uint8_t pt[256];
	struct spec s;
	uint32_t n = trailer(pt, inner_pkt(e->family, pt, 0, 5), NH_OK(e->family));

	spec_init(&s, e->family, 1, 0x100000005);
	s.iv_seq = 0x200000005;
	return seal(e->cs, &s, pt, n);
}

static struct rte_mbuf *mk_replay(const struct env *e)
{
	deliver(e->sa, good_pkt(e->cs, e->family, 1, 5));
	return good_pkt(e->cs, e->family, 1, 5);
}

/* Behind the window; with ESN the IV carries the whole sequence number, so it is seen as old. */
static struct rte_mbuf *mk_behind(const struct env *e)
{
	deliver(e->sa, good_pkt_esn(e->cs, e->family, e->esn, 1, 5000));
	return good_pkt_esn(e->cs, e->family, e->esn, 1, 100);
}

/*
 * The same from a sender whose IV is not SID || sequence number: RFC 4303 A2.2 reads a low half
 * that far back as the next 2^32 cycle, so the packet reaches the ICV, which fails.
 */
static struct rte_mbuf *mk_behind_foreign_iv(const struct env *e)
{
	uint8_t pt[256];
	struct spec s;
	uint32_t n = trailer(pt, inner_pkt(e->family, pt, 0, 5), NH_OK(e->family));

	deliver(e->sa, good_pkt(e->cs, e->family, 1, 5000));
	spec_init(&s, e->family, 1, 100);
	s.iv_seq = 0x77777777;
	return seal(e->cs, &s, pt, n);
}

static struct rte_mbuf *mk_seq_zero(const struct env *e)
{
	return good_pkt(e->cs, e->family, 1, 0);
}

static struct rte_mbuf *mk_seq_zero_known(const struct env *e)
{
	deliver(e->sa, good_pkt(e->cs, e->family, 1, 1));
	return good_pkt(e->cs, e->family, 1, 0);
}

static struct rte_mbuf *plain(const struct env *e, uint8_t *pt, uint32_t n)
{
	struct spec s;

	spec_init(&s, e->family, 1, 1);
	return seal(e->cs, &s, pt, n);
}

static struct rte_mbuf *mk_pad_bytes(const struct env *e)
{
	uint8_t pt[256];
	uint32_t len = inner_pkt(e->family, pt, 0, 3);      /* 3 bytes of padding */
	uint32_t n = trailer(pt, len, NH_OK(e->family));

	ck_assert_uint_eq(pt[n - 2], 3);
	pt[len + 2] = 4;                                     /* 1 2 4 */
	return plain(e, pt, n);
}

static struct rte_mbuf *mk_pad_len(const struct env *e)
{
	uint8_t pt[256];
	uint32_t n = trailer(pt, inner_pkt(e->family, pt, 0, 6), NH_OK(e->family));

	pt[n - 2] = (uint8_t)(n - 1);                        /* longer than the ciphertext */
	return plain(e, pt, n);
}

static struct rte_mbuf *mk_pad_len_max(const struct env *e)
{
	uint8_t pt[256];
	uint32_t n = trailer(pt, inner_pkt(e->family, pt, 0, 6), NH_OK(e->family));

	pt[n - 2] = 255;
	return plain(e, pt, n);
}

static struct rte_mbuf *mk_nh_other_family(const struct env *e)
{
	uint8_t pt[256];
	uint32_t n = trailer(pt, inner_pkt(e->family, pt, 0, 6),
			e->family == AF_INET ? 41 : 4);

	return plain(e, pt, n);
}

static struct rte_mbuf *mk_nh_udp(const struct env *e)
{
	uint8_t pt[256];
	uint32_t n = trailer(pt, inner_pkt(e->family, pt, 0, 6), IPPROTO_UDP);

	return plain(e, pt, n);
}

static struct rte_mbuf *mk_dummy(const struct env *e)
{
	uint8_t pt[256];
	uint32_t n = trailer(pt, inner_pkt(e->family, pt, 0, 6), 59);

	return plain(e, pt, n);
}

static struct rte_mbuf *mk_inner_version(const struct env *e)
{
	uint8_t pt[256];
	uint32_t n = trailer(pt, inner_pkt(e->family, pt, 0, 30), NH_OK(e->family));

	pt[0] = (uint8_t)((e->family == AF_INET ? 0x60 : 0x40) | (pt[0] & 0x0f));
	return plain(e, pt, n);
}

static struct rte_mbuf *mk_inner_short(const struct env *e)
{
	uint8_t pt[256];
	uint32_t n;

	/* keep only the first 12 bytes of the inner header */
	inner_pkt(e->family, pt, 0, 0);
	n = trailer(pt, 12, NH_OK(e->family));
	return plain(e, pt, n);
}

static struct rte_mbuf *mk_inner_len(const struct env *e)
{
	uint8_t pt[256];
	uint32_t len = inner_pkt(e->family, pt, 0, 10);
	uint32_t n = trailer(pt, len, NH_OK(e->family));

	/* the inner header claims more bytes than the payload holds */
	if (e->family == AF_INET)
		pt[3] = (uint8_t)(pt[3] + 8);
	else
		pt[5] = (uint8_t)(pt[5] + 8);
	return plain(e, pt, n);
}

static struct rte_mbuf *mk_inner_len_small(const struct env *e)
{
	uint8_t pt[256];
	uint32_t n = trailer(pt, inner_pkt(e->family, pt, 0, 10), NH_OK(e->family));

	if (e->family == AF_INET) {
		pt[2] = 0, pt[3] = 19;          /* total length below the header length */
	} else {
		pt[4] = 0, pt[5] = 0;           /* payload length 0: jumbogram, not supported */
	}
	return plain(e, pt, n);
}

static struct rte_mbuf *mk_inner_ihl(const struct env *e)
{
	uint8_t pt[256];
	uint32_t n = trailer(pt, inner_pkt(e->family, pt, 0, 10), NH_OK(e->family));

	pt[0] = 0x44;
	return plain(e, pt, n);
}

static struct rte_mbuf *mk_addr(const struct env *e, bool src)
{
	uint8_t pt[256];
	uint32_t n = trailer(pt, inner_pkt(e->family, pt, 0, 10), NH_OK(e->family));
	struct spec s;

	spec_init(&s, e->family, 1, 1);
	if (src)
		s.osrc = e->family == AF_INET ? OTHER4 : OTHER6;
	else
		s.odst = e->family == AF_INET ? OTHER4 : OTHER6;
	return seal(e->cs, &s, pt, n);
}

static struct rte_mbuf *mk_addr_src(const struct env *e)
{
	return mk_addr(e, true);
}

static struct rte_mbuf *mk_addr_dst(const struct env *e)
{
	return mk_addr(e, false);
}

static struct rte_mbuf *mk_ecn(const struct env *e)
{
	uint8_t pt[256];
	uint32_t n = trailer(pt, inner_pkt(e->family, pt, 0x28, 10), NH_OK(e->family));
	struct spec s;

	spec_init(&s, e->family, 1, 1);
	s.otc = 0x28 | 3;                    /* CE outside, not-ECT inside */
	return seal(e->cs, &s, pt, n);
}

static struct rte_mbuf *mk_senders_full(const struct env *e)
{
	/* the table's SA keeps 2 senders */
	deliver(e->sa, good_pkt(e->cs, e->family, 1, 1));
	deliver(e->sa, good_pkt(e->cs, e->family, 2, 1));
	return good_pkt(e->cs, e->family, 3, 1);
}

static struct rte_mbuf *mk_multiseg(const struct env *e)
{
	struct rte_mbuf *m = good_pkt(e->cs, e->family, 1, 1);
	struct rte_mbuf *t = rte_pktmbuf_alloc(pool);
	uint16_t cut = 20;

	ck_assert_ptr_nonnull(t);
	memcpy(rte_pktmbuf_append(t, cut),
			rte_pktmbuf_mtod_offset(m, uint8_t *, rte_pktmbuf_pkt_len(m) - cut), cut);
	rte_pktmbuf_trim(m, cut);
	ck_assert_int_eq(rte_pktmbuf_chain(m, t), 0);
	return m;
}

struct bad_case {
	const char *name;
	uint8_t family;
	bool no_esn;                /* a 32-bit sequence number SA */
	enum mesp_drop why;
	uint32_t accepted;          /* packets the preparation delivers first */
	make_fn make;
};

static const struct bad_case bad_cases[] = {
	{ "truncated", AF_INET, false, MESP_DROP_MALFORMED, 0, mk_truncated },
	{ "truncated v6", AF_INET6, false, MESP_DROP_MALFORMED, 0, mk_truncated },
	{ "shorter than esp header", AF_INET, false, MESP_DROP_MALFORMED, 0, mk_tiny },
	{ "ciphertext not 4-aligned", AF_INET, false, MESP_DROP_MALFORMED, 0, mk_unaligned },
	{ "ciphertext not 4-aligned v6", AF_INET6, false, MESP_DROP_MALFORMED, 0, mk_unaligned },
	{ "bad icv", AF_INET, false, MESP_DROP_AUTH_FAIL, 0, mk_bad_icv },
	{ "bad icv v6", AF_INET6, false, MESP_DROP_AUTH_FAIL, 0, mk_bad_icv },
	{ "modified ciphertext", AF_INET, false, MESP_DROP_AUTH_FAIL, 0, mk_bad_ciphertext },
	{ "iv lies about esn high half", AF_INET, false, MESP_DROP_AUTH_FAIL, 0,
		mk_esn_high_wrong },
	{ "replay duplicate", AF_INET, false, MESP_DROP_REPLAY, 1, mk_replay },
	{ "replay duplicate v6", AF_INET6, false, MESP_DROP_REPLAY, 1, mk_replay },
	{ "behind window", AF_INET, true, MESP_DROP_REPLAY, 1, mk_behind },
	{ "behind window v6", AF_INET6, true, MESP_DROP_REPLAY, 1, mk_behind },
	{ "behind window esn", AF_INET, false, MESP_DROP_REPLAY, 1, mk_behind },
	{ "behind window esn foreign iv", AF_INET, false, MESP_DROP_AUTH_FAIL, 1,
		mk_behind_foreign_iv },
	{ "seq 0 new sender", AF_INET, false, MESP_DROP_REPLAY, 0, mk_seq_zero },
	{ "seq 0 known sender", AF_INET, false, MESP_DROP_REPLAY, 1, mk_seq_zero_known },
	{ "bad pad bytes", AF_INET, false, MESP_DROP_BAD_PAD, 0, mk_pad_bytes },
	{ "bad pad bytes v6", AF_INET6, false, MESP_DROP_BAD_PAD, 0, mk_pad_bytes },
	{ "pad length too big", AF_INET, false, MESP_DROP_BAD_PAD, 0, mk_pad_len },
	{ "pad length 255", AF_INET6, false, MESP_DROP_BAD_PAD, 0, mk_pad_len_max },
	{ "next header ipv6 in ipv4 sa", AF_INET, false, MESP_DROP_BAD_NEXT_HDR, 0,
		mk_nh_other_family },
	{ "next header ipv4 in ipv6 sa", AF_INET6, false, MESP_DROP_BAD_NEXT_HDR, 0,
		mk_nh_other_family },
	{ "next header udp", AF_INET, false, MESP_DROP_BAD_NEXT_HDR, 0, mk_nh_udp },
	{ "next header 59", AF_INET, false, MESP_DROP_DUMMY, 0, mk_dummy },
	{ "next header 59 v6", AF_INET6, false, MESP_DROP_DUMMY, 0, mk_dummy },
	{ "inner version", AF_INET, false, MESP_DROP_BAD_INNER, 0, mk_inner_version },
	{ "inner version v6", AF_INET6, false, MESP_DROP_BAD_INNER, 0, mk_inner_version },
	{ "inner truncated", AF_INET, false, MESP_DROP_BAD_INNER, 0, mk_inner_short },
	{ "inner truncated v6", AF_INET6, false, MESP_DROP_BAD_INNER, 0, mk_inner_short },
	{ "inner length beyond payload", AF_INET, false, MESP_DROP_BAD_INNER, 0, mk_inner_len },
	{ "inner length beyond payload v6", AF_INET6, false, MESP_DROP_BAD_INNER, 0, mk_inner_len },
	{ "inner length below header", AF_INET, false, MESP_DROP_BAD_INNER, 0, mk_inner_len_small },
	{ "inner payload length 0 v6", AF_INET6, false, MESP_DROP_BAD_INNER, 0,
		mk_inner_len_small },
	{ "inner ihl 4", AF_INET, false, MESP_DROP_BAD_INNER, 0, mk_inner_ihl },
	{ "outer source differs", AF_INET, false, MESP_DROP_ADDR_MISMATCH, 0, mk_addr_src },
	{ "outer group differs", AF_INET, false, MESP_DROP_ADDR_MISMATCH, 0, mk_addr_dst },
	{ "outer source differs v6", AF_INET6, false, MESP_DROP_ADDR_MISMATCH, 0, mk_addr_src },
	{ "outer group differs v6", AF_INET6, false, MESP_DROP_ADDR_MISMATCH, 0, mk_addr_dst },
	{ "outer ce on not-ect", AF_INET, false, MESP_DROP_ECN, 0, mk_ecn },
	{ "outer ce on not-ect v6", AF_INET6, false, MESP_DROP_ECN, 0, mk_ecn },
	{ "senders full", AF_INET, false, MESP_DROP_SENDERS_FULL, 2, mk_senders_full },
	{ "senders full v6", AF_INET6, false, MESP_DROP_SENDERS_FULL, 2, mk_senders_full },
	{ "multi-segment", AF_INET, false, MESP_DROP_NO_ROOM, 0, mk_multiseg },
};

START_TEST(inbound_drop)
{
	const struct bad_case *bc = &bad_cases[_i];
	struct mcrypto_session *cs = cs_new(bc->family);
	struct mesp_sa_conf c;
	struct env e;
	struct rte_mbuf *m;
	uint64_t sa_auth, sa_replay, sa_other;

	conf_init(&c, bc->family);
	c.dir = MESP_SA_IN;
	c.nb_sids = 0;
	c.sids = NULL;
	c.max_senders = 2;
	c.esn = !bc->no_esn;
	e.family = bc->family;
	e.esn = c.esn;
	e.sa = sa_new(&c);
	e.cs = cs;
	m = bc->make(&e);
	ck_assert_msg(drops_total() == 0, "%s: preparation dropped", bc->name);
	ck_assert_msg(inb1(e.sa, m) == 0, "%s: accepted", bc->name);
	for (int r = 0; r < MESP_DROP_MAX; r++)
		ck_assert_msg(lc.drops[r] == (r == (int)bc->why ? 1u : 0u),
				"%s: drops[%s] = %" PRIu64, bc->name, mesp_drop_name(r),
				lc.drops[r]);
	sa_auth = bc->why == MESP_DROP_AUTH_FAIL;
	sa_replay = bc->why == MESP_DROP_REPLAY;
	sa_other = !sa_auth && !sa_replay;
	ck_assert_msg(ctr[0].auth_fail == sa_auth && ctr[0].replay == sa_replay &&
			ctr[0].other_drops == sa_other,
			"%s: SA counters auth %" PRIu64 " replay %" PRIu64 " other %" PRIu64,
			bc->name, ctr[0].auth_fail, ctr[0].replay, ctr[0].other_drops);
	ck_assert_uint_eq(ctr[0].in_pkts, bc->accepted);
	rte_pktmbuf_free(m);
	mesp_sa_free(e.sa);
	mcrypto_session_free(cs);
}
END_TEST

/* Forged packets never occupy replay windows: only ICV-valid senders are given one. */
START_TEST(forgeries_claim_no_window)
{
	struct mcrypto_session *cs = cs_new(AF_INET);
	struct mesp_sa_conf c;
	struct mesp_sa *sa;
	struct mesp_sa_info info;

	conf_init(&c, AF_INET);
	c.max_senders = 2;
	sa = sa_new(&c);
	for (uint16_t sid = 10; sid < 60; sid++) {
		struct rte_mbuf *m = good_pkt(cs, AF_INET, sid, 1);

		rte_pktmbuf_mtod(m, uint8_t *)[rte_pktmbuf_pkt_len(m) - 5] ^= 0x20;
		ck_assert_uint_eq(inb1(sa, m), 0);
		rte_pktmbuf_free(m);
	}
	mesp_sa_get_info(sa, &info);
	ck_assert_uint_eq(info.nb_senders, 0);
	ck_assert_uint_eq(lc.drops[MESP_DROP_AUTH_FAIL], 50);
	deliver(sa, good_pkt(cs, AF_INET, 1, 1));
	deliver(sa, good_pkt(cs, AF_INET, 2, 1));
	mesp_sa_get_info(sa, &info);
	ck_assert_uint_eq(info.nb_senders, 2);
	mesp_sa_free(sa);
	mcrypto_session_free(cs);
}
END_TEST

/* Failed packets move behind the good ones, each keeping its relative order. */
START_TEST(inbound_burst_order)
{
	struct mcrypto_session *cs = cs_new(AF_INET);
	struct mesp_sa_conf c;
	struct mesp_sa *sa;
	struct rte_mbuf *mb[6], *orig[6];
	struct mesp_sa *sas[6];

	conf_init(&c, AF_INET);
	sa = sa_new(&c);
	mb[0] = good_pkt(cs, AF_INET, 1, 1);
	mb[1] = good_pkt(cs, AF_INET, 1, 2);
	rte_pktmbuf_mtod(mb[1], uint8_t *)[rte_pktmbuf_pkt_len(mb[1]) - 1] ^= 1;
	mb[2] = good_pkt(cs, AF_INET, 1, 3);
	mb[3] = good_pkt(cs, AF_INET, 1, 1);          /* duplicate inside the burst */
	mb[4] = good_pkt(cs, AF_INET, 2, 1);
	mb[5] = mk_tiny(&(struct env){ AF_INET, true, sa, cs });
	for (int i = 0; i < 6; i++) {
		orig[i] = mb[i];
		sas[i] = sa;
	}
	ck_assert_uint_eq(mesp_inb_burst(&lc, sas, mb, 6), 3);
	ck_assert_ptr_eq(mb[0], orig[0]);
	ck_assert_ptr_eq(mb[1], orig[2]);
	ck_assert_ptr_eq(mb[2], orig[4]);
	ck_assert_ptr_eq(mb[3], orig[1]);
	ck_assert_ptr_eq(mb[4], orig[3]);
	ck_assert_ptr_eq(mb[5], orig[5]);
	ck_assert_uint_eq(lc.drops[MESP_DROP_AUTH_FAIL], 1);
	ck_assert_uint_eq(lc.drops[MESP_DROP_REPLAY], 1);
	ck_assert_uint_eq(lc.drops[MESP_DROP_MALFORMED], 1);
	ck_assert_uint_eq(ctr[0].in_pkts, 3);
	for (int i = 0; i < 6; i++)
		rte_pktmbuf_free(mb[i]);
	mesp_sa_free(sa);
	mcrypto_session_free(cs);
}
END_TEST

/* ------------------------------------------------------------------ outbound drops */

static struct rte_mbuf *plain_mbuf(uint8_t family, uint16_t plen)
{
	uint8_t in[2048];

	return mbuf_from(in, inner_pkt(family, in, 0, plen));
}

START_TEST(outbound_mtu)
{
	uint8_t family = _i == 0 ? AF_INET : AF_INET6;
	struct mesp_sa_conf c;
	struct mesp_sa *sa;
	struct mesp_sa_info info;
	struct rte_mbuf *m = plain_mbuf(family, 100);
	uint32_t len = rte_pktmbuf_pkt_len(m);
	uint32_t outer;

	conf_init(&c, family);
	sa = sa_new(&c);
	outer = len + mesp_sa_overhead(sa, len);
	ck_assert_uint_eq(outb1(sa, m, (uint16_t)(outer - 1)), 0);
	ck_assert_uint_eq(lc.drops[MESP_DROP_MTU], 1);
	ck_assert_uint_eq(ctr[0].other_drops, 1);
	ck_assert_uint_eq(rte_pktmbuf_pkt_len(m), len);
	mesp_sa_get_info(sa, &info);
	ck_assert_uint_eq(info.tx_seq_max, 0);           /* no sequence number spent */
	ck_assert_uint_eq(outb1(sa, m, (uint16_t)outer), 1);
	ck_assert_uint_eq(rte_pktmbuf_pkt_len(m), outer);
	ck_assert_uint_eq(pkt_seq(m, hdr_len(family)), 1);
	ck_assert_uint_eq(drops_total(), 1);
	rte_pktmbuf_free(m);
	mesp_sa_free(sa);
}
END_TEST

struct limit_case {
	uint8_t sid_bits;
	bool esn;
	uint64_t limit;
};

static const struct limit_case limits[] = {
	{ 16, true, (UINT64_C(1) << 48) - 1 },
	{ 12, true, (UINT64_C(1) << 52) - 1 },
	{ 8, true, (UINT64_C(1) << 56) - 1 },
	{ 16, false, UINT32_MAX },
	{ 8, false, UINT32_MAX },
};

/*
 * RFC 6054 §5 / RFC 4303 §3.3.3: the last sequence number still goes out, then the sender stops
 * for good; the IV (SID || seq, largest SID) never repeats, and what was sent decrypts.
 */
START_TEST(outbound_seq_exhausted)
{
	const struct limit_case *lim = &limits[_i];
	uint16_t sid = (uint16_t)((1u << lim->sid_bits) - 1);
	struct mesp_sa_conf c;
	struct mesp_sa *sa, *sas[4];
	struct mesp_sa_info info;
	struct rte_mbuf *mb[4];
	uint8_t in[128];
	uint32_t len = inner_pkt(AF_INET, in, 0, 21);
	uint64_t ivs[2];

	conf_init(&c, AF_INET);
	c.sid_bits = lim->sid_bits;
	c.esn = lim->esn;
	c.sids = &sid;
	sa = sa_new(&c);
	mesp_sa_get_info(sa, &info);
	ck_assert_uint_eq(info.seq_limit, lim->limit);
	ck_assert_int_eq(mesp_sa_set_tx_seq(sa, 0, lim->limit + 1), -EINVAL);
	ck_assert_int_eq(mesp_sa_set_tx_seq(sa, 1, 5), -EINVAL);
	ck_assert_int_eq(mesp_sa_set_tx_seq(sa, 0, lim->limit - 2), 0);

	for (int i = 0; i < 3; i++) {
		mb[i] = mbuf_from(in, len);
		sas[i] = sa;
	}
	ck_assert_uint_eq(mesp_outb_burst(&lc, sas, mb, 3, 1500), 2);
	for (int i = 0; i < 2; i++) {
		uint64_t seq = lim->limit - 1 + (uint64_t)i;

		ivs[i] = pkt_iv(mb[i], 20);
		ck_assert_uint_eq(ivs[i], ((uint64_t)sid << (64 - lim->sid_bits)) | seq);
		ck_assert_uint_eq(pkt_seq(mb[i], 20), (uint32_t)seq);
	}
	ck_assert_uint_ne(ivs[0], ivs[1]);
	/* the refused packet is untouched */
	ck_assert_uint_eq(rte_pktmbuf_pkt_len(mb[2]), len);
	ck_assert_mem_eq(rte_pktmbuf_mtod(mb[2], uint8_t *), in, len);
	ck_assert_uint_eq(lc.drops[MESP_DROP_SEQ_EXHAUSTED], 1);

	/* and it stays refused */
	ck_assert_uint_eq(outb1(sa, mb[2], 1500), 0);
	ck_assert_uint_eq(lc.drops[MESP_DROP_SEQ_EXHAUSTED], 2);
	ck_assert_uint_eq(ctr[0].other_drops, 2);
	ck_assert_uint_eq(ctr[0].out_pkts, 2);
	mesp_sa_get_info(sa, &info);
	ck_assert_uint_eq(info.tx_seq_max, lim->limit);

	/* a receiver that never saw this sender accepts both (ESN high half from the IV) */
	for (int i = 0; i < 2; i++) {
		mb[i]->l3_len = 20;
		ck_assert_uint_eq(inb1(sa, mb[i]), 1);
		ck_assert_uint_eq(rte_pktmbuf_pkt_len(mb[i]), len);
		ck_assert_mem_eq(rte_pktmbuf_mtod(mb[i], uint8_t *), in, len);
	}
	for (int i = 0; i < 3; i++)
		rte_pktmbuf_free(mb[i]);
	ck_assert_uint_eq(drops_total(), 2);
	mesp_sa_free(sa);
}
END_TEST

START_TEST(outbound_no_sid)
{
	struct mesp_sa_conf c;
	struct mesp_sa *sa, *in_only;
	struct rte_mbuf *m = plain_mbuf(AF_INET, 10);
	uint32_t len = rte_pktmbuf_pkt_len(m);

	conf_init(&c, AF_INET);
	c.nb_sids = 2;
	sa = sa_new(&c);
	lc.tx_slot = 2;                                  /* a third worker, no SID for it */
	ck_assert_uint_eq(outb1(sa, m, 1500), 0);
	ck_assert_uint_eq(lc.drops[MESP_DROP_NO_SID], 1);
	ck_assert_uint_eq(ctr[0].other_drops, 1);
	ck_assert_uint_eq(rte_pktmbuf_pkt_len(m), len);

	c.dir = MESP_SA_IN;
	c.nb_sids = 0;
	c.sids = NULL;
	c.stats_id = 1;
	in_only = sa_new(&c);
	lc.tx_slot = 0;
	ck_assert_uint_eq(outb1(in_only, m, 1500), 0);
	ck_assert_uint_eq(lc.drops[MESP_DROP_NO_SID], 2);
	ck_assert_uint_eq(ctr[1].other_drops, 1);
	ck_assert_uint_eq(drops_total(), 2);

	lc.tx_slot = 1;
	ck_assert_uint_eq(outb1(sa, m, 1500), 1);
	ck_assert_uint_eq(pkt_iv(m, 20), ((uint64_t)SIDS[1] << 56) | 1);
	rte_pktmbuf_free(m);
	mesp_sa_free(sa);
	mesp_sa_free(in_only);
}
END_TEST

START_TEST(outbound_no_room)
{
	struct mesp_sa_conf c;
	struct mesp_sa *sa;
	struct mesp_sa_info info;
	struct rte_mbuf *m, *t;
	uint8_t in[2048];
	uint32_t len;

	conf_init(&c, AF_INET);
	sa = sa_new(&c);

	/* no headroom for the outer header: the trailer space taken first is given back */
	len = inner_pkt(AF_INET, in, 0, 40);
	m = rte_pktmbuf_alloc(pool);
	ck_assert_ptr_nonnull(m);
	m->data_off = 0;
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), in, len);
	ck_assert_uint_eq(outb1(sa, m, 1500), 0);
	ck_assert_uint_eq(lc.drops[MESP_DROP_NO_ROOM], 1);
	ck_assert_uint_eq(rte_pktmbuf_pkt_len(m), len);
	ck_assert_uint_eq(rte_pktmbuf_data_len(m), len);
	ck_assert_mem_eq(rte_pktmbuf_mtod(m, uint8_t *), in, len);
	rte_pktmbuf_free(m);

	/* no tailroom for trailer and ICV */
	m = rte_pktmbuf_alloc(pool);
	ck_assert_ptr_nonnull(m);
	len = rte_pktmbuf_tailroom(m) - 8;
	len = inner_pkt(AF_INET, in, 0, (uint16_t)(len - 28));
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), in, len);
	ck_assert_uint_eq(outb1(sa, m, UINT16_MAX), 0);
	ck_assert_uint_eq(lc.drops[MESP_DROP_NO_ROOM], 2);
	ck_assert_uint_eq(rte_pktmbuf_pkt_len(m), len);
	rte_pktmbuf_free(m);

	/* chained mbufs */
	m = plain_mbuf(AF_INET, 10);
	t = rte_pktmbuf_alloc(pool);
	ck_assert_ptr_nonnull(t);
	memset(rte_pktmbuf_append(t, 4), 0, 4);
	ck_assert_int_eq(rte_pktmbuf_chain(m, t), 0);
	ck_assert_uint_eq(outb1(sa, m, 1500), 0);
	ck_assert_uint_eq(lc.drops[MESP_DROP_NO_ROOM], 3);
	rte_pktmbuf_free(m);

	ck_assert_uint_eq(ctr[0].other_drops, 3);
	ck_assert_uint_eq(drops_total(), 3);
	mesp_sa_get_info(sa, &info);
	ck_assert_uint_eq(info.tx_seq_max, 0);
	mesp_sa_free(sa);
}
END_TEST

START_TEST(outbound_burst_order)
{
	struct mesp_sa_conf c;
	struct mesp_sa *sa, *in_only, *sas[5];
	struct rte_mbuf *mb[5], *orig[5];

	conf_init(&c, AF_INET);
	sa = sa_new(&c);
	c.dir = MESP_SA_IN;
	c.nb_sids = 0;
	c.sids = NULL;
	c.stats_id = 1;
	in_only = sa_new(&c);
	for (int i = 0; i < 5; i++) {
		mb[i] = plain_mbuf(AF_INET, i == 1 ? 300 : 10);
		orig[i] = mb[i];
		sas[i] = i == 3 ? in_only : sa;
	}
	ck_assert_uint_eq(mesp_outb_burst(&lc, sas, mb, 5, 200), 3);
	ck_assert_ptr_eq(mb[0], orig[0]);
	ck_assert_ptr_eq(mb[1], orig[2]);
	ck_assert_ptr_eq(mb[2], orig[4]);
	ck_assert_ptr_eq(mb[3], orig[1]);
	ck_assert_ptr_eq(mb[4], orig[3]);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(pkt_seq(mb[i], 20), (uint32_t)i + 1);
	ck_assert_uint_eq(lc.drops[MESP_DROP_MTU], 1);
	ck_assert_uint_eq(lc.drops[MESP_DROP_NO_SID], 1);
	ck_assert_uint_eq(ctr[0].out_pkts, 3);
	for (int i = 0; i < 5; i++)
		rte_pktmbuf_free(mb[i]);
	mesp_sa_free(sa);
	mesp_sa_free(in_only);
}
END_TEST

/* ------------------------------------------------------------------ anti-replay per sender */

/* Encrypt one packet on `sa` from slot `slot` whose previous sequence number was `last`. */
static struct rte_mbuf *send_one(struct mesp_sa *sa, uint16_t slot, uint64_t last)
{
	struct rte_mbuf *m = plain_mbuf(AF_INET, 17);

	ck_assert_int_eq(mesp_sa_set_tx_seq(sa, slot, last), 0);
	lc.tx_slot = slot;
	ck_assert_uint_eq(outb1(sa, m, 1500), 1);
	m->l3_len = 20;
	return m;
}

static struct rte_mbuf *copy_pkt(const struct rte_mbuf *m)
{
	struct rte_mbuf *c = mbuf_from(rte_pktmbuf_mtod(m, const uint8_t *),
			rte_pktmbuf_pkt_len(m));

	c->l3_len = m->l3_len;
	return c;
}

START_TEST(replay_per_sender)
{
	struct mesp_sa_conf c;
	struct mesp_sa *tx, *rx;
	struct mesp_sa_info info;
	struct rte_mbuf *a1000, *b1, *a999;

	conf_init(&c, AF_INET);
	c.dir = MESP_SA_OUT;
	c.nb_sids = 2;
	tx = sa_new(&c);
	c.dir = MESP_SA_IN;
	c.stats_id = 1;
	rx = sa_new(&c);

	a999 = send_one(tx, 0, 998);
	a1000 = send_one(tx, 0, 999);
	b1 = send_one(tx, 1, 0);
	deliver(rx, copy_pkt(a1000));
	/* SID 2 is far behind SID 1's window, but it has its own */
	deliver(rx, copy_pkt(b1));
	/* SID 1's window slid with seq 1000: 999 is still inside and new */
	deliver(rx, copy_pkt(a999));
	ck_assert_uint_eq(inb1(rx, a1000), 0);
	ck_assert_uint_eq(inb1(rx, b1), 0);
	ck_assert_uint_eq(inb1(rx, a999), 0);
	ck_assert_uint_eq(lc.drops[MESP_DROP_REPLAY], 3);
	ck_assert_uint_eq(ctr[1].replay, 3);
	ck_assert_uint_eq(ctr[1].in_pkts, 3);
	mesp_sa_get_info(rx, &info);
	ck_assert_uint_eq(info.nb_senders, 2);

	/* SID 2 moving ahead leaves SID 1's window alone */
	rte_pktmbuf_free(b1);
	b1 = send_one(tx, 1, 100000);
	deliver(rx, b1);
	deliver(rx, send_one(tx, 0, 1000));
	rte_pktmbuf_free(a1000);
	rte_pktmbuf_free(a999);
	mesp_sa_free(tx);
	mesp_sa_free(rx);
}
END_TEST

START_TEST(replay_disabled)
{
	struct mesp_sa_conf c;
	struct mesp_sa *sa;
	struct mesp_sa_info info;
	struct rte_mbuf *m;

	conf_init(&c, AF_INET);
	c.replay_window = 0;
	sa = sa_new(&c);
	m = send_one(sa, 0, 41);
	for (int i = 0; i < 3; i++)
		deliver(sa, copy_pkt(m));
	ck_assert_uint_eq(ctr[0].replay_disabled, 3);
	ck_assert_uint_eq(ctr[0].in_pkts, 3);
	ck_assert_uint_eq(drops_total(), 0);
	mesp_sa_get_info(sa, &info);
	ck_assert_uint_eq(info.nb_senders, 0);
	ck_assert_uint_eq(info.replay_window, 0);
	/* the ICV is still checked */
	rte_pktmbuf_mtod(m, uint8_t *)[30] ^= 1;
	ck_assert_uint_eq(inb1(sa, m), 0);
	ck_assert_uint_eq(lc.drops[MESP_DROP_AUTH_FAIL], 1);
	ck_assert_uint_eq(ctr[0].replay_disabled, 3);
	rte_pktmbuf_free(m);
	mesp_sa_free(sa);
}
END_TEST

/* A receiver joining late learns the ESN high half from the IV; then RFC 4303 A2 takes over. */
START_TEST(late_joiner_esn)
{
	struct mesp_sa_conf c;
	struct mesp_sa *tx, *rx;
	struct rte_mbuf *first;

	conf_init(&c, AF_INET);
	c.dir = MESP_SA_OUT;
	tx = sa_new(&c);
	c.dir = MESP_SA_IN;
	c.stats_id = 1;
	rx = sa_new(&c);

	first = send_one(tx, 0, 0x100000004);
	ck_assert_uint_eq(pkt_seq(first, 20), 5);
	deliver(rx, copy_pkt(first));
	deliver(rx, send_one(tx, 0, 0x100000005));
	ck_assert_uint_eq(inb1(rx, first), 0);
	ck_assert_uint_eq(lc.drops[MESP_DROP_REPLAY], 1);
	rte_pktmbuf_free(first);

	ck_assert_uint_eq(ctr[1].in_pkts, 2);
	mesp_sa_free(rx);

	/* another late receiver, just before a 2^32 boundary: only the low half is on the wire */
	c.stats_id = 2;
	rx = sa_new(&c);
	deliver(rx, send_one(tx, 0, 0x1fffffffd));              /* 0x1_ffff_fffe */
	deliver(rx, send_one(tx, 0, 0x1ffffffff));              /* 0x2_0000_0000 */
	deliver(rx, send_one(tx, 0, 0x200000000));              /* 0x2_0000_0001 */
	/* late packet from before the boundary, inside the window: high half 1 inferred */
	deliver(rx, send_one(tx, 0, 0x1fffffffe));              /* 0x1_ffff_ffff */
	ck_assert_uint_eq(ctr[2].in_pkts, 4);
	ck_assert_uint_eq(ctr[2].auth_fail + ctr[2].replay, 0);
	mesp_sa_free(tx);
	mesp_sa_free(rx);
}
END_TEST

/*
 * A sender whose IV is not SID || sequence number (another ESP implementation): the receiver
 * falls back to RFC 4303 Appendix A, high half 0 for a new sender, and still detects replays.
 */
START_TEST(foreign_iv_sender)
{
	struct mcrypto_session *cs = cs_new(AF_INET);
	struct mesp_sa_conf c;
	struct mesp_sa *sa;
	struct rte_mbuf *m[6];

	conf_init(&c, AF_INET);
	c.dir = MESP_SA_IN;
	sa = sa_new(&c);
	for (uint64_t seq = 1; seq <= 5; seq++) {
		uint8_t pt[256];
		struct spec s;
		uint32_t n = trailer(pt, inner_pkt(AF_INET, pt, 0, 9), 4);

		spec_init(&s, AF_INET, 9, seq);
		s.iv_seq = 0xabcdef00 + seq * 3;
		m[seq] = seal(cs, &s, pt, n);
	}
	deliver(sa, copy_pkt(m[5]));
	deliver(sa, copy_pkt(m[1]));
	deliver(sa, copy_pkt(m[3]));
	ck_assert_uint_eq(inb1(sa, m[3]), 0);
	ck_assert_uint_eq(inb1(sa, m[5]), 0);
	ck_assert_uint_eq(lc.drops[MESP_DROP_REPLAY], 2);
	deliver(sa, m[2]);
	deliver(sa, m[4]);
	ck_assert_uint_eq(ctr[0].in_pkts, 5);
	rte_pktmbuf_free(m[1]);
	rte_pktmbuf_free(m[3]);
	rte_pktmbuf_free(m[5]);
	mesp_sa_free(sa);
	mcrypto_session_free(cs);
}
END_TEST

/* ------------------------------------------------------------------ SA records */

struct create_case {
	const char *name;
	int rc;
	void (*edit)(struct mesp_sa_conf *c);
};

static const uint16_t big_sid8[] = { 256 };
static const uint16_t big_sid12[] = { 4096 };
static const uint16_t dup_sids[] = { 3, 5, 3 };
static uint16_t many_sids[MESP_MAX_TX_SIDS + 1];

static void e_sid_bits0(struct mesp_sa_conf *c) { c->sid_bits = 0; }
static void e_sid_bits7(struct mesp_sa_conf *c) { c->sid_bits = 7; }
static void e_sid_bits17(struct mesp_sa_conf *c) { c->sid_bits = 17; }
static void e_sid_big8(struct mesp_sa_conf *c) { c->sids = big_sid8; }
static void e_sid_big12(struct mesp_sa_conf *c) { c->sid_bits = 12; c->sids = big_sid12; }
static void e_no_sids(struct mesp_sa_conf *c) { c->nb_sids = 0; }
static void e_sids_null(struct mesp_sa_conf *c) { c->sids = NULL; }
static void e_in_sids_null(struct mesp_sa_conf *c) { c->dir = MESP_SA_IN; c->sids = NULL; }
static void e_dup_sids(struct mesp_sa_conf *c) { c->sids = dup_sids; c->nb_sids = 3; }
static void e_too_many_sids(struct mesp_sa_conf *c)
{
	for (uint16_t i = 0; i < RTE_DIM(many_sids); i++)
		many_sids[i] = i;
	c->sids = many_sids;
	c->nb_sids = RTE_DIM(many_sids);
}
static void e_ttl0(struct mesp_sa_conf *c) { c->ttl = 0; }
static void e_ttl256(struct mesp_sa_conf *c) { c->ttl = 256; }
static void e_ttl_neg(struct mesp_sa_conf *c) { c->ttl = -2; }
static void e_dscp64(struct mesp_sa_conf *c) { c->dscp = 64; }
static void e_dscp_neg(struct mesp_sa_conf *c) { c->dscp = -2; }
static void e_key_no_salt(struct mesp_sa_conf *c) { c->keymat_len = 16; }
static void e_key_long(struct mesp_sa_conf *c) { c->keymat = K256; c->keymat_len = 36; }
static void e_key_null(struct mesp_sa_conf *c) { c->keymat = NULL; }
static void e_suite_none(struct mesp_sa_conf *c) { c->suite = MCRYPTO_SUITE_NONE; }
static void e_suite_max(struct mesp_sa_conf *c) { c->suite = MCRYPTO_SUITE_MAX; }
static void e_family(struct mesp_sa_conf *c) { c->family = AF_UNIX; }
static void e_dir0(struct mesp_sa_conf *c) { c->dir = 0; }
static void e_dir_bad(struct mesp_sa_conf *c) { c->dir = MESP_SA_IN | 4; }
static void e_max_senders0(struct mesp_sa_conf *c) { c->max_senders = 0; }
static void e_window_big(struct mesp_sa_conf *c) { c->replay_window = MESP_REPLAY_MAX_WINDOW + 1; }
static void e_engine(struct mesp_sa_conf *c) { c->engine = "no-such-engine"; }
static void e_ok_ttl(struct mesp_sa_conf *c) { c->ttl = 255; c->dscp = 63; }
static void e_ok_in_only(struct mesp_sa_conf *c)
{
	c->dir = MESP_SA_IN;
	c->nb_sids = 0;
	c->sids = NULL;
}
static void e_ok_out_only(struct mesp_sa_conf *c) { c->dir = MESP_SA_OUT; c->max_senders = 0; }
static void e_ok_max_window(struct mesp_sa_conf *c) { c->replay_window = MESP_REPLAY_MAX_WINDOW; }
static void e_ok_sid12(struct mesp_sa_conf *c) { c->sid_bits = 12; c->sids = big_sid8; }
static const uint8_t KNULL_E[32] = { 9 };
static void e_null_two_sids(struct mesp_sa_conf *c)
{
	c->suite = MCRYPTO_SUITE_NULL_HMAC_SHA256;
	c->keymat = KNULL_E;
	c->keymat_len = 32;
	c->nb_sids = 2;
}
static void e_ok_null_one_sid(struct mesp_sa_conf *c)
{
	e_null_two_sids(c);
	c->nb_sids = 1;
}
static void e_null_gcm_keymat(struct mesp_sa_conf *c)
{
	e_ok_null_one_sid(c);
	c->keymat = K128;
	c->keymat_len = 20;
}

static const struct create_case create_cases[] = {
	{ "sid_bits 0", -EINVAL, e_sid_bits0 },
	{ "sid_bits 7", -EINVAL, e_sid_bits7 },
	{ "sid_bits 17", -EINVAL, e_sid_bits17 },
	{ "sid 256 in 8 bits", -EINVAL, e_sid_big8 },
	{ "sid 4096 in 12 bits", -EINVAL, e_sid_big12 },
	{ "sender without sids", -EINVAL, e_no_sids },
	{ "sender with NULL sids", -EINVAL, e_sids_null },
	{ "receiver with 1 sid at NULL", -EINVAL, e_in_sids_null },
	{ "duplicate sid", -EINVAL, e_dup_sids },
	{ "65 sids", -EINVAL, e_too_many_sids },
	{ "ttl 0", -EINVAL, e_ttl0 },
	{ "ttl 256", -EINVAL, e_ttl256 },
	{ "ttl -2", -EINVAL, e_ttl_neg },
	{ "dscp 64", -EINVAL, e_dscp64 },
	{ "dscp -2", -EINVAL, e_dscp_neg },
	{ "keymat without salt", -EINVAL, e_key_no_salt },
	{ "aes-256 keymat for aes-128", -EINVAL, e_key_long },
	{ "keymat NULL", -EINVAL, e_key_null },
	{ "suite none", -EINVAL, e_suite_none },
	{ "suite out of range", -EINVAL, e_suite_max },
	{ "family", -EINVAL, e_family },
	{ "dir 0", -EINVAL, e_dir0 },
	{ "dir unknown bit", -EINVAL, e_dir_bad },
	{ "receiver with max_senders 0", -EINVAL, e_max_senders0 },
	{ "replay window too big", -EINVAL, e_window_big },
	{ "unknown engine", -ENOTSUP, e_engine },
	{ "ttl 255 dscp 63", 0, e_ok_ttl },
	{ "receive only", 0, e_ok_in_only },
	{ "send only", 0, e_ok_out_only },
	{ "largest window", 0, e_ok_max_window },
	{ "sid 256 in 12 bits", 0, e_ok_sid12 },
	{ "null encryption with two sender IDs", -EINVAL, e_null_two_sids },
	{ "null encryption with one sender ID", 0, e_ok_null_one_sid },
	{ "null encryption with a 20-byte KEYMAT", -EINVAL, e_null_gcm_keymat },
};

START_TEST(sa_create_errors)
{
	const struct create_case *cc = &create_cases[_i];
	struct mesp_sa_conf c;
	struct mesp_sa *sa = (struct mesp_sa *)(uintptr_t)1;
	int rc;

	conf_init(&c, AF_INET);
	cc->edit(&c);
	rc = mesp_sa_create(&c, NULL, &sa);
	ck_assert_msg(rc == cc->rc, "%s: got %d, want %d", cc->name, rc, cc->rc);
	if (rc == 0)
		mesp_sa_free(sa);
	else
		ck_assert_ptr_eq(sa, (struct mesp_sa *)(uintptr_t)1);
}
END_TEST

START_TEST(sa_same_keys)
{
	static const uint16_t other_sids[] = { 1, 3 };
	struct mesp_sa_conf c, d;
	struct mesp_sa *sa, *sa2 = NULL;
	uint8_t k[20];

	conf_init(&c, AF_INET);
	c.nb_sids = 2;
	sa = sa_new(&c);
	d = c;
	ck_assert(mesp_sa_same_keys(sa, &d));
	/* the replay window goes with the key: a different one would reopen the windows */
	d.replay_window = 128;
	ck_assert(!mesp_sa_same_keys(sa, &d));
	d.replay_window = c.replay_window;
	/* parameters that are not keys */
	d.ttl = 9;
	d.dscp = 1;
	d.spi = 0x9999;
	d.stats_id = 3;
	ck_assert(mesp_sa_same_keys(sa, &d));
	/* the key material is compared, not the pointer */
	memcpy(k, K128, sizeof(k));
	d.keymat = k;
	ck_assert(mesp_sa_same_keys(sa, &d));
	k[0] ^= 1;
	ck_assert(!mesp_sa_same_keys(sa, &d));
	k[0] ^= 1;
	k[19] ^= 1;                                     /* salt */
	ck_assert(!mesp_sa_same_keys(sa, &d));
	d = c;
	d.esn = false;
	ck_assert(!mesp_sa_same_keys(sa, &d));
	d = c;
	d.sid_bits = 12;
	ck_assert(!mesp_sa_same_keys(sa, &d));
	d = c;
	d.sids = other_sids;
	ck_assert(!mesp_sa_same_keys(sa, &d));
	d = c;
	d.nb_sids = 1;
	ck_assert(!mesp_sa_same_keys(sa, &d));
	d = c;
	d.family = AF_INET6;
	ck_assert(!mesp_sa_same_keys(sa, &d));
	d = c;
	d.suite = MCRYPTO_SUITE_AES_GCM_256;
	d.keymat = K256;
	d.keymat_len = sizeof(K256);
	ck_assert(!mesp_sa_same_keys(sa, &d));
	/* sharing state with a record of other keys is refused */
	ck_assert_int_eq(mesp_sa_create(&d, sa, &sa2), -EINVAL);
	ck_assert_ptr_null(sa2);
	mesp_sa_free(sa);
}
END_TEST

/*
 * A replace that keeps the keys continues the sender counters and the replay windows: no IV is
 * used twice and a packet accepted by the old record is a replay for the new one.
 */
START_TEST(sa_share_state)
{
	struct mesp_sa_conf c;
	struct mesp_sa *old, *new;
	struct mesp_sa_info info;
	struct rte_mbuf *m[6];
	uint64_t ivs[6];

	conf_init(&c, AF_INET);
	old = sa_new(&c);
	for (int i = 0; i < 3; i++) {
		m[i] = plain_mbuf(AF_INET, 12);
		ck_assert_uint_eq(outb1(old, m[i], 1500), 1);
		ivs[i] = pkt_iv(m[i], 20);
		m[i]->l3_len = 20;
	}
	deliver(old, copy_pkt(m[1]));

	c.ttl = 3;
	c.stats_id = 1;
	ck_assert_int_eq(mesp_sa_create(&c, old, &new), 0);
	mesp_sa_free(old);                              /* the shared state outlives it */
	for (int i = 3; i < 6; i++) {
		m[i] = plain_mbuf(AF_INET, 12);
		ck_assert_uint_eq(outb1(new, m[i], 1500), 1);
		ck_assert_uint_eq(rte_pktmbuf_mtod(m[i], struct rte_ipv4_hdr *)->time_to_live, 3);
		ivs[i] = pkt_iv(m[i], 20);
		ck_assert_uint_eq(pkt_seq(m[i], 20), (uint32_t)i + 1);
		m[i]->l3_len = 20;
	}
	for (int i = 0; i < 6; i++)
		for (int j = i + 1; j < 6; j++)
			ck_assert_uint_ne(ivs[i], ivs[j]);
	mesp_sa_get_info(new, &info);
	ck_assert_uint_eq(info.tx_seq_max, 6);
	ck_assert_uint_eq(info.nb_senders, 1);

	/* seq 2 went through the old record: a replay now; 1 and 3 are new */
	ck_assert_uint_eq(inb1(new, m[1]), 0);
	ck_assert_uint_eq(lc.drops[MESP_DROP_REPLAY], 1);
	ck_assert_uint_eq(ctr[1].replay, 1);
	deliver(new, m[0]);
	deliver(new, m[2]);
	for (int i = 3; i < 6; i++)
		deliver(new, m[i]);
	rte_pktmbuf_free(m[1]);

	/* a different replay window size cannot share the windows: refused (gsad asks for a
	 * new key then) */
	c.replay_window = 256;
	c.stats_id = 2;
	ck_assert_int_eq(mesp_sa_create(&c, new, &old), -EINVAL);
	/* a record that only receives still carries the sender counters, so that a later
	 * replace back to sending continues them */
	c.replay_window = 64;
	c.dir = MESP_SA_IN;
	ck_assert_int_eq(mesp_sa_create(&c, new, &old), 0);
	mesp_sa_free(new);
	c.dir = MESP_SA_IN | MESP_SA_OUT;
	ck_assert_int_eq(mesp_sa_create(&c, old, &new), 0);
	mesp_sa_free(old);
	mesp_sa_get_info(new, &info);
	ck_assert_uint_eq(info.tx_seq_max, 6);
	ck_assert_uint_eq(info.nb_senders, 1);
	mesp_sa_free(new);
}
END_TEST

START_TEST(sa_info)
{
	struct mesp_sa_conf c;
	struct mesp_sa *sa;
	struct mesp_sa_info info;

	conf_init(&c, AF_INET6);
	c.nb_sids = 3;
	c.replay_window = 1024;
	c.stats_id = 2;
	sa = sa_new(&c);
	mesp_sa_get_info(sa, &info);
	ck_assert_uint_eq(info.spi, SPI6);
	ck_assert_uint_eq(info.family, AF_INET6);
	ck_assert_uint_eq(info.dir, MESP_SA_IN | MESP_SA_OUT);
	ck_assert_uint_eq(info.sid_bits, 16);
	ck_assert(info.esn);
	ck_assert_int_eq(info.suite, MCRYPTO_SUITE_AES_GCM_256);
	ck_assert_uint_eq(info.replay_window, 1024);
	ck_assert_uint_eq(info.stats_id, 2);
	ck_assert_uint_eq(info.nb_sids, 3);
	ck_assert_uint_eq(info.nb_senders, 0);
	ck_assert_uint_eq(info.tx_seq_max, 0);
	ck_assert_uint_eq(info.seq_limit, (UINT64_C(1) << 48) - 1);
	ck_assert_int_eq(mesp_sa_set_tx_seq(sa, 2, 77), 0);
	ck_assert_int_eq(mesp_sa_set_tx_seq(sa, 3, 77), -EINVAL);
	mesp_sa_get_info(sa, &info);
	ck_assert_uint_eq(info.tx_seq_max, 77);
	/* overhead: 40 + 16 + 2..5 + 16 */
	for (uint32_t len = 40; len < 48; len++)
		ck_assert_uint_eq(mesp_sa_overhead(sa, len),
				40 + 16 + 16 + ((len + 2 + 3) & ~3u) - len);
	mesp_sa_free(sa);
	mesp_sa_free(NULL);
}
END_TEST

START_TEST(drop_names)
{
	for (int r = 0; r < MESP_DROP_MAX; r++) {
		const char *n = mesp_drop_name(r);

		ck_assert_ptr_nonnull(n);
		ck_assert_str_ne(n, "unknown");
		for (int q = 0; q < r; q++)
			ck_assert_str_ne(n, mesp_drop_name(q));
	}
	ck_assert_str_eq(mesp_drop_name(MESP_DROP_AUTH_FAIL), "auth_fail");
	ck_assert_str_eq(mesp_drop_name(MESP_DROP_MTU), "mtu_exceeded");
	ck_assert_str_eq(mesp_drop_name(MESP_DROP_MAX), "unknown");
	ck_assert_str_eq(mesp_drop_name((enum mesp_drop)-1), "unknown");
}
END_TEST

/* ------------------------------------------------------------------ other suites */

static const uint8_t KGMAC[20] = {
	0x4c, 0x80, 0xcd, 0xef, 0xbb, 0x5d, 0x10, 0xda, 0x90, 0x6a, 0xc7, 0x3c, 0x36, 0x13, 0xa6,
	0x34, 0x22, 0x43, 0x3c, 0x64,
};
static uint8_t KCTR[52];
static uint8_t KNULL[32];

static const enum mcrypto_suite other_suites[] = {
	MCRYPTO_SUITE_AES_GMAC_128, MCRYPTO_SUITE_AES_CTR_128_HMAC_SHA256,
	MCRYPTO_SUITE_NULL_HMAC_SHA256,
};

static void conf_suite(struct mesp_sa_conf *c, uint8_t family, enum mcrypto_suite suite)
{
	for (unsigned int i = 0; i < sizeof(KCTR); i++)
		KCTR[i] = (uint8_t)(0x61 + 7 * i);
	for (unsigned int i = 0; i < sizeof(KNULL); i++)
		KNULL[i] = (uint8_t)(0xf0 ^ (5 * i));
	conf_init(c, family);
	c->suite = suite;
	switch (suite) {
	case MCRYPTO_SUITE_AES_GMAC_128:
		c->keymat = KGMAC;
		c->keymat_len = sizeof(KGMAC);
		break;
	case MCRYPTO_SUITE_AES_CTR_128_HMAC_SHA256:
		c->keymat = KCTR;
		c->keymat_len = sizeof(KCTR);
		break;
	default:
		c->keymat = KNULL;
		c->keymat_len = sizeof(KNULL);
		break;
	}
}

/*
 * Out and back in for each suite, both families, ESN on and off: every padding length, the
 * sequence counter crossing 2^32 with ESN (the receiver, which never saw the sender before,
 * learns the high half from the IV, or for NULL encryption by RFC 4303 Appendix A), the wire
 * layout (IV or none, payload in clear or not) and the overhead. Loop index: suite * 4 +
 * family * 2 + ESN.
 */
START_TEST(suite_round_trip)
{
	enum mcrypto_suite suite = other_suites[_i / 4];
	const struct mcrypto_suite_info *si = mcrypto_suite_info(suite);
	uint8_t family = (_i & 2) ? AF_INET6 : AF_INET;
	bool esn = _i & 1;
	uint32_t hl = hdr_len(family), esp_len = 8 + si->iv_len;
	uint64_t first = esn ? UINT64_C(0xfffffff8) : 1000;
	struct mesp_sa_conf c;
	struct mesp_sa *tx, *rx;
	struct mesp_sa_info info;

	conf_suite(&c, family, suite);
	c.esn = esn;
	c.dir = MESP_SA_OUT;
	c.max_senders = 0;
	tx = sa_new(&c);
	c.dir = MESP_SA_IN;
	c.nb_sids = 0;
	c.sids = NULL;
	c.max_senders = 4;
	rx = sa_new(&c);
	ck_assert_int_eq(mesp_sa_set_tx_seq(tx, 0, first - 1), 0);
	for (uint16_t plen = 0; plen < 16; plen++) {
		uint8_t in[128];
		uint32_t len = inner_pkt(family, in, 0, plen);
		uint64_t seq = first + plen;
		struct rte_mbuf *m = mbuf_from(in, len);
		const uint8_t *o;

		ck_assert_uint_eq(outb1(tx, m, 1500), 1);
		o = rte_pktmbuf_mtod(m, const uint8_t *);
		ck_assert_uint_eq(rte_pktmbuf_pkt_len(m), len + mesp_sa_overhead(tx, len));
		ck_assert_uint_eq(mesp_sa_overhead(tx, len),
				hl + esp_len + ((4 - (len + 2) % 4) % 4) + 2 + 16);
		ck_assert_uint_eq((rte_pktmbuf_pkt_len(m) - hl - esp_len - 16) % 4, 0);
		ck_assert_uint_eq(pkt_seq(m, hl), (uint32_t)seq);
		if (si->iv_len != 0)
			ck_assert_uint_eq(pkt_iv(m, hl),
					((uint64_t)SIDS[0] << (64 - c.sid_bits)) | seq);
		if (si->encrypts)
			ck_assert(memcmp(o + hl + esp_len, in, len) != 0);
		else
			ck_assert_mem_eq(o + hl + esp_len, in, len); /* integrity only */
		m->l3_len = (uint16_t)hl;
		ck_assert_msg(inb1(rx, m) == 1, "%s: packet %u dropped", si->name, plen);
		ck_assert_uint_eq(rte_pktmbuf_pkt_len(m), len);
		ck_assert_mem_eq(rte_pktmbuf_mtod(m, uint8_t *), in, len);
		rte_pktmbuf_free(m);
	}
	ck_assert_uint_eq(drops_total(), 0);
	ck_assert_uint_eq(ctr[0].out_pkts, 16);
	ck_assert_uint_eq(ctr[0].in_pkts, 16);
	mesp_sa_get_info(rx, &info);
	ck_assert_uint_eq(info.nb_senders, 1);
	mesp_sa_get_info(tx, &info);
	ck_assert_uint_eq(info.tx_seq_max, first + 15);
	mesp_sa_free(tx);
	mesp_sa_free(rx);
}
END_TEST

/*
 * One flipped bit in each region of a good packet (sequence number, IV, start, middle and end of
 * the payload, padding, pad length, next header, ICV) is an ICV failure, counted as auth_fail
 * for the SA; nothing is delivered and the good packet still goes through after. Loop index:
 * suite * 2 + ESN.
 */
START_TEST(suite_tamper)
{
	enum mcrypto_suite suite = other_suites[_i / 2];
	const struct mcrypto_suite_info *si = mcrypto_suite_info(suite);
	bool esn = _i & 1;
	uint32_t hl = 20, esp_len = 8 + si->iv_len;
	struct mesp_sa_conf c;
	struct mesp_sa *sa;
	uint8_t in[128], out[256];
	uint32_t len = inner_pkt(AF_INET, in, 0, 13), olen, n = 0;
	struct rte_mbuf *m = mbuf_from(in, len);

	conf_suite(&c, AF_INET, suite);
	c.esn = esn;
	sa = sa_new(&c);
	/* with an IV the receiver learns a high half from it; NULL has Appendix A only, from 0 */
	ck_assert_int_eq(mesp_sa_set_tx_seq(sa, 0, esn && si->iv_len != 0 ?
			UINT64_C(0x500000006) : 41), 0);
	ck_assert_uint_eq(outb1(sa, m, 1500), 1);
	olen = rte_pktmbuf_pkt_len(m);
	memcpy(out, rte_pktmbuf_mtod(m, uint8_t *), olen);
	rte_pktmbuf_free(m);

	uint32_t ct = hl + esp_len, icv = olen - 16;
	const uint32_t offs[] = {
		hl + 4, hl + 7,                      /* sequence number */
		hl + 8, hl + 15,                     /* IV (first payload bytes for NULL) */
		ct, ct + 9, ct + (icv - ct) / 2,     /* payload */
		icv - 3, icv - 2, icv - 1,           /* padding, pad length, next header */
		icv, icv + 15,                       /* ICV */
	};
	for (unsigned int i = 0; i < RTE_DIM(offs); i++) {
		for (uint8_t bit = 0x01; bit != 0; bit <<= 3) {
			m = mbuf_from(out, olen);
			m->l3_len = (uint16_t)hl;
			rte_pktmbuf_mtod(m, uint8_t *)[offs[i]] ^= bit;
			ck_assert_msg(inb1(sa, m) == 0, "%s: offset %u bit %#x accepted", si->name,
					offs[i], bit);
			rte_pktmbuf_free(m);
			n++;
		}
	}
	ck_assert_uint_eq(lc.drops[MESP_DROP_AUTH_FAIL], n);
	ck_assert_uint_eq(ctr[0].auth_fail, n);
	ck_assert_uint_eq(drops_total(), n);
	m = mbuf_from(out, olen);
	m->l3_len = (uint16_t)hl;
	ck_assert_uint_eq(inb1(sa, m), 1);
	ck_assert_mem_eq(rte_pktmbuf_mtod(m, uint8_t *), in, len);
	rte_pktmbuf_free(m);
	mesp_sa_free(sa);
}
END_TEST

/*
 * NULL encryption: no IV, so no sender ID; the receiver keeps one window per SA whatever the
 * packets carry where the IV would be, and replays are caught in it.
 */
START_TEST(null_one_window)
{
	struct mesp_sa_conf c;
	struct mesp_sa *tx, *rx;
	struct mesp_sa_info info;
	struct rte_mbuf *keep = NULL;

	conf_suite(&c, AF_INET, MCRYPTO_SUITE_NULL_HMAC_SHA256);
	c.dir = MESP_SA_OUT;
	tx = sa_new(&c);
	c.dir = MESP_SA_IN;
	c.nb_sids = 0;
	c.sids = NULL;
	rx = sa_new(&c);
	for (uint16_t i = 0; i < 8; i++) {
		uint8_t in[128];
		/* different first payload bytes (where an IV would be) in every packet */
		uint32_t len = inner_pkt(AF_INET, in, (uint8_t)(i << 2), (uint16_t)(3 * i));
		struct rte_mbuf *m = mbuf_from(in, len);

		ck_assert_uint_eq(outb1(tx, m, 1500), 1);
		m->l3_len = 20;
		if (i == 3)
			keep = rte_pktmbuf_copy(m, pool, 0, UINT32_MAX);
		deliver(rx, m);
	}
	mesp_sa_get_info(rx, &info);
	ck_assert_uint_eq(info.nb_senders, 1);
	ck_assert_uint_eq(info.seq_limit, UINT64_MAX - 1);
	ck_assert_ptr_nonnull(keep);
	keep->l3_len = 20;
	ck_assert_uint_eq(inb1(rx, keep), 0);
	ck_assert_uint_eq(lc.drops[MESP_DROP_REPLAY], 1);
	rte_pktmbuf_free(keep);
	mesp_sa_free(tx);
	mesp_sa_free(rx);
}
END_TEST

/*
 * A replace that keeps the HMAC key but changes the cipher key is a new key: the key identifier
 * covers the whole KEYMAT, integrity key included.
 */
START_TEST(keyid_covers_auth_key)
{
	struct mesp_sa_conf c, d;
	uint8_t a[MESP_KEYID_LEN], b[MESP_KEYID_LEN], k2[52];

	conf_suite(&c, AF_INET, MCRYPTO_SUITE_AES_CTR_128_HMAC_SHA256);
	d = c;
	memcpy(k2, KCTR, sizeof(k2));
	k2[51] ^= 1;                    /* last byte of the HMAC key */
	d.keymat = k2;
	mesp_conf_keyid(&c, a);
	mesp_conf_keyid(&d, b);
	ck_assert(memcmp(a, b, sizeof(a)) != 0);
	k2[51] ^= 1;
	mesp_conf_keyid(&d, b);
	ck_assert_mem_eq(a, b, sizeof(a));
}
END_TEST

Suite *mesp_suite(void);

Suite *mesp_suite(void)
{
	Suite *s = suite_create("mesp");
	TCase *tc;

	tc = tcase_create("vectors");
	tcase_add_unchecked_fixture(tc, eal_setup, NULL);
	tcase_add_checked_fixture(tc, ctx_setup, NULL);
	tcase_add_loop_test(tc, vec_outbound, 0, RTE_DIM(vecs));
	tcase_add_loop_test(tc, vec_inbound, 0, RTE_DIM(vecs));
	tcase_add_loop_test(tc, vec_tamper, 0, RTE_DIM(vecs));
	tcase_add_loop_test(tc, round_trip, 0, 4);
	tcase_add_loop_test(tc, ecn_decap_table, 0, 32);
	tcase_add_loop_test(tc, tfc_padding, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("inbound");
	tcase_add_unchecked_fixture(tc, eal_setup, NULL);
	tcase_add_checked_fixture(tc, ctx_setup, NULL);
	tcase_add_loop_test(tc, inbound_drop, 0, RTE_DIM(bad_cases));
	tcase_add_test(tc, forgeries_claim_no_window);
	tcase_add_test(tc, inbound_burst_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("outbound");
	tcase_add_unchecked_fixture(tc, eal_setup, NULL);
	tcase_add_checked_fixture(tc, ctx_setup, NULL);
	tcase_add_loop_test(tc, outbound_mtu, 0, 2);
	tcase_add_loop_test(tc, outbound_seq_exhausted, 0, RTE_DIM(limits));
	tcase_add_test(tc, outbound_no_sid);
	tcase_add_test(tc, outbound_no_room);
	tcase_add_test(tc, outbound_burst_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("replay");
	tcase_add_unchecked_fixture(tc, eal_setup, NULL);
	tcase_add_checked_fixture(tc, ctx_setup, NULL);
	tcase_add_test(tc, replay_per_sender);
	tcase_add_test(tc, replay_disabled);
	tcase_add_test(tc, late_joiner_esn);
	tcase_add_test(tc, foreign_iv_sender);
	suite_add_tcase(s, tc);

	tc = tcase_create("sa");
	tcase_add_unchecked_fixture(tc, eal_setup, NULL);
	tcase_add_checked_fixture(tc, ctx_setup, NULL);
	tcase_add_loop_test(tc, sa_create_errors, 0, RTE_DIM(create_cases));
	tcase_add_test(tc, sa_same_keys);
	tcase_add_test(tc, sa_share_state);
	tcase_add_test(tc, sa_info);
	tcase_add_test(tc, drop_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("suites");
	tcase_add_unchecked_fixture(tc, eal_setup, NULL);
	tcase_add_checked_fixture(tc, ctx_setup, NULL);
	tcase_add_loop_test(tc, suite_round_trip, 0, 4 * (int)RTE_DIM(other_suites));
	tcase_add_loop_test(tc, suite_tamper, 0, 2 * (int)RTE_DIM(other_suites));
	tcase_add_test(tc, null_one_window);
	tcase_add_test(tc, keyid_covers_auth_key);
	suite_add_tcase(s, tc);
	return s;
}
