/* What tortie's N-API addons share. */
#ifndef TORTIE_NATIVE_COMMON_H
#define TORTIE_NATIVE_COMMON_H
#include <node_api.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Throws an Error "<what>: <strerror>" carrying the errno as `errno`; returns NULL for the caller to return. */
static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value code, message, error;
  napi_create_string_utf8(env, strerror(err), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, NULL, message, &error);
  napi_value errnum;
  napi_create_int32(env, err, &errnum);
  napi_set_named_property(env, error, "errno", errnum);
  napi_throw(env, error);
  return NULL;
}

/* One exported function of an addon's module table (see export_methods). */
#define METHOD(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_default, NULL}

/* Defines the module's functions on `exports` and returns it: each addon's Init. */
static napi_value export_methods(napi_env env, napi_value exports, const napi_property_descriptor *props, size_t n) {
  napi_define_properties(env, exports, n, props);
  return exports;
}

/* close(fd): the `close` both addons export for the descriptors they hand out. */
/* The one argument of a call taking a descriptor; on a missing or non-number one, throws TypeError "<usage>" and returns 0. */
static int fd_arg(napi_env env, napi_callback_info info, const char *usage, int32_t *fd) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_int32(env, argv[0], fd) != napi_ok) {
    napi_throw_type_error(env, NULL, usage);
    return 0;
  }
  return 1;
}

static napi_value CloseFd(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (fd_arg(env, info, "close(fd)", &fd)) close(fd);
  return NULL;
}

#endif
