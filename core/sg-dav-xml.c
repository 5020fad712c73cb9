/* sg-dav-xml.c: the WebDAV multistatus answers CalDAV sync reads, parsed with libxml2's
 * tree API (never by hand). Apart from sg-caldav.c so that the unit tests compile it in.
 * See sg-caldav-private.h. */
#include "config.h"

#include "sg-caldav.h"
#include "sg-caldav-private.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#define NS_DAV "DAV:"
#define NS_CALDAV "urn:ietf:params:xml:ns:caldav"
#define NS_CS "http://calendarserver.org/ns/"

/* --- XML answers ---------------------------------------------------------------------------- */

static gboolean
is (const xmlNode *n, const char *ns, const char *name)
{
  return n->type == XML_ELEMENT_NODE && n->ns != NULL && n->ns->href != NULL &&
         strcmp ((const char *) n->ns->href, ns) == 0 && strcmp ((const char *) n->name, name) == 0;
}

static xmlNode *
child (const xmlNode *n, const char *ns, const char *name)
{
  for (xmlNode *c = n->children; c; c = c->next)
    if (is (c, ns, name))
      return c;
  return NULL;
}

/* The text of @n, white space trimmed; NULL when empty. */
static char *
text_of (const xmlNode *n)
{
  xmlChar *t = xmlNodeGetContent (n);
  char *v = NULL;

  if (t != NULL) {
    v = g_strstrip (g_strdup ((const char *) t));
    xmlFree (t);
    if (*v == '\0')
      g_clear_pointer (&v, g_free);
  }
  return v;
}

/* "HTTP/1.1 404 Not Found" -> 404; 0 when unreadable. */
static int
parse_status (const xmlNode *n)
{
  g_autofree char *t = n ? text_of (n) : NULL;
  const char *sp;

  if (t == NULL || (sp = strchr (t, ' ')) == NULL)
    return 0;
  return (int) g_ascii_strtoll (sp + 1, NULL, 10);
}

static void
response_free (gpointer p)
{
  SgDavResponse *r = p;

  g_free (r->href);
  g_free (r->displayname);
  g_free (r->etag);
  g_free (r->ctag);
  g_free (r->sync_token);
  g_free (r->principal);
  g_free (r->home);
  g_free (r->calendar_data);
  g_free (r);
}

void
_sg_dav_multistatus_free (SgDavMultistatus *ms)
{
  if (ms == NULL)
    return;
  g_ptr_array_unref (ms->responses);
  g_free (ms->sync_token);
  g_free (ms);
}

static char *
href_in (const xmlNode *n)
{
  xmlNode *h = n ? child (n, NS_DAV, "href") : NULL;

  return h ? text_of (h) : NULL;
}

static void
read_prop (SgDavResponse *r, const xmlNode *prop)
{
  for (xmlNode *p = prop->children; p; p = p->next) {
    if (p->type != XML_ELEMENT_NODE)
      continue;
    if (is (p, NS_DAV, "resourcetype")) {
      r->collection = child (p, NS_DAV, "collection") != NULL;
      r->calendar = child (p, NS_CALDAV, "calendar") != NULL;
    } else if (is (p, NS_DAV, "displayname")) {
      g_free (r->displayname);
      r->displayname = text_of (p);
    } else if (is (p, NS_DAV, "getetag")) {
      g_free (r->etag);
      r->etag = text_of (p);
    } else if (is (p, NS_CS, "getctag")) {
      g_free (r->ctag);
      r->ctag = text_of (p);
    } else if (is (p, NS_DAV, "sync-token")) {
      g_free (r->sync_token);
      r->sync_token = text_of (p);
    } else if (is (p, NS_DAV, "current-user-principal")) {
      g_free (r->principal);
      r->principal = href_in (p);
    } else if (is (p, NS_CALDAV, "calendar-home-set")) {
      g_free (r->home);
      r->home = href_in (p);
    } else if (is (p, NS_CALDAV, "supported-calendar-component-set")) {
      r->has_components = TRUE;
      for (xmlNode *c = p->children; c; c = c->next) {
        xmlChar *name = is (c, NS_CALDAV, "comp") ? xmlGetProp (c, (const xmlChar *) "name") : NULL;

        if (name != NULL && g_ascii_strcasecmp ((const char *) name, "VEVENT") == 0)
          r->vevent = TRUE;
        xmlFree (name);
      }
    } else if (is (p, NS_CALDAV, "calendar-data")) {
      xmlChar *t = xmlNodeGetContent (p);

      g_free (r->calendar_data);
      r->calendar_data = t ? g_strdup ((const char *) t) : NULL;
      xmlFree (t);
    }
  }
}

static xmlDoc *
read_xml (const char *data, gsize len)
{
  static gsize done;

  if (g_once_init_enter (&done)) {
    /* Once, before threads parse at the same time (the daemon syncs accounts in workers). */
    xmlInitParser ();
    g_once_init_leave (&done, 1);
  }
  if (len > G_MAXINT)
    return NULL;
  /* No network, no entity substitution (entities stay references), no DTD loading. */
  return xmlReadMemory (data, (int) len, "answer.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
}

SgDavMultistatus *
_sg_dav_parse_multistatus (const char *data, gsize len, GError **error)
{
  xmlDoc *doc = read_xml (data, len);
  xmlNode *root = doc ? xmlDocGetRootElement (doc) : NULL;
  SgDavMultistatus *ms;

  if (root == NULL || !is (root, NS_DAV, "multistatus")) {
    g_set_error (error, SG_CALDAV_ERROR, SG_CALDAV_ERROR_PROTOCOL, "%s",
                 root == NULL ? "the answer is not XML" : "the answer is not a DAV:multistatus");
    if (doc)
      xmlFreeDoc (doc);
    return NULL;
  }
  ms = g_new0 (SgDavMultistatus, 1);
  ms->responses = g_ptr_array_new_with_free_func (response_free);
  for (xmlNode *n = root->children; n; n = n->next) {
    SgDavResponse *r;

    if (is (n, NS_DAV, "sync-token")) {
      g_free (ms->sync_token);
      ms->sync_token = text_of (n);
      continue;
    }
    if (!is (n, NS_DAV, "response"))
      continue;
    r = g_new0 (SgDavResponse, 1);
    r->href = href_in (n);
    r->status = parse_status (child (n, NS_DAV, "status"));
    for (xmlNode *ps = n->children; ps; ps = ps->next) {
      xmlNode *prop;
      int st;

      if (!is (ps, NS_DAV, "propstat"))
        continue;
      st = parse_status (child (ps, NS_DAV, "status"));
      prop = child (ps, NS_DAV, "prop");
      if (prop != NULL && st >= 200 && st < 300)
        read_prop (r, prop);
    }
    if (r->href == NULL)
      response_free (r);
    else
      g_ptr_array_add (ms->responses, r);
  }
  xmlFreeDoc (doc);
  return ms;
}

gboolean
_sg_dav_is_invalid_sync_token (const char *data, gsize len)
{
  xmlDoc *doc = data && len ? read_xml (data, len) : NULL;
  xmlNode *root = doc ? xmlDocGetRootElement (doc) : NULL;
  gboolean found = root != NULL && is (root, NS_DAV, "error") && child (root, NS_DAV, "valid-sync-token") != NULL;

  if (doc)
    xmlFreeDoc (doc);
  return found;
}

