/*
 * tortie's synchronous rtnetlink requests, as a tiny N-API addon.
 *
 * The kernel handles a route request inside the sendmsg() that carries it and queues its ACK on
 * the sender's socket before sendmsg() returns. Through Node's event loop that ACK costs a second
 * wake-up (an I/O callback, a promise, a continuation) for every route a host changes; here the
 * request and its answer are one call:
 *   open() -> fd             a NETLINK_ROUTE socket in the calling thread's network namespace,
 *                            bound, close-on-exec, with a receive timeout (the ACK is already
 *                            queued, so the timeout only guards against a kernel that drops it);
 *   request(fd, msg) -> n    sends one complete netlink message (header included, NLM_F_ACK set
 *                            by the caller) and reads until the NLMSG_ERROR answering its sequence
 *                            number: 0 for an ACK, the positive errno of a refusal;
 *   close(fd).
 * Linux only. Failures of the socket itself throw an Error carrying `errno`.
 */
#define NAPI_VERSION 8
#include <errno.h>
#include <linux/netlink.h>
#include <node_api.h>
#include "common.h"
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define RECV_TIMEOUT_S 5

static napi_value int_value(napi_env env, int v) {
  napi_value out;
  napi_create_int32(env, v, &out);
  return out;
}

static napi_value Open(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return throw_errno(env, "socket(NETLINK_ROUTE)", errno);
  struct sockaddr_nl local = {.nl_family = AF_NETLINK};
  struct timeval tv = {.tv_sec = RECV_TIMEOUT_S};
  if (bind(fd, (struct sockaddr *)&local, sizeof local) != 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "netlink socket", e);
  }
  return int_value(env, fd);
}

static napi_value Request(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd;
  void *data;
  size_t len;
  bool is_buffer = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_is_buffer(env, argv[1], &is_buffer) != napi_ok || !is_buffer ||
      napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "request(fd, message: Buffer)");
    return NULL;
  }
  if (len < NLMSG_HDRLEN || ((struct nlmsghdr *)data)->nlmsg_len != len) {
    napi_throw_range_error(env, NULL, "request: the buffer is not one netlink message");
    return NULL;
  }
  uint32_t seq = ((struct nlmsghdr *)data)->nlmsg_seq;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  ssize_t sent;
  do sent = sendto(fd, data, len, 0, (struct sockaddr *)&kernel, sizeof kernel);
  while (sent < 0 && errno == EINTR);
  if (sent < 0) return throw_errno(env, "netlink send", errno);

  /* An error answer quotes the request, so room for the largest request plus headers. */
  union {
    struct nlmsghdr h;
    char bytes[16384];
  } buf;
  for (;;) {
    struct sockaddr_nl from;
    socklen_t fromlen = sizeof from;
    ssize_t n = recvfrom(fd, buf.bytes, sizeof buf.bytes, 0, (struct sockaddr *)&from, &fromlen);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return int_value(env, ETIMEDOUT);
      return throw_errno(env, "netlink receive", errno);
    }
    if (from.nl_pid != 0) continue; /* only the kernel answers */
    int left = (int)n;
    for (struct nlmsghdr *h = &buf.h; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_seq != seq) continue; /* a late answer to an earlier, abandoned request */
      if (h->nlmsg_type != NLMSG_ERROR) continue;
      if (h->nlmsg_len < NLMSG_LENGTH(sizeof(int))) return int_value(env, EIO);
      int error = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
      return int_value(env, error < 0 ? -error : error);
    }
  }
}

static napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {METHOD("open", Open), METHOD("request", Request), METHOD("close", CloseFd)};
  return export_methods(env, exports, props, sizeof props / sizeof props[0]);
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
