/*
 * krackwatch.decrypt._fastpath: the decryptor's hot path in C (optional; pure Python is the fallback).
 *
 * One Accel object mirrors Decryptor._fast: (A1 || A2) -> the CCMP/GCMP key that last worked for that
 * address pair, with an OpenSSL EVP context per key set up once. For a record that is protected data
 * under such a key it does exactly what Decryptor._fast_path + _decrypted do (radiotap split, FCS
 * auto-detection, AAD and nonce of 802.11-2020 12.5.3.3 / 12.5.5.3, AES-CCM / AES-GCM, duplicate
 * test) and returns the decrypted frame, or a finished pcapng Enhanced Packet Block. Anything it is
 * not sure to treat identically (4-address frames, EAPOL inside, odd lengths, failed MICs, bad input)
 * is refused with None BEFORE any state changes, so the Python path then runs as if C did not exist.
 *
 * Counts of the frames it handles are kept here and handed to Python by take().
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <limits.h>
#include <string.h>

/* ------------------------------------------------------------------ CRC-32 (802.3 FCS), slice-by-8 */
static uint32_t crc_tab[8][256];

static void
crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        crc_tab[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_tab[t][i] = (crc_tab[t - 1][i] >> 8) ^ crc_tab[0][crc_tab[t - 1][i] & 0xFF];
}

static inline uint32_t
rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline void
wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t
crc32_tables(uint32_t c, const uint8_t *p, size_t n)
{
    while (n >= 8) {
        uint32_t a = rd32(p) ^ c, b = rd32(p + 4);
        c = crc_tab[7][a & 0xFF] ^ crc_tab[6][(a >> 8) & 0xFF] ^ crc_tab[5][(a >> 16) & 0xFF] ^
            crc_tab[4][a >> 24] ^ crc_tab[3][b & 0xFF] ^ crc_tab[2][(b >> 8) & 0xFF] ^
            crc_tab[1][(b >> 16) & 0xFF] ^ crc_tab[0][b >> 24];
        p += 8;
        n -= 8;
    }
    while (n--)
        c = (c >> 8) ^ crc_tab[0][(c ^ *p++) & 0xFF];
    return c;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_CLMUL_CRC 1
static int use_clmul;

/* Carry-less multiplication folding (Intel, "Fast CRC Computation for Generic Polynomials Using
 * PCLMULQDQ", 2009) for the bit-reflected CRC-32 polynomial, one 128-bit lane: fold 16 octets at a
 * time, reduce 128 -> 64 -> 32 bits, Barrett reduction. Constants are x^k mod P(x) for that polynomial. */
__attribute__((target("pclmul,sse2"))) static uint32_t
crc32_clmul(uint32_t c, const uint8_t *p, size_t n)
{
    const __m128i k3k4 = _mm_set_epi64x(0x0ccaa009eLL, 0x1751997d0LL);
    const __m128i k5 = _mm_set_epi64x(0, 0x163cd6124LL);
    const __m128i poly_u = _mm_set_epi64x(0x1f7011641LL, 0x1db710641LL);
    const __m128i mask32 = _mm_set_epi32(0, 0, 0, -1);
    __m128i x = _mm_xor_si128(_mm_loadu_si128((const __m128i *)p), _mm_cvtsi32_si128((int)c));
    p += 16;
    n -= 16;
    while (n >= 16) {
        __m128i lo = _mm_clmulepi64_si128(x, k3k4, 0x00);
        __m128i hi = _mm_clmulepi64_si128(x, k3k4, 0x11);
        x = _mm_xor_si128(_mm_xor_si128(lo, hi), _mm_loadu_si128((const __m128i *)p));
        p += 16;
        n -= 16;
    }
    /* 128 -> 64 */
    x = _mm_xor_si128(_mm_clmulepi64_si128(x, k3k4, 0x10), _mm_srli_si128(x, 8));
    /* 64 -> 32 */
    x = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x, mask32), k5, 0x00), _mm_srli_si128(x, 4));
    /* Barrett reduction */
    __m128i t = _mm_clmulepi64_si128(_mm_and_si128(x, mask32), poly_u, 0x10);
    t = _mm_clmulepi64_si128(_mm_and_si128(t, mask32), poly_u, 0x00);
    x = _mm_xor_si128(x, t);
    c = (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(x, 4));
    return crc32_tables(c, p, n);
}
#endif

static uint32_t
crc32_ieee(const uint8_t *p, size_t n)
{
#ifdef HAVE_CLMUL_CRC
    if (use_clmul && n >= 32)
        return crc32_clmul(0xFFFFFFFFu, p, n) ^ 0xFFFFFFFFu;
#endif
    return crc32_tables(0xFFFFFFFFu, p, n) ^ 0xFFFFFFFFu;
}

/* ------------------------------------------------------------------ tables */
static inline uint64_t
pair_hash(const uint8_t *k, unsigned tid)
{
    uint64_t a, b = 0;
    memcpy(&a, k, 8);
    memcpy(&b, k + 8, 4);
    uint64_t h = (a ^ (b << 5) ^ ((uint64_t)tid << 59)) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
}

typedef struct {
    uint8_t pair[12];
    uint8_t used;
    uint8_t gcm;     /* 0: CCMP (AES-CCM), 1: GCMP (AES-GCM) */
    uint8_t mic_len; /* 8 or 16 */
    uint8_t group;
    EVP_CIPHER_CTX *ctx;
    PyObject *link; /* the Link whose counts this key's frames go to, or None */
    PyObject *slot; /* the KeySlot, handed back as Decryptor.last_slot */
    Py_ssize_t n_dec, n_dup;
} KeyEntry;

typedef struct {
    uint8_t pair[12];
    uint8_t tid; /* 0..15, 16 for non-QoS */
    uint8_t used;
    uint16_t seq; /* the whole Sequence Control field of the last counted MPDU */
} DupEntry;

typedef struct {
    PyObject_HEAD
    KeyEntry *keys;
    size_t kcap, kcount;
    DupEntry *dups;
    size_t dcap, dcount;
    long long n_unicast, n_group, n_dup, skipped;
    PyObject *retired; /* list of (link, decrypted, duplicate) of entries replaced or cleared */
    Py_ssize_t snaplen;
    uint8_t *obuf; /* pcap_run / pcapng_run output (or plaintext scratch), reused */
    size_t ocap;
} Accel;

static void
entry_release(Accel *self, KeyEntry *e, int keep_counts)
{
    if (keep_counts && (e->n_dec || e->n_dup) && e->link != Py_None) {
        PyObject *t = Py_BuildValue("(Onn)", e->link, e->n_dec, e->n_dup);
        if (t == NULL || PyList_Append(self->retired, t) < 0)
            PyErr_WriteUnraisable((PyObject *)self); /* out of memory: counts of one key lost */
        Py_XDECREF(t);
    }
    EVP_CIPHER_CTX_free(e->ctx);
    Py_CLEAR(e->link);
    Py_CLEAR(e->slot);
    memset(e, 0, sizeof(*e));
}

static KeyEntry *
key_find(Accel *self, const uint8_t *pair)
{
    if (self->kcount == 0)
        return NULL;
    size_t mask = self->kcap - 1, i = pair_hash(pair, 0) & mask;
    for (;;) {
        KeyEntry *e = &self->keys[i];
        if (!e->used)
            return NULL;
        if (memcmp(e->pair, pair, 12) == 0)
            return e;
        i = (i + 1) & mask;
    }
}

static KeyEntry *
key_slot_for(Accel *self, const uint8_t *pair)
{
    if ((self->kcount + 1) * 2 > self->kcap) {
        size_t ncap = self->kcap ? self->kcap * 2 : 16;
        KeyEntry *nk = PyMem_Calloc(ncap, sizeof(KeyEntry));
        if (nk == NULL)
            return (KeyEntry *)PyErr_NoMemory();
        for (size_t j = 0; j < self->kcap; j++) {
            KeyEntry *o = &self->keys[j];
            if (!o->used)
                continue;
            size_t i = pair_hash(o->pair, 0) & (ncap - 1);
            while (nk[i].used)
                i = (i + 1) & (ncap - 1);
            nk[i] = *o;
        }
        PyMem_Free(self->keys);
        self->keys = nk;
        self->kcap = ncap;
    }
    size_t mask = self->kcap - 1, i = pair_hash(pair, 0) & mask;
    while (self->keys[i].used && memcmp(self->keys[i].pair, pair, 12) != 0)
        i = (i + 1) & mask;
    return &self->keys[i];
}

static int
dup_reserve(Accel *self)
{
    if ((self->dcount + 1) * 2 <= self->dcap)
        return 0;
    size_t ncap = self->dcap ? self->dcap * 2 : 64;
    DupEntry *nd = PyMem_Calloc(ncap, sizeof(DupEntry));
    if (nd == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t j = 0; j < self->dcap; j++) {
        DupEntry *o = &self->dups[j];
        if (!o->used)
            continue;
        size_t i = pair_hash(o->pair, o->tid) & (ncap - 1);
        while (nd[i].used)
            i = (i + 1) & (ncap - 1);
        nd[i] = *o;
    }
    PyMem_Free(self->dups);
    self->dups = nd;
    self->dcap = ncap;
    return 0;
}

/* The (A1 || A2, TID) slot; dup_reserve() must have run. */
static DupEntry *
dup_slot(Accel *self, const uint8_t *pair, unsigned tid)
{
    size_t mask = self->dcap - 1, i = pair_hash(pair, tid) & mask;
    for (;;) {
        DupEntry *d = &self->dups[i];
        if (!d->used || (d->tid == tid && memcmp(d->pair, pair, 12) == 0))
            return d;
        i = (i + 1) & mask;
    }
}

/* Duplicate test of Decryptor._decrypted: a Retry copy with the Sequence Control of the last MPDU
 * counted on the same (A1 || A2, TID) is a duplicate; anything else is counted and remembered. */
static int
dup_check(Accel *self, const uint8_t *pair, unsigned tid, unsigned seq, int retry)
{
    DupEntry *d = dup_slot(self, pair, tid);
    if (d->used) {
        if (retry && d->seq == seq)
            return 1;
    } else {
        memcpy(d->pair, pair, 12);
        d->tid = (uint8_t)tid;
        d->used = 1;
        self->dcount++;
    }
    d->seq = (uint16_t)seq;
    return 0;
}

/* ------------------------------------------------------------------ the fast path */
typedef struct {
    Py_ssize_t hl;   /* link-layer header octets */
    const uint8_t *f; /* the 802.11 frame */
    Py_ssize_t flen; /* its length without FCS */
    int fcs;         /* the record ends with a verified FCS */
    Py_ssize_t hlen; /* MAC header length */
    Py_ssize_t ptlen;
    int qos;
    KeyEntry *e;
} Parsed;

/* Mirror of Decryptor._fast_path up to the key lookup and FCS, plus the preconditions of the inline
 * path of CCMP.decrypt_frame. 1: handled here, 0: leave it to Python. No side effects. */
static int
parse(Accel *self, long linktype, const uint8_t *d, Py_ssize_t n, Parsed *p)
{
    Py_ssize_t hl;
    unsigned flags = 0;
    if (linktype == 127) {
        /* Radiotap exactly as krackwatch.wire.radiotap.radiotap_summary reads it (anything it calls
         * malformed is refused): version 0, 8 <= it_len <= n, every presence word (Ext, bit 31) inside
         * it_len, then the fields of bits 0-5 of the first word (TSFT u64, Flags u8, Rate u8, Channel
         * 2 x u16, FHSS 2 x u8 aligned to 2 as Linux has it, antenna signal s8), each aligned to its size from
         * the header's start (radiotap.org), inside it_len. Only Flags is used. */
        if (n < 8 || d[0])
            return 0;
        hl = d[2] | (d[3] << 8);
        if (hl < 8 || hl > n)
            return 0;
        uint32_t w0 = rd32(d + 4), w = w0;
        Py_ssize_t off = 8;
        while (w & 0x80000000u) {
            if (off + 4 > hl)
                return 0;
            w = rd32(d + off);
            off += 4;
        }
        Py_ssize_t flags_at = -1;
        if (w0 & 0x01)
            off = ((off + 7) & ~(Py_ssize_t)7) + 8;
        if (w0 & 0x02)
            flags_at = off++;
        if (w0 & 0x04)
            off += 1;
        if (w0 & 0x08)
            off = ((off + 1) & ~(Py_ssize_t)1) + 4;
        if (w0 & 0x10)
            off = ((off + 1) & ~(Py_ssize_t)1) + 2;
        if (w0 & 0x20)
            off += 1;
        if (off > hl)
            return 0;
        if (flags_at >= 0)
            flags = d[flags_at];
    } else if (linktype == 105) {
        hl = 0;
        if (n < 32)
            return 0;
    } else {
        return 0;
    }
    const uint8_t *f = d + hl;
    unsigned fc0 = f[0], fc1 = f[1];
    if ((fc0 & 0x0C) != 0x08 || !(fc1 & 0x40))
        return 0;
    KeyEntry *e = key_find(self, f + 4);
    if (e == NULL)
        return 0;
    Py_ssize_t flen;
    int fcs;
    if (crc32_ieee(f, (size_t)(n - hl - 4)) == rd32(d + n - 4)) {
        flen = n - hl - 4;
        fcs = 1;
    } else if (flags & 0x10) {
        return 0; /* flagged FCS that does not verify: the full path reports it */
    } else {
        flen = n - hl;
        fcs = 0;
    }
    /* Only protocol version 0, three-address data (9.2.4.1); QoS adds QoS Control, +HTC with Order. */
    if ((fc0 & 0x03) || (fc1 & 0x03) == 0x03)
        return 0;
    int qos = (fc0 & 0x80) != 0;
    Py_ssize_t hlen = qos ? ((fc1 & 0x80) ? 30 : 26) : 24;
    Py_ssize_t need = hlen + 8 + e->mic_len;
    if (flen <= need || !(f[hlen + 3] & 0x20))
        return 0; /* short, empty or without ExtIV: Python raises the precise error */
    Py_ssize_t ptlen = flen - need;
    if (!e->gcm && ptlen > 0xFFF0)
        return 0; /* beyond what a 2-octet CCM length field can carry */
    p->hl = hl;
    p->f = f;
    p->flen = flen;
    p->fcs = fcs;
    p->hlen = hlen;
    p->ptlen = ptlen;
    p->qos = qos;
    p->e = e;
    return 1;
}

/* AAD (12.5.3.3.3; 12.5.5.3.3 is the same for a transmitted frame, Protected being 1) and nonce
 * (12.5.3.3.4 / 12.5.5.3.4), then AES-CCM or AES-GCM into out. 1: MIC verified, 0: not. */
static int
decrypt_into(const Parsed *p, uint8_t *out)
{
    const uint8_t *f = p->f, *b = f + p->hlen;
    KeyEntry *e = p->e;
    uint8_t aad[24], nonce[13];
    int aadlen, outl, ok;
    unsigned tid = p->qos ? (f[24] & 0x0F) : 0;
    aad[0] = f[0] & 0x8F;                                            /* subtype bits 4-6 masked */
    aad[1] = (uint8_t)((f[1] & (p->qos ? 0x47 : 0xC7)) | 0x40);     /* Retry/PwrMgt/MoreData (+Order) */
    memcpy(aad + 2, f + 4, 18);
    aad[20] = f[22] & 0x0F; /* sequence number masked, fragment number kept */
    aad[21] = 0;
    if (p->qos) {
        aad[22] = (uint8_t)tid; /* QC reduced to the TID */
        aad[23] = 0;
        aadlen = 24;
    } else {
        aadlen = 22;
    }
    uint8_t *nn = e->gcm ? nonce : nonce + 1;
    nonce[0] = (uint8_t)tid;
    memcpy(nn, f + 10, 6);
    nn[6] = b[7];
    nn[7] = b[6];
    nn[8] = b[5];
    nn[9] = b[4];
    nn[10] = b[1];
    nn[11] = b[0];
    const uint8_t *ct = b + 8, *tag = ct + p->ptlen;
    EVP_CIPHER_CTX *c = e->ctx;
    int len = (int)p->ptlen;
    if (!e->gcm) {
        ok = EVP_DecryptInit_ex(c, NULL, NULL, NULL, nonce) == 1 &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, e->mic_len, (void *)tag) == 1 &&
             EVP_DecryptUpdate(c, NULL, &outl, NULL, len) == 1 &&
             EVP_DecryptUpdate(c, NULL, &outl, aad, aadlen) == 1 &&
             EVP_DecryptUpdate(c, out, &outl, ct, len) > 0;
    } else {
        int fin;
        ok = EVP_DecryptInit_ex(c, NULL, NULL, NULL, nonce) == 1 &&
             EVP_DecryptUpdate(c, NULL, &outl, aad, aadlen) == 1 &&
             EVP_DecryptUpdate(c, out, &outl, ct, len) == 1 &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16, (void *)tag) == 1 &&
             EVP_DecryptFinal_ex(c, out + outl, &fin) > 0;
    }
    if (!ok)
        ERR_clear_error();
    return ok;
}

static const uint8_t LLC_EAPOL[8] = {0xAA, 0xAA, 0x03, 0x00, 0x00, 0x00, 0x88, 0x8E};

/* After a verified decryption: refuse EAPOL (key state changes there, Python handles it); otherwise
 * count the frame like _decrypted. Returns -1 refused, 0 decrypted, 1 duplicate. */
static int
commit(Accel *self, const Parsed *p, const uint8_t *plaintext)
{
    if (p->ptlen >= 8 && memcmp(plaintext, LLC_EAPOL, 8) == 0)
        return -1;
    const uint8_t *f = p->f;
    unsigned tid = p->qos ? (f[24] & 0x0F) : 16; /* QoS Control is at 24 with or without +HTC */
    unsigned seq = f[22] | (f[23] << 8);
    KeyEntry *e = p->e;
    if (dup_check(self, f + 4, tid, seq, f[1] & 0x08)) {
        self->n_dup++;
        e->n_dup++;
        return 1;
    }
    if (e->group)
        self->n_group++;
    else
        self->n_unicast++;
    e->n_dec++;
    return 0;
}

static int
get_bytes(PyObject *o, const uint8_t **d, Py_ssize_t *n)
{
    if (!PyBytes_CheckExact(o))
        return 0;
    *d = (const uint8_t *)PyBytes_AS_STRING(o);
    *n = PyBytes_GET_SIZE(o);
    return 1;
}

/* decrypt(linktype, data) -> (frame, link_header, fcs, group, slot, duplicate) | None */
static PyObject *
Accel_decrypt(Accel *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "decrypt(linktype, data)");
        return NULL;
    }
    long linktype = PyLong_AsLong(args[0]);
    if (linktype == -1 && PyErr_Occurred())
        return NULL;
    const uint8_t *d;
    Py_ssize_t n;
    Parsed p;
    if (!get_bytes(args[1], &d, &n) || !parse(self, linktype, d, n, &p))
        Py_RETURN_NONE;
    if (dup_reserve(self) < 0)
        return NULL;
    PyObject *out = PyBytes_FromStringAndSize(NULL, p.hlen + p.ptlen);
    if (out == NULL)
        return NULL;
    uint8_t *o = (uint8_t *)PyBytes_AS_STRING(out);
    int r = -1;
    if (decrypt_into(&p, o + p.hlen))
        r = commit(self, &p, o + p.hlen);
    if (r < 0) {
        Py_DECREF(out);
        Py_RETURN_NONE;
    }
    memcpy(o, p.f, p.hlen);
    o[1] &= 0xBF; /* Protected cleared */
    return Py_BuildValue("(NnOOOO)", out, p.hl, p.fcs ? Py_True : Py_False,
                         p.e->group ? Py_True : Py_False, p.e->slot, r ? Py_True : Py_False);
}

/* Size of the pcapng EPB that analyse_capture writes for a parsed record (nanosecond interface, no
 * options), or -1 when a field would be out of range (PcapngWriter.write raises then, on the Python path). */
static long long
epb_size(const Accel *self, const Parsed *p, unsigned long long iface, long long caplen, long long origlen,
         long long *n_out, long long *orig_out)
{
    *n_out = p->hl + p->hlen + p->ptlen + (p->fcs ? 4 : 0);
    *orig_out = origlen - caplen + *n_out;
    if (iface > 0xFFFFFFFFull || *n_out > self->snaplen || *orig_out < *n_out || *orig_out >= (1LL << 32))
        return -1;
    return 32 + *n_out + ((-*n_out) & 3);
}

/* Decrypt a parsed record (link header d) into the EPB at o, of epb_size() octets. -1: refused (MIC
 * failure or EAPOL; nothing counted, o is scratch), else commit()'s 0 or 1. */
static int
epb_fill(Accel *self, const Parsed *p, const uint8_t *d, uint32_t iface, unsigned long long ts, long long n_out,
         long long orig_out, long long total, uint8_t *o)
{
    uint8_t *frame = o + 28 + p->hl, *pt = frame + p->hlen;
    int r = -1;
    if (decrypt_into(p, pt))
        r = commit(self, p, pt);
    if (r < 0)
        return -1;
    long long pad = total - 32 - n_out;
    wr32(o, 6);
    wr32(o + 4, (uint32_t)total);
    wr32(o + 8, iface);
    wr32(o + 12, (uint32_t)(ts >> 32));
    wr32(o + 16, (uint32_t)ts);
    wr32(o + 20, (uint32_t)n_out);
    wr32(o + 24, (uint32_t)orig_out);
    memcpy(o + 28, d, (size_t)p->hl);
    memcpy(frame, p->f, (size_t)p->hlen);
    frame[1] &= 0xBF; /* Protected cleared */
    uint8_t *q = pt + p->ptlen;
    if (p->fcs) {
        wr32(q, crc32_ieee(frame, (size_t)(p->hlen + p->ptlen)));
        q += 4;
    }
    memset(q, 0, (size_t)pad);
    wr32(q + pad, (uint32_t)total);
    return r;
}

/* epb(linktype, data, interface, ts_ns, caplen, origlen) -> bytes | None: the record decrypted as a
 * little-endian pcapng Enhanced Packet Block (nanosecond interface, no options), exactly what
 * analyse_capture writes through PcapngWriter.write for it. */
static PyObject *
Accel_epb(Accel *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "epb(linktype, data, interface, ts_ns, caplen, origlen)");
        return NULL;
    }
    long linktype = PyLong_AsLong(args[0]);
    if (linktype == -1 && PyErr_Occurred())
        return NULL;
    const uint8_t *d;
    Py_ssize_t n;
    Parsed p;
    if (!get_bytes(args[1], &d, &n) || !parse(self, linktype, d, n, &p))
        Py_RETURN_NONE;
    /* Out-of-range values: refuse, and PcapngWriter.write raises its error on the Python path. */
    unsigned long long iface, ts;
    long long caplen, origlen, n_out, orig_out, total;
    if ((iface = PyLong_AsUnsignedLongLong(args[2])) == (unsigned long long)-1 && PyErr_Occurred())
        goto refuse;
    if ((ts = PyLong_AsUnsignedLongLong(args[3])) == (unsigned long long)-1 && PyErr_Occurred())
        goto refuse;
    if ((caplen = PyLong_AsLongLong(args[4])) == -1 && PyErr_Occurred())
        goto refuse;
    if ((origlen = PyLong_AsLongLong(args[5])) == -1 && PyErr_Occurred())
        goto refuse;
    if ((total = epb_size(self, &p, iface, caplen, origlen, &n_out, &orig_out)) < 0)
        Py_RETURN_NONE;
    if (dup_reserve(self) < 0)
        return NULL;
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)total);
    if (out == NULL)
        return NULL;
    if (epb_fill(self, &p, d, (uint32_t)iface, ts, n_out, orig_out, total,
                 (uint8_t *)PyBytes_AS_STRING(out)) < 0) {
        Py_DECREF(out);
        Py_RETURN_NONE;
    }
    self->skipped++;
    return out;
refuse:
    PyErr_Clear();
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ record loops over a reader's buffer */
#define MAX_CAPLEN (256 << 10) /* krackwatch.wire.capture.MAX_CAPLEN: longer records are the reader's */

/* A capture file's own byte order (pcap and each pcapng section say which). */
static inline uint32_t
rd32o(const uint8_t *p, int big)
{
    return big ? ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3] : rd32(p);
}

static inline unsigned
rd16o(const uint8_t *p, int big)
{
    return big ? (unsigned)((p[0] << 8) | p[1]) : (unsigned)(p[0] | (p[1] << 8));
}

/* Output of one run: EPBs appended to the object's reusable buffer, or (no output) a scratch area the
 * plaintext is decrypted into and dropped. */
typedef struct {
    int write;
    size_t used;
    long long records;
    unsigned long long ts_min, ts_max;
} RunState;

static int
obuf_reserve(Accel *self, size_t need)
{
    if (need <= self->ocap)
        return 0;
    size_t ncap = self->ocap ? self->ocap : (1 << 20);
    while (ncap < need)
        ncap *= 2;
    uint8_t *nb = PyMem_Realloc(self->obuf, ncap);
    if (nb == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    self->obuf = nb;
    self->ocap = ncap;
    return 0;
}

/* One record through the fast path as analyse_capture's loop would: 1 taken, 0 declined (the reader
 * yields it and Python handles it), -1 error set. */
static int
run_record(Accel *self, RunState *st, long linktype, const uint8_t *d, Py_ssize_t n, long long iface,
           unsigned long long ts, long long origlen)
{
    Parsed p;
    if (!parse(self, linktype, d, n, &p))
        return 0;
    if (dup_reserve(self) < 0)
        return -1;
    int r;
    if (st->write) {
        long long n_out, orig_out, total = epb_size(self, &p, (unsigned long long)iface, n, origlen, &n_out,
                                                    &orig_out);
        if (total < 0)
            return 0;
        if (obuf_reserve(self, st->used + (size_t)total) < 0)
            return -1;
        r = epb_fill(self, &p, d, (uint32_t)iface, ts, n_out, orig_out, total, self->obuf + st->used);
        if (r < 0)
            return 0;
        st->used += (size_t)total;
    } else {
        if (obuf_reserve(self, (size_t)p.ptlen + 1) < 0)
            return -1;
        r = decrypt_into(&p, self->obuf) ? commit(self, &p, self->obuf) : -1;
        if (r < 0)
            return 0;
    }
    self->skipped++;
    if (st->records == 0 || ts < st->ts_min)
        st->ts_min = ts;
    if (st->records == 0 || ts > st->ts_max)
        st->ts_max = ts;
    st->records++;
    return 1;
}

/* (pos, records, ts_min, ts_max, epbs) and, for pcapng_run, counts (steals it; None if NULL). */
static PyObject *
run_result(Accel *self, Py_ssize_t pos, const RunState *st, int with_counts, PyObject *counts)
{
    PyObject *blob = PyBytes_FromStringAndSize((const char *)self->obuf, st->write ? (Py_ssize_t)st->used : 0);
    if (blob == NULL) {
        Py_XDECREF(counts);
        return NULL;
    }
    PyObject *lo = st->records ? PyLong_FromUnsignedLongLong(st->ts_min) : Py_NewRef(Py_None);
    PyObject *hi = st->records ? PyLong_FromUnsignedLongLong(st->ts_max) : Py_NewRef(Py_None);
    if (counts == NULL)
        counts = Py_NewRef(Py_None);
    if (lo == NULL || hi == NULL) {
        Py_XDECREF(lo);
        Py_XDECREF(hi);
        Py_DECREF(blob);
        Py_DECREF(counts);
        return NULL;
    }
    if (with_counts)
        return Py_BuildValue("(nLNNNN)", pos, st->records, lo, hi, blob, counts);
    Py_DECREF(counts);
    return Py_BuildValue("(nLNNN)", pos, st->records, lo, hi, blob);
}

/* pcap_run(buf, pos, big_endian, unit, header_size, linktype, interface)
 *   -> (pos, records, ts_min, ts_max, epbs)
 * Takes whole classic-pcap records from buf[pos:] through the fast path (as epb() with that output
 * interface, or as decrypt() with interface -1) and stops before the first one it does not take: not
 * complete in buf, longer than MAX_CAPLEN, or not for the fast path. The reader yields that one. */
static PyObject *
Accel_pcap_run(Accel *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError, "pcap_run(buf, pos, big_endian, unit, header_size, linktype, interface)");
        return NULL;
    }
    const uint8_t *buf = NULL;
    Py_ssize_t len = 0;
    get_bytes(args[0], &buf, &len); /* anything but bytes: nothing taken, the reader does it all */
    Py_ssize_t pos = PyLong_AsSsize_t(args[1]);
    int big = PyObject_IsTrue(args[2]);
    long long unit = PyLong_AsLongLong(args[3]);
    Py_ssize_t rec_hdr = PyLong_AsSsize_t(args[4]);
    long linktype = PyLong_AsLong(args[5]);
    long long iface = PyLong_AsLongLong(args[6]);
    if (PyErr_Occurred())
        return NULL;
    if (pos < 0 || (rec_hdr != 16 && rec_hdr != 24) || (unit != 1 && unit != 1000) || iface > 0xFFFFFFFFLL) {
        PyErr_SetString(PyExc_ValueError, "pcap_run: bad record layout");
        return NULL;
    }
    RunState st = {iface >= 0, 0, 0, 0, 0};
    while (pos + rec_hdr <= len) {
        const uint8_t *h = buf + pos;
        uint32_t sec = rd32o(h, big), frac = rd32o(h + 4, big);
        uint32_t caplen = rd32o(h + 8, big), origlen = rd32o(h + 12, big);
        if (caplen > MAX_CAPLEN || (Py_ssize_t)caplen > len - pos - rec_hdr)
            break;
        unsigned long long ts = (unsigned long long)sec * 1000000000ull + (unsigned long long)frac * (unsigned long long)unit;
        int r = run_record(self, &st, linktype, h + rec_hdr, (Py_ssize_t)caplen, iface, ts, origlen);
        if (r < 0)
            return NULL;
        if (r == 0)
            break;
        pos += rec_hdr + (Py_ssize_t)caplen;
    }
    return run_result(self, pos, &st, 0, NULL);
}

#define MAX_RUN_INTERFACES 256 /* EPBs naming a later interface of a section go to Python */

/* pcapng_run(buf, pos, big_endian, interfaces, write) -> (pos, records, ts_min, ts_max, epbs, counts)
 * The same over the pcapng Enhanced Packet Blocks of one section. interfaces: per local interface id a
 * tuple (linktype, mul, div, offset_ns, output interface), the timestamp being ticks * mul // div +
 * offset_ns as the reader computes it; an output interface of -1 leaves that interface's records to
 * Python. write False: decrypt and count only. counts: records taken per local interface id, or None
 * when none were. Any other block, an EPB with a comment or malformed options, and whatever the reader
 * would report as damage stop the run. */
static PyObject *
Accel_pcapng_run(Accel *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "pcapng_run(buf, pos, big_endian, interfaces, write)");
        return NULL;
    }
    const uint8_t *buf = NULL;
    Py_ssize_t len = 0;
    get_bytes(args[0], &buf, &len); /* anything but bytes: nothing taken, the reader does it all */
    if (!PyTuple_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError, "pcapng_run: interfaces must be a tuple");
        return NULL;
    }
    Py_ssize_t pos = PyLong_AsSsize_t(args[1]);
    int big = PyObject_IsTrue(args[2]);
    int write = PyObject_IsTrue(args[4]);
    if (PyErr_Occurred())
        return NULL;
    if (pos < 0) {
        PyErr_SetString(PyExc_ValueError, "pcapng_run: negative position");
        return NULL;
    }
    Py_ssize_t nif = PyTuple_GET_SIZE(args[3]);
    if (nif > MAX_RUN_INTERFACES)
        nif = MAX_RUN_INTERFACES;
    struct {
        long linktype;
        unsigned long long mul, div;
        long long off;
        long long out;
    } ifs[MAX_RUN_INTERFACES];
    long long counts[MAX_RUN_INTERFACES];
    for (Py_ssize_t i = 0; i < nif; i++) {
        PyObject *t = PyTuple_GET_ITEM(args[3], i);
        if (!PyArg_ParseTuple(t, "lKKLL:pcapng_run", &ifs[i].linktype, &ifs[i].mul, &ifs[i].div, &ifs[i].off,
                              &ifs[i].out))
            return NULL;
        if (ifs[i].div == 0 || ifs[i].out > 0xFFFFFFFFLL) {
            PyErr_SetString(PyExc_ValueError, "pcapng_run: bad interface layout");
            return NULL;
        }
        counts[i] = 0;
    }
    RunState st = {write, 0, 0, 0, 0};
    while (pos + 32 <= len) {
        const uint8_t *h = buf + pos;
        uint32_t btype = rd32o(h, big), blen = rd32o(h + 4, big);
        if (btype != 6 || blen < 32 || (blen & 3) || (Py_ssize_t)blen > len - pos)
            break;
        uint32_t ifid = rd32o(h + 8, big);
        uint32_t caplen = rd32o(h + 20, big), origlen = rd32o(h + 24, big);
        Py_ssize_t tail = blen - 4, dend = 28 + (Py_ssize_t)caplen;
        if (rd32o(h + tail, big) != blen || caplen > MAX_CAPLEN || dend > tail ||
            ifid >= (uint32_t)nif || ifs[ifid].out < 0)
            break;
        /* Options: anything but a well-formed list without opt_comment goes to the reader. */
        Py_ssize_t o = (dend + 3) & ~(Py_ssize_t)3;
        int plain = 1;
        while (o + 4 <= tail) {
            unsigned code = rd16o(h + o, big), olen = rd16o(h + o + 2, big);
            if (code == 0)
                break;
            if (code == 1 || o + 4 + (Py_ssize_t)olen > tail) {
                plain = 0;
                break;
            }
            o = (o + 4 + (Py_ssize_t)olen + 3) & ~(Py_ssize_t)3;
        }
        if (!plain)
            break;
        unsigned long long ticks = ((unsigned long long)rd32o(h + 12, big) << 32) | rd32o(h + 16, big);
        /* ticks * mul // div + offset_ns, refused (left to Python's integers) where 64 bits do not hold it */
        if (ifs[ifid].mul && ticks > ULLONG_MAX / ifs[ifid].mul)
            break;
        unsigned long long t = ticks * ifs[ifid].mul / ifs[ifid].div;
        long long off = ifs[ifid].off;
        if (off < 0 ? t < (unsigned long long)-(off + 1) + 1ull : t > ULLONG_MAX - (unsigned long long)off)
            break;
        t += (unsigned long long)off;
        int r = run_record(self, &st, ifs[ifid].linktype, h + 28, (Py_ssize_t)caplen, write ? ifs[ifid].out : -1, t,
                           origlen);
        if (r < 0)
            return NULL;
        if (r == 0)
            break;
        counts[ifid]++;
        pos += blen;
    }
    PyObject *c = NULL;
    if (st.records) {
        if ((c = PyTuple_New(nif)) == NULL)
            return NULL;
        for (Py_ssize_t i = 0; i < nif; i++) {
            PyObject *v = PyLong_FromLongLong(counts[i]);
            if (v == NULL) {
                Py_DECREF(c);
                return NULL;
            }
            PyTuple_SET_ITEM(c, i, v);
        }
    }
    return run_result(self, pos, &st, 1, c);
}

/* add(pair, gcm, tk, link, group, slot) -> bool: cache the key that worked for A1 || A2 (replacing the
 * one cached before); False when OpenSSL cannot set the key up (nothing cached then). */
static PyObject *
Accel_add(Accel *self, PyObject *args)
{
    const char *pair, *tk;
    Py_ssize_t plen, tklen;
    int gcm, group;
    PyObject *link, *slot;
    if (!PyArg_ParseTuple(args, "y#py#OpO:add", &pair, &plen, &gcm, &tk, &tklen, &link, &group, &slot))
        return NULL;
    if (plen != 12 || (tklen != 16 && tklen != 32)) {
        PyErr_SetString(PyExc_ValueError, "add: pair must be 12 octets and the key 16 or 32");
        return NULL;
    }
    const EVP_CIPHER *cipher = gcm ? (tklen == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm())
                                   : (tklen == 16 ? EVP_aes_128_ccm() : EVP_aes_256_ccm());
    int mic = gcm ? 16 : (tklen == 16 ? 8 : 16); /* CCMP-128: 8-octet MIC, CCMP-256/GCMP: 16 (12.5) */
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int ok = ctx != NULL && EVP_DecryptInit_ex(ctx, cipher, NULL, NULL, NULL) == 1;
    if (ok && !gcm)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 13, NULL) == 1 &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, mic, NULL) == 1;
    ok = ok && EVP_DecryptInit_ex(ctx, NULL, NULL, (const unsigned char *)tk, NULL) == 1;
    if (!ok) { /* e.g. a libcrypto without that cipher: the pair stays on the Python path */
        EVP_CIPHER_CTX_free(ctx);
        ERR_clear_error();
        Py_RETURN_FALSE;
    }
    KeyEntry *e = key_slot_for(self, (const uint8_t *)pair);
    if (e == NULL) {
        EVP_CIPHER_CTX_free(ctx);
        return NULL;
    }
    if (e->used)
        entry_release(self, e, 1);
    else
        self->kcount++;
    memcpy(e->pair, pair, 12);
    e->used = 1;
    e->gcm = (uint8_t)gcm;
    e->mic_len = (uint8_t)mic;
    e->group = (uint8_t)group;
    e->ctx = ctx;
    Py_INCREF(link);
    e->link = link;
    Py_INCREF(slot);
    e->slot = slot;
    Py_RETURN_TRUE;
}

static void
keys_clear(Accel *self, int keep_counts)
{
    for (size_t i = 0; i < self->kcap; i++)
        if (self->keys[i].used)
            entry_release(self, &self->keys[i], keep_counts);
    self->kcount = 0;
}

/* clear(): forget every cached key (a key was installed); counts and the duplicate table stay. */
static PyObject *
Accel_clear(Accel *self, PyObject *Py_UNUSED(ignored))
{
    keys_clear(self, 1);
    Py_RETURN_NONE;
}

/* duplicate(pair, tid, seq, retry) -> bool: the duplicate test for frames Python decrypts. */
static PyObject *
Accel_duplicate(Accel *self, PyObject *args)
{
    const char *pair;
    Py_ssize_t plen;
    unsigned int tid, seq;
    int retry;
    if (!PyArg_ParseTuple(args, "y#IIp:duplicate", &pair, &plen, &tid, &seq, &retry))
        return NULL;
    if (plen != 12 || tid > 16 || seq > 0xFFFF) {
        PyErr_SetString(PyExc_ValueError, "duplicate: 12-octet pair, TID 0..16, 16-bit sequence control");
        return NULL;
    }
    if (dup_reserve(self) < 0)
        return NULL;
    return PyBool_FromLong(dup_check(self, (const uint8_t *)pair, tid, seq, retry));
}

/* take() -> (unicast, group, duplicates, [(link, decrypted, duplicate), ...]); resets them. */
static PyObject *
Accel_take(Accel *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *tallies = self->retired;
    PyObject *fresh = PyList_New(0);
    if (fresh == NULL)
        return NULL;
    for (size_t i = 0; i < self->kcap; i++) {
        KeyEntry *e = &self->keys[i];
        if (!e->used || !(e->n_dec || e->n_dup) || e->link == Py_None)
            continue;
        PyObject *t = Py_BuildValue("(Onn)", e->link, e->n_dec, e->n_dup);
        if (t == NULL || PyList_Append(tallies, t) < 0) {
            Py_XDECREF(t);
            Py_DECREF(fresh);
            return NULL;
        }
        Py_DECREF(t);
        e->n_dec = e->n_dup = 0;
    }
    for (size_t i = 0; i < self->kcap; i++) /* unattributed counts (no link) are only global */
        if (self->keys[i].used)
            self->keys[i].n_dec = self->keys[i].n_dup = 0;
    self->retired = fresh;
    PyObject *r = Py_BuildValue("(LLLN)", self->n_unicast, self->n_group, self->n_dup, tallies);
    if (r != NULL)
        self->n_unicast = self->n_group = self->n_dup = 0;
    return r;
}

/* take_skipped() -> int: records epb() handled since the last call (Decryptor.frame_no catches up). */
static PyObject *
Accel_take_skipped(Accel *self, PyObject *Py_UNUSED(ignored))
{
    long long s = self->skipped;
    self->skipped = 0;
    return PyLong_FromLongLong(s);
}

static int
Accel_init(Accel *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"snaplen", NULL};
    Py_ssize_t snaplen = 262144;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|n:Accel", kwlist, &snaplen))
        return -1;
    self->snaplen = snaplen > 0 ? snaplen : PY_SSIZE_T_MAX;
    if (self->retired == NULL && (self->retired = PyList_New(0)) == NULL)
        return -1;
    return 0;
}

static int
Accel_traverse(Accel *self, visitproc visit, void *arg)
{
    Py_VISIT(self->retired);
    for (size_t i = 0; i < self->kcap; i++) {
        if (self->keys[i].used) {
            Py_VISIT(self->keys[i].link);
            Py_VISIT(self->keys[i].slot);
        }
    }
    return 0;
}

static int
Accel_tp_clear(Accel *self)
{
    keys_clear(self, 0);
    Py_CLEAR(self->retired);
    return 0;
}

static void
Accel_dealloc(Accel *self)
{
    PyObject_GC_UnTrack(self);
    Accel_tp_clear(self);
    PyMem_Free(self->keys);
    PyMem_Free(self->dups);
    PyMem_Free(self->obuf);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef Accel_methods[] = {
    {"decrypt", (PyCFunction)(void (*)(void))Accel_decrypt, METH_FASTCALL,
     "decrypt(linktype, data) -> (frame, link_header, fcs, group, slot, duplicate) or None"},
    {"epb", (PyCFunction)(void (*)(void))Accel_epb, METH_FASTCALL,
     "epb(linktype, data, interface, ts_ns, caplen, origlen) -> pcapng EPB bytes or None"},
    {"pcap_run", (PyCFunction)(void (*)(void))Accel_pcap_run, METH_FASTCALL,
     "pcap_run(buf, pos, big_endian, unit, header_size, linktype, interface) -> (pos, records, ts_min, "
     "ts_max, epbs)"},
    {"pcapng_run", (PyCFunction)(void (*)(void))Accel_pcapng_run, METH_FASTCALL,
     "pcapng_run(buf, pos, big_endian, interfaces) -> (pos, records, ts_min, ts_max, epbs[, counts])"},
    {"add", (PyCFunction)Accel_add, METH_VARARGS, "add(pair, gcm, tk, link, group, slot) -> bool"},
    {"clear", (PyCFunction)Accel_clear, METH_NOARGS, "forget every cached key"},
    {"duplicate", (PyCFunction)Accel_duplicate, METH_VARARGS, "duplicate(pair, tid, seq, retry) -> bool"},
    {"take", (PyCFunction)Accel_take, METH_NOARGS, "take() -> (unicast, group, duplicates, tallies)"},
    {"take_skipped", (PyCFunction)Accel_take_skipped, METH_NOARGS, "records handled by epb() since last"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject AccelType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "krackwatch.decrypt._fastpath.Accel",
    .tp_doc = "Key cache, duplicate table and counters of the compiled decryption fast path.",
    .tp_basicsize = sizeof(Accel),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Accel_init,
    .tp_dealloc = (destructor)Accel_dealloc,
    .tp_traverse = (traverseproc)Accel_traverse,
    .tp_clear = (inquiry)Accel_tp_clear,
    .tp_methods = Accel_methods,
};

/* crc32(data) -> int: the FCS CRC (exposed so tests can check it against zlib). */
static PyObject *
fp_crc32(PyObject *Py_UNUSED(mod), PyObject *arg)
{
    Py_buffer b;
    if (PyObject_GetBuffer(arg, &b, PyBUF_SIMPLE) < 0)
        return NULL;
    uint32_t c = crc32_ieee((const uint8_t *)b.buf, (size_t)b.len);
    PyBuffer_Release(&b);
    return PyLong_FromUnsignedLong(c);
}

static PyMethodDef module_methods[] = {
    {"crc32", fp_crc32, METH_O, "CRC-32 of the 802.11 FCS"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef fastpath_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_fastpath",
    .m_doc = "Compiled fast path of krackwatch.decrypt (CCMP/GCMP data under a cached key, OpenSSL EVP).",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__fastpath(void)
{
    crc_init();
#ifdef HAVE_CLMUL_CRC
    __builtin_cpu_init();
    use_clmul = __builtin_cpu_supports("pclmul");
#endif
    if (PyType_Ready(&AccelType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&fastpath_module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&AccelType);
    if (PyModule_AddObject(m, "Accel", (PyObject *)&AccelType) < 0) {
        Py_DECREF(&AccelType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
