/* Yika reader-side core: compile-time sizes. Every buffer of the core is sized here; nothing is
 * allocated at run time. Override any value with -D or by defining it before including yika.h. */
#ifndef YIKA_CONFIG_H
#define YIKA_CONFIG_H

/* Largest frame payload the device accepts and sends (PROTOCOL.md §5: at least 512). */
#ifndef YIKA_MAX_FRAME
#define YIKA_MAX_FRAME 512u
#endif

/* Slots the device has (hello lists them; ≤ 16). */
#ifndef YIKA_MAX_SLOTS
#define YIKA_MAX_SLOTS 4u
#endif

/* Most commands in one transmitBatch (0 = no batch; ≤ 255). */
#ifndef YIKA_MAX_BATCH
#define YIKA_MAX_BATCH 16u
#endif

/* Secure channel (1 = compiled in; the port still chooses none / supported / required). */
#ifndef YIKA_SECURE_CHANNEL
#define YIKA_SECURE_CHANNEL 1
#endif

/* Largest certificate tbs the device carries (PROTOCOL.md §10.1). */
#ifndef YIKA_MAX_CERT_TBS
#define YIKA_MAX_CERT_TBS 256u
#endif

/* Bytes of the counters the core keeps (fixed set; see yika.h). */

#if YIKA_MAX_FRAME < 512u
#error "YIKA_MAX_FRAME must be at least 512 (PROTOCOL.md §5)"
#endif
#if YIKA_MAX_FRAME > 262144u
#error "YIKA_MAX_FRAME must be at most 262144 (PROTOCOL.md §5)"
#endif
#if YIKA_MAX_SLOTS < 1u || YIKA_MAX_SLOTS > 16u
#error "YIKA_MAX_SLOTS must be 1..16"
#endif
#if YIKA_MAX_BATCH > 255u
#error "YIKA_MAX_BATCH must be 0..255"
#endif

/* The longest encoded frame for a payload of YIKA_MAX_FRAME bytes, delimiter excluded (PROTOCOL.md §2). */
#define YIKA_MAX_ENCODED (YIKA_MAX_FRAME + 4u + (YIKA_MAX_FRAME + 4u) / 254u + 1u)

#endif
