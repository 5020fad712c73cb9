/* srv-http.h: the HTTP side (libmicrohttpd, thread pool): routes, bodies, auth, answers. */
#pragma once

#include <glib.h>
#include <microhttpd.h>

#include "srv-config.h"
#include "srv-db.h"
#include "srv-limit.h"
#include "srv-sync.h"

G_BEGIN_DECLS

typedef struct _SrvServer SrvServer;

struct _SrvServer {
  SrvConfig *config;
  SrvPool *pool;
  struct MHD_Daemon *daemon;
  SrvLimiter *limiter; /* the [limits] state; NULL: no limits */
};

/* A request as a handler sees it. */
typedef struct {
  SrvServer *server;
  struct MHD_Connection *connection;
  const char *method;
  const char *url;
  GBytes *body;       /* decompressed (POST/PUT), or NULL */
  const SrvUser *user; /* the bearer token's user, for routes with SRV_AUTH_TOKEN */
} SrvRequest;

/* What a handler answers. */
typedef struct {
  guint status;
  const char *content_type; /* static string; "application/json" by default */
  GString *body;
  GPtrArray *headers;       /* "Name", "value" pairs (owned strings), or NULL */
} SrvResponse;

typedef void (*SrvHandler) (SrvRequest *req, SrvResponse *resp);

typedef enum {
  SRV_AUTH_NONE,  /* public (health), or the handler authenticates itself (dashboard) */
  SRV_AUTH_TOKEN, /* Authorization: Bearer <token>, checked before the body is read */
} SrvAuth;

/* Sets RESP to {"error": MESSAGE} with STATUS. */
void srv_response_error (SrvResponse *resp, guint status, const char *fmt, ...) G_GNUC_PRINTF (3, 4);
/* Adds a header to RESP. */
void srv_response_header (SrvResponse *resp, const char *name, const char *value);

/* Starts the thread pool listening as CONFIG says. */
gboolean srv_server_start (SrvServer *server, GError **error);
void srv_server_stop (SrvServer *server);

G_END_DECLS
