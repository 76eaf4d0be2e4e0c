/*
 * tortie's TCP MD5 signature option (RFC 2385) for BGP sessions, as a tiny N-API addon.
 * Node's sockets cannot set TCP_MD5SIG, which must be in place before the SYN is sent, so:
 *   setKey(fd, peerAddress, key)   key (or "" to remove it) on an existing socket: the listening
 *                                  socket (accepted connections inherit it);
 *   connect(host, port, localAddress, key) -> fd
 *                                  a non-blocking socket with the key set, bound, connect started;
 *   connectResult(fd) -> 0 connected, -1 still connecting, >0 errno of the failure;
 *   dup(fd) -> a new descriptor of the same socket (close-on-exec), so an accepted connection can be
 *                                  handed to a net.Socket that reads through `onread` and the server's
 *                                  socket let go (its close closes only its own descriptor).
 * The fd is then handed to a node net.Socket. Linux only.
 */
#define NAPI_VERSION 8
#include <stdio.h>
#include <node_api.h>
#include "common.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int get_string(napi_env env, napi_value v, char *buf, size_t len) {
  size_t out = 0;
  return napi_get_value_string_utf8(env, v, buf, len, &out) == napi_ok ? (int)out : -1;
}

/* Fills `ss` from a textual IPv4/IPv6 address and port; returns its length or 0. */
static socklen_t parse_addr(const char *text, int port, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((unsigned short)port);
    return sizeof *v4;
  }
  if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((unsigned short)port);
    return sizeof *v6;
  }
  return 0;
}

static int set_key(int fd, const struct sockaddr_storage *peer, const char *key, size_t keylen) {
  struct tcp_md5sig sig;
  memset(&sig, 0, sizeof sig);
  memcpy(&sig.tcpm_addr, peer, sizeof *peer);
  sig.tcpm_keylen = (unsigned short)keylen;
  memcpy(sig.tcpm_key, key, keylen);
  return setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof sig);
}

static napi_value SetKey(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int fd;
  char addr[64], key[TCP_MD5SIG_MAXKEYLEN + 1];
  if (argc < 3 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || get_string(env, argv[1], addr, sizeof addr) < 0) {
    napi_throw_type_error(env, NULL, "setKey(fd, peerAddress, key)");
    return NULL;
  }
  int keylen = get_string(env, argv[2], key, sizeof key);
  if (keylen < 0 || keylen > TCP_MD5SIG_MAXKEYLEN) {
    napi_throw_range_error(env, NULL, "TCP MD5 key longer than 80 bytes");
    return NULL;
  }
  struct sockaddr_storage ss;
  if (!parse_addr(addr, 0, &ss)) {
    napi_throw_type_error(env, NULL, "setKey: not an IP address");
    return NULL;
  }
  if (set_key(fd, &ss, key, (size_t)keylen) != 0 && !(keylen == 0 && errno == ENOENT)) return throw_errno(env, "setsockopt(TCP_MD5SIG)", errno);
  return NULL;
}

static napi_value Connect(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char host[64], local[64], key[TCP_MD5SIG_MAXKEYLEN + 1];
  int port;
  if (argc < 4 || get_string(env, argv[0], host, sizeof host) < 0 || napi_get_value_int32(env, argv[1], &port) != napi_ok ||
      get_string(env, argv[2], local, sizeof local) < 0) {
    napi_throw_type_error(env, NULL, "connect(host, port, localAddress, key)");
    return NULL;
  }
  int keylen = get_string(env, argv[3], key, sizeof key);
  if (keylen < 0 || keylen > TCP_MD5SIG_MAXKEYLEN) {
    napi_throw_range_error(env, NULL, "TCP MD5 key longer than 80 bytes");
    return NULL;
  }
  struct sockaddr_storage peer, bindto;
  socklen_t plen = parse_addr(host, port, &peer);
  if (!plen) {
    napi_throw_type_error(env, NULL, "connect: host is not an IP address");
    return NULL;
  }
  int fd = socket(peer.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  if (set_key(fd, &peer, key, (size_t)keylen) != 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "setsockopt(TCP_MD5SIG)", e);
  }
  if (local[0]) {
    socklen_t blen = parse_addr(local, 0, &bindto);
    if (!blen || bind(fd, (struct sockaddr *)&bindto, blen) != 0) {
      int e = blen ? errno : EINVAL;
      close(fd);
      return throw_errno(env, "bind", e);
    }
  }
  if (connect(fd, (struct sockaddr *)&peer, plen) != 0 && errno != EINPROGRESS) {
    int e = errno;
    close(fd);
    return throw_errno(env, "connect", e);
  }
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}

static napi_value ConnectResult(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!fd_arg(env, info, "connectResult(fd)", &fd)) return NULL;
  struct pollfd p = {.fd = fd, .events = POLLOUT};
  int r = poll(&p, 1, 0);
  int result;
  if (r < 0) result = errno;
  else if (r == 0) result = -1;
  else {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    result = err;
  }
  napi_value out;
  napi_create_int32(env, result, &out);
  return out;
}

static napi_value Dup(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!fd_arg(env, info, "dup(fd)", &fd)) return NULL;
  int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (d < 0) return throw_errno(env, "dup", errno);
  napi_value out;
  napi_create_int32(env, d, &out);
  return out;
}

static napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      METHOD("setKey", SetKey), METHOD("connect", Connect), METHOD("connectResult", ConnectResult), METHOD("close", CloseFd), METHOD("dup", Dup),
  };
  return export_methods(env, exports, props, sizeof props / sizeof props[0]);
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
