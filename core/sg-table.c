/* sg-table.c: result tables. */
#include "config.h"

#include "sg-table.h"

typedef struct {
  char *name;
  SgColumnType type;
  SgColumnFlags flags;
} Column;

typedef struct {
  gboolean set;
  union {
    char *text;
    gint64 i;
    double r;
  };
} Cell;

struct _SgTable {
  GArray *columns; /* Column */
  GArray *cells;   /* Cell, row-major */
  guint n_rows;
};

static void
clear_column (gpointer p)
{
  g_free (((Column *) p)->name);
}

SgTable *
sg_table_new (void)
{
  SgTable *t = g_new0 (SgTable, 1);

  t->columns = g_array_new (FALSE, FALSE, sizeof (Column));
  g_array_set_clear_func (t->columns, clear_column);
  t->cells = g_array_new (FALSE, TRUE, sizeof (Cell));
  return t;
}

void
sg_table_free (SgTable *table)
{
  if (table == NULL)
    return;
  for (guint i = 0; i < table->cells->len; i++) {
    Cell *c = &g_array_index (table->cells, Cell, i);
    Column *col = &g_array_index (table->columns, Column, i % table->columns->len);

    if (c->set && col->type == SG_COLUMN_TEXT)
      g_free (c->text);
  }
  g_array_unref (table->cells);
  g_array_unref (table->columns);
  g_free (table);
}

guint
sg_table_add_column (SgTable *table, const char *name, SgColumnType type, SgColumnFlags flags)
{
  Column c = { g_strdup (name), type, flags };

  g_return_val_if_fail (table->n_rows == 0, 0);
  g_array_append_val (table->columns, c);
  return table->columns->len - 1;
}

guint
sg_table_append_row (SgTable *table)
{
  g_array_set_size (table->cells, table->cells->len + table->columns->len);
  return table->n_rows++;
}

static Cell *
last_cell (SgTable *table, guint column, SgColumnType type)
{
  Cell *c;

  g_return_val_if_fail (table->n_rows > 0, NULL);
  g_return_val_if_fail (column < table->columns->len, NULL);
  if (g_array_index (table->columns, Column, column).type != type &&
      !(type == SG_COLUMN_INT && g_array_index (table->columns, Column, column).type == SG_COLUMN_TIME)) {
    g_critical ("sg_table: column %u has another type", column);
    return NULL;
  }
  c = &g_array_index (table->cells, Cell, (table->n_rows - 1) * table->columns->len + column);
  if (c->set && type == SG_COLUMN_TEXT)
    g_free (c->text);
  return c;
}

void
sg_table_take_text (SgTable *table, guint column, char *text)
{
  Cell *c = last_cell (table, column, SG_COLUMN_TEXT);

  if (c == NULL) {
    g_free (text);
    return;
  }
  c->text = text;
  c->set = text != NULL;
}

void
sg_table_set_text (SgTable *table, guint column, const char *text)
{
  sg_table_take_text (table, column, g_strdup (text));
}

void
sg_table_set_int (SgTable *table, guint column, gint64 value)
{
  Cell *c = last_cell (table, column, SG_COLUMN_INT);

  if (c != NULL) {
    c->i = value;
    c->set = TRUE;
  }
}

void
sg_table_set_real (SgTable *table, guint column, double value)
{
  Cell *c = last_cell (table, column, SG_COLUMN_REAL);

  if (c != NULL) {
    c->r = value;
    c->set = TRUE;
  }
}

guint
sg_table_get_n_columns (const SgTable *table)
{
  return table->columns->len;
}

guint
sg_table_get_n_rows (const SgTable *table)
{
  return table->n_rows;
}

const char *
sg_table_get_column_name (const SgTable *table, guint column)
{
  g_return_val_if_fail (column < table->columns->len, NULL);
  return g_array_index (table->columns, Column, column).name;
}

SgColumnType
sg_table_get_column_type (const SgTable *table, guint column)
{
  g_return_val_if_fail (column < table->columns->len, SG_COLUMN_TEXT);
  return g_array_index (table->columns, Column, column).type;
}

SgColumnFlags
sg_table_get_column_flags (const SgTable *table, guint column)
{
  g_return_val_if_fail (column < table->columns->len, SG_COLUMN_FLAG_NONE);
  return g_array_index (table->columns, Column, column).flags;
}

static const Cell *
get_cell (const SgTable *table, guint row, guint column)
{
  g_return_val_if_fail (row < table->n_rows && column < table->columns->len, NULL);
  return &g_array_index (table->cells, Cell, row * table->columns->len + column);
}

gboolean
sg_table_is_null (const SgTable *table, guint row, guint column)
{
  const Cell *c = get_cell (table, row, column);

  return c == NULL || !c->set;
}

const char *
sg_table_get_text (const SgTable *table, guint row, guint column)
{
  const Cell *c = get_cell (table, row, column);

  g_return_val_if_fail (sg_table_get_column_type (table, column) == SG_COLUMN_TEXT, NULL);
  return c && c->set ? c->text : NULL;
}

gint64
sg_table_get_int (const SgTable *table, guint row, guint column)
{
  const Cell *c = get_cell (table, row, column);

  return c && c->set ? c->i : 0;
}

double
sg_table_get_real (const SgTable *table, guint row, guint column)
{
  const Cell *c = get_cell (table, row, column);

  return c && c->set ? c->r : 0.0;
}

char *
sg_table_format_cell (const SgTable *table, guint row, guint column)
{
  const Cell *c = get_cell (table, row, column);

  if (c == NULL || !c->set)
    return NULL;
  switch (sg_table_get_column_type (table, column)) {
  case SG_COLUMN_TEXT:
    return g_strdup (c->text);
  case SG_COLUMN_INT:
    return g_strdup_printf ("%" G_GINT64_FORMAT, c->i);
  case SG_COLUMN_REAL:
    return g_strdup_printf ("%.4g", c->r);
  case SG_COLUMN_TIME: {
    g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (c->i);

    return dt ? g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ") : NULL;
  }
  default:
    g_return_val_if_reached (NULL);
  }
}
