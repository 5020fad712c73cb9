/* sg-vcard.c: person facts from vCards attached to mail, read with libvformat.
 *
 * Why libvformat: it is a small C library in Debian (libvformat-dev) that reads vCard 2.1,
 * 3.0 and 4.0 property lines (folding, groups, parameters, quoted-printable, charsets).
 * evolution-data-server's EVCard was the first choice, but its development package pulls
 * 108 packages into the build (GTK 4, Mesa, libsoup ...), too much for a core library.
 * libvformat keeps a single internal search pointer (vf_get_property/vf_get_next_property
 * are documented as not thread-safe), so every use here holds one mutex; vCards are rare,
 * so the parse threads hardly ever wait on it.
 */
#include "config.h"

#include "sg-signature.h"

#include <stdint.h>
#include <string.h>
#include <vf_iface.h>

static GMutex vformat_lock;

/* Defined in sg-signature.c for both readers. */
void _sg_fact_add (GPtrArray *facts, SgFactKind kind, const char *detail, const char *value,
                   double confidence, SgFactOrigin origin);
const char *_sg_country_code_for (const char *domain);

static void
fact_free (gpointer p)
{
  SgFact *f = p;

  g_free (f->detail);
  g_free (f->value);
  g_free (f);
}

/* The kind named by a TEL's parameters: 2.1 "TEL;CELL", 3.0 "TYPE=CELL,VOICE", 4.0
 * TYPE="voice,cell". */
static const char *
tel_kind (VF_PROP_T *prop)
{
  const char *kind = "phone";

  for (uint32_t i = 1; i < 16; i++) {
    const char *q = vf_get_prop_name_string (prop, i);
    g_autofree char *low = NULL;

    if (q == NULL)
      break;
    low = g_ascii_strdown (q, -1);
    if (strstr (low, "fax"))
      return "fax";
    if (strstr (low, "cell") || strstr (low, "mobile"))
      kind = "mobile";
    else if (strstr (low, "work") && strcmp (kind, "phone") == 0)
      kind = "office";
  }
  return kind;
}

/* The values of a structured property joined: ORG "Acme;Research" -> "Acme, Research". */
static char *
joined_values (VF_PROP_T *prop, uint32_t max)
{
  GString *s = g_string_new (NULL);

  for (uint32_t i = 0; i < max; i++) {
    const char *v = vf_get_prop_value_string (prop, i);

    if (v == NULL || *v == '\0')
      continue;
    if (s->len > 0)
      g_string_append (s, ", ");
    g_string_append (s, v);
  }
  return g_string_free (s, FALSE);
}

static void
read_card (GPtrArray *facts, VF_OBJECT_T *card, const char *cc)
{
  VF_PROP_T *prop;

  if (vf_get_property (&prop, card, VFGP_FIND, NULL, "TITLE", NULL, NULL)) {
    g_autofree char *v = joined_values (prop, 1);

    _sg_fact_add (facts, SG_FACT_TITLE, NULL, v, 0.95, SG_FACT_FROM_VCARD);
  }
  if (vf_get_property (&prop, card, VFGP_FIND, NULL, "ORG", NULL, NULL)) {
    /* The organisation's name only; the units after it are not the organisation. */
    g_autofree char *v = joined_values (prop, 1);

    _sg_fact_add (facts, SG_FACT_ORGANISATION, NULL, v, 0.95, SG_FACT_FROM_VCARD);
  }
  if (vf_get_property (&prop, card, VFGP_FIND, NULL, "TEL", NULL, NULL)) {
    guint n = 0;

    do {
      const char *v = vf_get_prop_value_string (prop, 0);
      g_autofree char *norm = NULL;

      if (v == NULL)
        continue;
      if (g_ascii_strncasecmp (v, "tel:", 4) == 0)
        v += 4;
      norm = sg_phone_normalize (v, cc);
      if (norm != NULL)
        _sg_fact_add (facts, SG_FACT_PHONE, tel_kind (prop), norm, 0.95, SG_FACT_FROM_VCARD);
    } while (++n < 8 && vf_get_next_property (&prop));
  }
  if (vf_get_property (&prop, card, VFGP_FIND, NULL, "ADR", NULL, NULL)) {
    /* PO box; extended; street; locality; region; postal code; country. */
    const char *street = vf_get_prop_value_string (prop, 2);
    const char *ext = vf_get_prop_value_string (prop, 1);
    const char *box = vf_get_prop_value_string (prop, 0);
    const char *city = vf_get_prop_value_string (prop, 3);
    const char *region = vf_get_prop_value_string (prop, 4);
    const char *code = vf_get_prop_value_string (prop, 5);
    const char *country = vf_get_prop_value_string (prop, 6);
    GString *s = g_string_new (NULL);
    const char *parts[] = { box, ext, street, NULL, region, country };

    for (guint i = 0; i < G_N_ELEMENTS (parts); i++) {
      if (i == 3) {
        /* "10115 Berlin" */
        g_autofree char *place = g_strdup_printf ("%s %s", code && *code ? code : "", city && *city ? city : "");

        g_strstrip (place);
        if (*place) {
          if (s->len)
            g_string_append (s, ", ");
          g_string_append (s, place);
        }
        continue;
      }
      if (parts[i] && *parts[i]) {
        if (s->len)
          g_string_append (s, ", ");
        g_string_append (s, parts[i]);
      }
    }
    _sg_fact_add (facts, SG_FACT_ADDRESS, NULL, s->str, 0.9, SG_FACT_FROM_VCARD);
    g_string_free (s, TRUE);
  }
  /* No ADR: the delivery LABEL (2.1/3.0) is the address as printed, its lines joined. */
  else if (vf_get_property (&prop, card, VFGP_FIND, NULL, "LABEL", NULL, NULL)) {
    const char *v = vf_get_prop_value_string (prop, 0);

    if (v != NULL) {
      g_auto (GStrv) lines = g_strsplit_set (v, "\r\n", 8);
      GString *s = g_string_new (NULL);

      for (guint i = 0; lines[i]; i++) {
        g_strstrip (lines[i]);
        if (*lines[i] == '\0')
          continue;
        if (s->len)
          g_string_append (s, ", ");
        g_string_append (s, lines[i]);
      }
      _sg_fact_add (facts, SG_FACT_ADDRESS, NULL, s->str, 0.85, SG_FACT_FROM_VCARD);
      g_string_free (s, TRUE);
    }
  }
  if (vf_get_property (&prop, card, VFGP_FIND, NULL, "URL", NULL, NULL)) {
    const char *v = vf_get_prop_value_string (prop, 0);

    if (v != NULL) {
      const char *host = strstr (v, "://");
      g_autofree char *h = NULL;
      gsize n;

      host = host ? host + 3 : v;
      for (n = 0; g_ascii_isalnum (host[n]) || host[n] == '.' || host[n] == '-'; n++)
        ;
      h = g_ascii_strdown (host, n);
      if (g_str_has_prefix (h, "www."))
        memmove (h, h + 4, strlen (h + 4) + 1);
      if (strchr (h, '.') != NULL)
        _sg_fact_add (facts, SG_FACT_WEBSITE, NULL, h, 0.9, SG_FACT_FROM_VCARD);
    }
  }
}

GPtrArray *
sg_vcard_parse (const char *text, gsize len, const char *sender_domain, char **warning)
{
  GPtrArray *facts = g_ptr_array_new_with_free_func (fact_free);
  const char *cc = _sg_country_code_for (sender_domain);
  g_autofree char *copy = NULL;
  VF_PARSER_T *parser = NULL;
  VF_OBJECT_T *object = NULL;
  gboolean ok;
  guint cards = 0;

  if (warning)
    *warning = NULL;
  g_return_val_if_fail (text != NULL || len == 0, facts);
  /* libvformat takes a writable buffer. */
  copy = g_strndup (text ? text : "", len);
  g_mutex_lock (&vformat_lock);
  ok = vf_parse_init (&parser, &object);
  if (ok) {
    ok = vf_parse_text (parser, copy, (int) strlen (copy));
    ok = vf_parse_end (parser) && ok;
  }
  for (VF_OBJECT_T *card = object; card != NULL && cards < 8;) {
    const char *type = vf_get_object_type (card);

    if (type != NULL && g_ascii_strcasecmp (type, VF_NAME_VCARD) == 0) {
      read_card (facts, card, cc);
      cards++;
    }
    if (!vf_get_next_object (&card))
      break;
  }
  if (object != NULL)
    vf_delete_object (object, TRUE);
  g_mutex_unlock (&vformat_lock);
  if (warning && (!ok || cards == 0))
    *warning = g_strdup (cards == 0 ? "attached vCard is not readable: no BEGIN:VCARD ... END:VCARD"
                                    : "attached vCard is broken; what could be read was kept");
  return facts;
}
