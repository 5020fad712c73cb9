/* output.c: a result table as text, JSON or CSV on stdout. */
#include "config.h"

#include "cli.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

/* Widest a text cell gets in the table view, in columns. */
#define MAX_CELL_WIDTH 48

static guint
display_width (const char *s)
{
  guint w = 0;

  for (const char *p = s; *p; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);

    if (g_unichar_iszerowidth (c))
      continue;
    w += g_unichar_iswide (c) ? 2 : 1;
  }
  return w;
}

/* The cell's text for the table view: sanitised and shortened with an ellipsis. */
static char *
table_cell (const SgTable *t, guint row, guint col)
{
  g_autofree char *raw = sg_table_format_cell (t, row, col);
  g_autofree char *safe = NULL;
  GString *out;
  guint w = 0;

  if (raw == NULL)
    return g_strdup ("");
  if (sg_table_get_column_type (t, col) == SG_COLUMN_TIME && strlen (raw) >= 16) {
    /* "2026-03-19T14:00:00Z" -> "2026-03-19 14:00" in the text view. */
    raw[10] = ' ';
    raw[16] = '\0';
  }
  safe = sg_cli_sanitize (raw);
  if (display_width (safe) <= MAX_CELL_WIDTH)
    return g_steal_pointer (&safe);
  out = g_string_new (NULL);
  for (const char *p = safe; *p; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);
    guint cw = g_unichar_iswide (c) ? 2 : 1;

    if (w + cw > MAX_CELL_WIDTH - 1)
      break;
    g_string_append_unichar (out, c);
    w += cw;
  }
  g_string_append (out, "…");
  return g_string_free (out, FALSE);
}

static void
output_text (const SgTable *t)
{
  guint nc = sg_table_get_n_columns (t), nr = sg_table_get_n_rows (t);
  g_autofree guint *width = g_new0 (guint, nc);
  g_autoptr (GPtrArray) cells = g_ptr_array_new_with_free_func (g_free);
  GString *line = g_string_new (NULL);

  for (guint c = 0; c < nc; c++)
    width[c] = display_width (sg_table_get_column_name (t, c));
  for (guint r = 0; r < nr; r++) {
    for (guint c = 0; c < nc; c++) {
      char *cell = table_cell (t, r, c);

      g_ptr_array_add (cells, cell);
      width[c] = MAX (width[c], display_width (cell));
    }
  }
  for (guint r = 0; r <= nr; r++) {
    g_string_truncate (line, 0);
    for (guint c = 0; c < nc; c++) {
      const char *text;
      gboolean numeric = sg_table_get_column_type (t, c) == SG_COLUMN_INT ||
                         sg_table_get_column_type (t, c) == SG_COLUMN_REAL;
      guint pad;

      if (sg_table_get_column_flags (t, c) & SG_COLUMN_FLAG_DETAIL)
        continue;
      text = r == 0 ? sg_table_get_column_name (t, c) : cells->pdata[(r - 1) * nc + c];
      pad = width[c] - display_width (text);
      if (line->len > 0)
        g_string_append (line, "  ");
      if (numeric)
        for (guint i = 0; i < pad; i++)
          g_string_append_c (line, ' ');
      g_string_append (line, text);
      if (!numeric)
        for (guint i = 0; i < pad; i++)
          g_string_append_c (line, ' ');
    }
    g_strchomp (line->str);
    puts (line->str);
  }
  g_string_free (line, TRUE);
}

JsonNode *
sg_output_table_to_json (const SgTable *t)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  guint nc = sg_table_get_n_columns (t);

  json_builder_begin_array (b);
  for (guint r = 0; r < sg_table_get_n_rows (t); r++) {
    json_builder_begin_object (b);
    for (guint c = 0; c < nc; c++) {
      json_builder_set_member_name (b, sg_table_get_column_name (t, c));
      if (sg_table_is_null (t, r, c)) {
        json_builder_add_null_value (b);
        continue;
      }
      switch (sg_table_get_column_type (t, c)) {
      case SG_COLUMN_INT:
        json_builder_add_int_value (b, sg_table_get_int (t, r, c));
        break;
      case SG_COLUMN_REAL:
        json_builder_add_double_value (b, sg_table_get_real (t, r, c));
        break;
      default: {
        g_autofree char *s = sg_table_format_cell (t, r, c);

        json_builder_add_string_value (b, s);
      }
      }
    }
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  return json_builder_get_root (b);
}

void
sg_output_json_node (JsonNode *node)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_root (gen, node);
  json_generator_set_pretty (gen, TRUE);
  text = json_generator_to_data (gen, NULL);
  puts (text);
}

static void
output_json (const SgTable *t)
{
  g_autoptr (JsonNode) root = sg_output_table_to_json (t);

  sg_output_json_node (root);
}

static void
csv_field (GString *line, const char *s)
{
  if (s == NULL)
    return;
  if (strpbrk (s, ",\"\r\n") == NULL) {
    g_string_append (line, s);
    return;
  }
  g_string_append_c (line, '"');
  for (const char *p = s; *p; p++) {
    if (*p == '"')
      g_string_append_c (line, '"');
    g_string_append_c (line, *p);
  }
  g_string_append_c (line, '"');
}

static void
output_csv (const SgTable *t)
{
  guint nc = sg_table_get_n_columns (t);
  GString *line = g_string_new (NULL);

  for (guint r = 0; r <= sg_table_get_n_rows (t); r++) {
    g_string_truncate (line, 0);
    for (guint c = 0; c < nc; c++) {
      if (c > 0)
        g_string_append_c (line, ',');
      if (r == 0) {
        csv_field (line, sg_table_get_column_name (t, c));
      } else {
        g_autofree char *s = sg_table_format_cell (t, r - 1, c);

        csv_field (line, s);
      }
    }
    g_string_append (line, "\r\n");
    fwrite (line->str, 1, line->len, stdout);
  }
  g_string_free (line, TRUE);
}

void
sg_output_table (const SgTable *table, SgFormat format)
{
  switch (format) {
  case SG_FORMAT_JSON:
    output_json (table);
    break;
  case SG_FORMAT_CSV:
    output_csv (table);
    break;
  case SG_FORMAT_TABLE:
  default:
    output_text (table);
    break;
  }
  fflush (stdout);
}
