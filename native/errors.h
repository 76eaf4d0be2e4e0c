/* What tortie's N-API addons share. */
#ifndef TORTIE_NATIVE_ERRORS_H
#define TORTIE_NATIVE_ERRORS_H
#include <node_api.h>
#include <stdio.h>
#include <string.h>

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

#endif
