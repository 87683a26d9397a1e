/* yika-fw: the Yika reader-side core on Linux. Serves the reader protocol on a PTY or a serial port
 * with a built-in demo card or a card in any PC/SC reader (pcsclite), crypto on OpenSSL, and a
 * TEST-ONLY device identity signed by the simulator's test CA. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "crypto_openssl.h"
#include "demo_card.h"
#include "pcsc_card.h"
#include "test_identity.h"
#include "yika.h"

static const char HELP[] =
    "Usage: yika-fw (--pty PATH | --serial PATH) (--demo-card | --pcsc READER) [options]\n"
    "\n"
    "Serves the Yika reader protocol v1 (PROTOCOL.md revision 1.2) on a serial line.\n"
    "\n"
    "  --pty PATH          one end of a PTY pair (e.g. made by socat), raw mode\n"
    "  --serial PATH       a serial port, 115200 8N1 raw, no flow control (--baud N to change)\n"
    "  --baud N            with --serial: 9600 19200 38400 57600 115200 230400 460800 921600\n"
    "  --demo-card         a built-in T=0 demo card in slot 0x01 and an empty slot 0x02\n"
    "  --pcsc READER       the card in the PC/SC reader whose name contains READER, as slot 0x01\n"
    "  --pcsc-sam READER   with --pcsc: a SAM in another PC/SC reader, as slot 0x11\n"
    "  --secure MODE       none | supported | required: the SM secure channel (default supported)\n"
    "  --no-diagnostics    do not offer diagHold (offered by default: this is a test tool)\n"
    "  --serial-number S   the serial reported in hello (default " YIKA_TEST_SERIAL "; the TEST-ONLY certificate\n"
    "                      names " YIKA_TEST_SERIAL ", so a host refuses the channel with another one)\n"
    "  -h, --help          this help\n"
    "\n"
    "The device identity is TEST-ONLY (signed by the simulator's CA yika-TEST-ONLY-ca-1): a host\n"
    "trusts it only with `yika conformance --test-ca` or the daemon's test CA setting.\n"
    "Exit status: 0 on SIGINT/SIGTERM, 1 when the line or the reader fails, 2 on bad arguments.\n";

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

typedef struct {
  int fd;
  int failed;
} line;

static int line_write(void *ctx, const uint8_t *bytes, size_t n) {
  line *l = (line *)ctx;
  while (n > 0 && !l->failed) {
    ssize_t w = write(l->fd, bytes, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        struct pollfd p = {l->fd, POLLOUT, 0};
        poll(&p, 1, 100);
        continue;
      }
      l->failed = 1;
      return -1;
    }
    bytes += w;
    n -= (size_t)w;
  }
  return l->failed ? -1 : 0;
}

static uint32_t now_ms(void *ctx) {
  struct timespec ts;
  (void)ctx;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

static int random_bytes(uint8_t *out, size_t n) { return yika_openssl_random(out, n); }

/* While a PC/SC card command runs: the core's pending notices (PROTOCOL.md 9.1). */
static void keepalive(void *ctx) { yika_poll((yika_device *)ctx); }

static speed_t baud_of(long b) {
  switch (b) {
  case 9600: return B9600;
  case 19200: return B19200;
  case 38400: return B38400;
  case 57600: return B57600;
  case 115200: return B115200;
  case 230400: return B230400;
  case 460800: return B460800;
  case 921600: return B921600;
  default: return 0;
  }
}

static int open_line(const char *path, speed_t speed) {
  struct termios t;
  int fd = open(path, O_RDWR | O_NOCTTY);
  if (fd < 0) return -1;
  if (tcgetattr(fd, &t) == 0) {
    cfmakeraw(&t);
    t.c_cflag |= CLOCAL | CREAD;
    t.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB | CRTSCTS);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (speed) {
      cfsetispeed(&t, speed);
      cfsetospeed(&t, speed);
    }
    tcsetattr(fd, TCSANOW, &t);
  }
  return fd;
}

static int usage(const char *why) {
  fprintf(stderr, "yika-fw: %s\n\n%s", why, HELP);
  return 2;
}

int main(int argc, char **argv) {
  const char *pty = NULL, *serial = NULL, *pcsc = NULL, *pcsc_sam = NULL, *serial_number = YIKA_TEST_SERIAL;
  int demo = 0, diagnostics = 1, i, rc = 0;
  long baud = 115200;
  yika_secure_mode secure = YIKA_SECURE_SUPPORTED;
  static yika_port port;
  static yika_device dev;
  static yika_demo_card card;
  static yika_pcsc_card reader, sam;
  static yika_openssl crypto;
  line l;
  uint32_t last_poll = 0;

  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      fputs(HELP, stdout);
      return 0;
    } else if (!strcmp(a, "--pty") || !strcmp(a, "--serial") || !strcmp(a, "--pcsc") || !strcmp(a, "--pcsc-sam") || !strcmp(a, "--secure") || !strcmp(a, "--baud") || !strcmp(a, "--serial-number")) {
      if (!v || !*v) {
        char m[64];
        snprintf(m, sizeof m, "%s needs a value", a);
        return usage(m);
      }
      i++;
      if (!strcmp(a, "--pty")) pty = v;
      else if (!strcmp(a, "--serial")) serial = v;
      else if (!strcmp(a, "--pcsc")) pcsc = v;
      else if (!strcmp(a, "--pcsc-sam")) pcsc_sam = v;
      else if (!strcmp(a, "--baud")) {
        char *end;
        baud = strtol(v, &end, 10);
        if (*end || !baud_of(baud)) return usage("--baud must be one of 9600 … 921600");
      } else if (!strcmp(a, "--serial-number")) {
        if (strlen(v) > 64) return usage("--serial-number is at most 64 bytes");
        serial_number = v;
      } else if (!strcmp(v, "none")) secure = YIKA_SECURE_NONE;
      else if (!strcmp(v, "supported")) secure = YIKA_SECURE_SUPPORTED;
      else if (!strcmp(v, "required")) secure = YIKA_SECURE_REQUIRED;
      else return usage("--secure must be none, supported or required");
    } else if (!strcmp(a, "--demo-card")) {
      demo = 1;
    } else if (!strcmp(a, "--no-diagnostics")) {
      diagnostics = 0;
    } else {
      char m[300];
      snprintf(m, sizeof m, "unknown option %.200s", a);
      return usage(m);
    }
  }
  if (!pty == !serial) return usage("give exactly one of --pty PATH or --serial PATH");
  if (demo == !!pcsc) return usage("give exactly one of --demo-card or --pcsc READER");
  if (pcsc_sam && !pcsc) return usage("--pcsc-sam needs --pcsc");

  port.vendor = "Yika";
  port.model = YIKA_TEST_MODEL;
  port.serial = serial_number;
  port.firmware = "1.2.0";
  port.secure = secure;
  port.diagnostics = diagnostics;
  port.cert_tbs = YIKA_TEST_CERT_TBS;
  port.cert_tbs_len = sizeof YIKA_TEST_CERT_TBS;
  port.cert_sig = YIKA_TEST_CERT_SIG;
  port.device_public_key = YIKA_TEST_DEVICE_PUBLIC_KEY;
  if (secure != YIKA_SECURE_NONE && yika_openssl_crypto(&crypto, YIKA_TEST_DEVICE_PRIVATE_KEY, &port.crypto) != 0) {
    fprintf(stderr, "yika-fw: this OpenSSL has no SM2/SM4 (OpenSSL 3 with SM algorithms is needed for --secure)\n");
    return 1;
  }
  if (demo) {
    yika_demo_card_slot(&card, random_bytes, &port.slots[0]);
    yika_empty_slot(0x02, YIKA_SLOT_CONTACTLESS, &port.slots[1]);
    port.slot_count = 2;
  } else {
    char err[300];
    if (yika_pcsc_open(&reader, pcsc, 10000, err, sizeof err) != 0) {
      fprintf(stderr, "yika-fw: %s\n", err);
      return 1;
    }
    yika_pcsc_slot(&reader, 0x01, YIKA_SLOT_CONTACT, &port.slots[0]);
    port.slot_count = 1;
    if (pcsc_sam) {
      if (yika_pcsc_open(&sam, pcsc_sam, 10000, err, sizeof err) != 0) {
        fprintf(stderr, "yika-fw: SAM: %s\n", err);
        return 1;
      }
      if (!strcmp(sam.reader, reader.reader)) {
        fprintf(stderr, "yika-fw: --pcsc and --pcsc-sam name the same reader (%s)\n", sam.reader);
        return 1;
      }
      yika_pcsc_slot(&sam, 0x11, YIKA_SLOT_SAM, &port.slots[1]);
      port.slot_count = 2;
    }
  }

  l.failed = 0;
  l.fd = open_line(pty ? pty : serial, pty ? 0 : baud_of(baud));
  if (l.fd < 0) {
    fprintf(stderr, "yika-fw: cannot open %s: %s\n", pty ? pty : serial, strerror(errno));
    return 1;
  }
  port.transport.ctx = &l;
  port.transport.write = line_write;
  port.clock.now_ms = now_ms;
  yika_init(&dev, &port);
  reader.keepalive = sam.keepalive = keepalive;
  reader.keepalive_ctx = sam.keepalive_ctx = &dev;

  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  signal(SIGPIPE, SIG_IGN);
  fprintf(stderr, "yika-fw: serving %s (%s, secure channel %s, serial %s; TEST-ONLY identity)\n", pty ? pty : serial, demo ? "demo card" : reader.reader,
          secure == YIKA_SECURE_NONE ? "none" : secure == YIKA_SECURE_REQUIRED ? "required" : "supported", serial_number);

  while (!stop && !l.failed) {
    struct pollfd p = {l.fd, POLLIN, 0};
    int n = poll(&p, 1, 10);
    uint32_t t;
    if (n > 0 && (p.revents & POLLIN)) {
      uint8_t buf[4096];
      ssize_t got = read(l.fd, buf, sizeof buf);
      if (got > 0) yika_input(&dev, buf, (size_t)got);
      else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        fprintf(stderr, "yika-fw: the line closed (%s)\n", got == 0 ? "end of file" : strerror(errno));
        rc = 1;
        break;
      }
    } else if (n > 0 && (p.revents & (POLLHUP | POLLERR))) {
      /* A PTY whose other end is not open yet reports HUP: wait for it. */
      struct timespec ts = {0, 20000000L};
      nanosleep(&ts, NULL);
    }
    yika_poll(&dev);
    t = now_ms(NULL);
    if (pcsc && t - last_poll >= 100u) {
      int change = yika_pcsc_poll(&reader);
      last_poll = t;
      if (change) yika_card_event(&dev, 0x01, change > 0);
      if (pcsc_sam && (change = yika_pcsc_poll(&sam)) != 0) yika_card_event(&dev, 0x11, change > 0);
    }
  }
  if (l.failed) {
    fprintf(stderr, "yika-fw: writing to the line failed\n");
    rc = 1;
  }
  if (pcsc) yika_pcsc_close(&reader);
  if (pcsc_sam) yika_pcsc_close(&sam);
  close(l.fd);
  return rc;
}
