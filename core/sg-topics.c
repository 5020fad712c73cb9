/* sg-topics.c: key phrases of a message, and tags from a taxonomy. See sg-topics.h. */
#include "config.h"

#include "sg-topics.h"
#include "sg-private.h"

#include <json-glib/json-glib.h>
#include <libstemmer.h>
#include <string.h>

G_DEFINE_QUARK (sg-topics-error-quark, sg_topics_error)

/* --- languages ------------------------------------------------------------------------ */

typedef enum { LANG_EN, LANG_DE, LANG_FR, LANG_ES, N_LANGS } Lang;

static const char *const lang_codes[N_LANGS] = { "en", "de", "fr", "es" };
static const char *const lang_algorithms[N_LANGS] = { "english", "german", "french", "spanish" };

/* The most frequent function words of each language, the words every mail has ("regards",
 * "thanks", "hi", "today", "attached") which say nothing about its topic, and the subject
 * prefixes calendar programs put on invitations and answers ("Accepted:", "Tentative:",
 * "Angenommen:", "Mit Vorbehalt angenommen:"...), which are no more a topic than "Re:". */
static const char *const stop_en[] = {
  "the", "and", "for", "that", "this", "with", "you", "are", "not", "have", "was", "but", "they",
  "his", "her", "from", "she", "him", "which", "will", "would", "there", "their", "what", "about",
  "can", "all", "were", "when", "been", "has", "had", "more", "one", "our", "out", "your", "into",
  "than", "them", "then", "some", "could", "these", "also", "its", "only", "other", "any", "just",
  "like", "how", "may", "should", "who", "did", "does", "doing", "here", "where", "why", "very",
  "much", "many", "such", "each", "over", "after", "before", "because", "being", "both", "same",
  "own", "too", "off", "again", "once", "those", "while", "between", "through", "during", "let",
  "get", "got", "see", "know", "think", "want", "need", "make", "use", "used", "using", "way",
  "well", "yes", "now", "new", "still", "even", "there", "thanks", "thank", "regards", "best",
  "hi", "hello", "dear", "please", "wrote", "sent", "message", "email", "mail", "cheers", "kind",
  "sure", "look", "let's", "i'm", "it's", "don't", "can't", "i've", "we're", "you're", "that's",
  "if", "is", "it", "in", "on", "of", "to", "a", "an", "as", "at", "be", "by", "do", "he", "i",
  "me", "my", "no", "or", "so", "up", "we", "us", "am", "go", "re", "fw", "fwd", "etc", "via",
  "per", "might", "must", "shall", "since", "until", "though", "whether", "yet", "already", "yours",
  "today", "today's", "tomorrow", "yesterday", "attached", "accepted", "declined", "tentative",
  "tentatively", "invitation", "updated", "canceled", "cancelled", "next", "last", "week", "weeks",
  NULL,
};
static const char *const stop_de[] = {
  "der", "die", "das", "und", "ist", "nicht", "ein", "eine", "einen", "einem", "einer", "mit",
  "sich", "auf", "für", "den", "dem", "des", "von", "sie", "ich", "wir", "ihr", "ihnen", "auch",
  "als", "noch", "wie", "bei", "aus", "aber", "oder", "wenn", "nach", "nur", "schon", "dass",
  "daß", "hat", "haben", "wird", "werden", "wurde", "sind", "war", "kann", "können", "uns",
  "unser", "unsere", "mir", "mich", "dich", "dir", "sein", "seine", "zum", "zur", "vom", "über",
  "unter", "durch", "gegen", "ohne", "sehr", "hier", "dort", "diese", "dieser", "dieses", "man",
  "mal", "gibt", "gerne", "bitte", "danke", "vielen", "dank", "grüße", "gruß", "hallo", "liebe",
  "lieber", "sehr", "geehrte", "geehrter", "freundlichen", "beste", "viele", "schrieb", "da",
  "es", "zu", "im", "in", "an", "am", "so", "ja", "nein", "was", "wo", "um", "ob", "ab", "bis",
  "doch", "denn", "etwas", "alle", "also", "jetzt", "heute", "morgen", "sollte", "würde", "habe",
  "gestern", "anbei", "angenommen", "abgelehnt", "vorbehalt", "einladung", "aktualisierte",
  "abgesagt",
  NULL,
};
static const char *const stop_fr[] = {
  "le", "la", "les", "des", "une", "est", "pas", "pour", "que", "qui", "dans", "sur", "avec",
  "par", "plus", "son", "sont", "ses", "aux", "nous", "vous", "ils", "elle", "elles", "mais", "ou",
  "où", "donc", "car", "cette", "ces", "cet", "leur", "leurs", "été", "être", "avoir", "fait",
  "faire", "comme", "tout", "tous", "toute", "toutes", "aussi", "bien", "très", "peut", "sans",
  "sous", "entre", "encore", "notre", "nos", "votre", "vos", "même", "du", "de", "un", "et", "en",
  "au", "ce", "il", "je", "ne", "se", "sa", "si", "on", "me", "te", "ma", "mon", "ton", "ta",
  "bonjour", "merci", "cordialement", "salutations", "madame", "monsieur", "écrit", "ai", "as",
  "avons", "avez", "ont", "suis", "sommes", "êtes", "était", "qu", "c'est", "j'ai", "n'est",
  "aujourd'hui", "demain", "hier", "ci-joint", "accepté", "refusé", "provisoire", "annulé",
  NULL,
};
static const char *const stop_es[] = {
  "el", "la", "los", "las", "de", "del", "que", "en", "un", "una", "unos", "unas", "por", "con",
  "para", "es", "son", "se", "lo", "al", "como", "más", "pero", "sus", "su", "le", "les", "ya",
  "o", "y", "este", "esta", "estos", "estas", "ese", "esa", "sí", "no", "porque", "muy", "sin",
  "sobre", "también", "me", "hasta", "hay", "donde", "quien", "desde", "todo", "todos", "nos",
  "durante", "uno", "ni", "contra", "ese", "eso", "mi", "mis", "tu", "te", "ti", "vosotros",
  "ha", "han", "he", "hemos", "fue", "ser", "estar", "está", "están", "tiene", "tienen", "hola",
  "gracias", "saludos", "atentamente", "cordial", "saludo", "escribió", "usted", "ustedes",
  "nuestro", "nuestra", "cuando", "entre", "otro", "otra", "bien", "puede", "pueden", "hacer",
  "nosotros", "nosotras", "vosotras", "ellos", "ellas", "ella", "él", "yo", "era", "sido", "será",
  "serán", "hoy", "mañana", "ayer", "adjunto", "aceptado", "rechazado", "provisional",
  "invitación", "cancelado", NULL,
};
static const char *const *const stop_lists[N_LANGS] = { stop_en, stop_de, stop_fr, stop_es };

/* All stop words of all languages, built once: mail mixes languages (a German reply to an
 * English thread), and a stop word of any of them is no topic. */
static GHashTable *
stop_words (void)
{
  static GHashTable *table;

  if (g_once_init_enter (&table)) {
    GHashTable *t = g_hash_table_new (g_str_hash, g_str_equal);

    for (guint l = 0; l < N_LANGS; l++)
      for (const char *const *w = stop_lists[l]; *w; w++) {
        guint mask = GPOINTER_TO_UINT (g_hash_table_lookup (t, *w));

        g_hash_table_insert (t, (gpointer) *w, GUINT_TO_POINTER (mask | (1u << l)));
      }
    g_once_init_leave (&table, t);
  }
  return table;
}

/* Stemmers are not thread-safe; each thread keeps its own set, and its own table of the
 * words it has seen: mail repeats its words, so each word is looked up once per message
 * (one hash look-up gives its stop-word languages and, once computed, its stems), and
 * phrases are counted by pointer, without building a string per word. */

/* A word as this thread has seen it. Its stems are interned (two words of one stem share the
 * pointer), so a stem, or a pair of them, is a key by address. */
typedef struct {
  guint mask;                /* stop word of these languages (bit per Lang), 0 if none */
  const char *stem[N_LANGS]; /* in Stemmers.stems[lang]; NULL until first needed */
  char word[];               /* lower-cased, the key of Stemmers.words */
} Word;

typedef struct {
  struct sb_stemmer *stemmers[N_LANGS];
  GHashTable *words;          /* char* -> Word* (owned) */
  GHashTable *stems[N_LANGS]; /* interned stems: char* (owned) -> itself */
} Stemmers;

/* Words a thread's table holds before it starts again (with their stems, about 2 MB): the
 * daemon runs up to 8 parse threads and must stay under 64 MB. */
#define STEM_CACHE_MAX 20000

static void
stemmers_free (gpointer p)
{
  Stemmers *s = p;

  for (guint l = 0; l < N_LANGS; l++) {
    if (s->stemmers[l])
      sb_stemmer_delete (s->stemmers[l]);
    if (s->stems[l])
      g_hash_table_unref (s->stems[l]);
  }
  if (s->words)
    g_hash_table_unref (s->words);
  g_free (s);
}

static GPrivate stemmers_key = G_PRIVATE_INIT (stemmers_free);

static Stemmers *
stemmers_get (void)
{
  Stemmers *s = g_private_get (&stemmers_key);

  if (s == NULL) {
    s = g_new0 (Stemmers, 1);
    s->words = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
    for (guint l = 0; l < N_LANGS; l++)
      s->stems[l] = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    g_private_set (&stemmers_key, s);
  }
  return s;
}

static struct sb_stemmer *
stemmer_for (Stemmers *s, Lang lang)
{
  if (s->stemmers[lang] == NULL)
    s->stemmers[lang] = sb_stemmer_new (lang_algorithms[lang], "UTF_8");
  return s->stemmers[lang];
}

/* Called at the start of each extraction, never during one: Word pointers and stems stay
 * valid until then. */
static void
stem_cache_trim (Stemmers *s)
{
  if (g_hash_table_size (s->words) <= STEM_CACHE_MAX)
    return;
  g_hash_table_remove_all (s->words);
  for (guint l = 0; l < N_LANGS; l++)
    g_hash_table_remove_all (s->stems[l]);
}

static Lang
lang_from_code (const char *code)
{
  for (guint l = 0; l < N_LANGS; l++)
    if (g_strcmp0 (code, lang_codes[l]) == 0)
      return (Lang) l;
  return LANG_EN;
}

static char *
stem_word (const char *word, Lang lang)
{
  struct sb_stemmer *st = stemmer_for (stemmers_get (), lang);
  const sb_symbol *out;

  if (st == NULL)
    return g_strdup (word);
  out = sb_stemmer_stem (st, (const sb_symbol *) word, (int) strlen (word));
  if (out == NULL)
    return g_strdup (word);
  return g_strndup ((const char *) out, sb_stemmer_length (st));
}

/* The thread's Word for the lower-cased @w (NUL-terminated, @len bytes). */
static Word *
word_intern (Stemmers *s, const char *w, gsize len)
{
  Word *word = g_hash_table_lookup (s->words, w);

  if (word == NULL) {
    word = g_malloc0 (sizeof (Word) + len + 1);
    memcpy (word->word, w, len + 1);
    word->mask = GPOINTER_TO_UINT (g_hash_table_lookup (stop_words (), w));
    g_hash_table_insert (s->words, word->word, word);
  }
  return word;
}

/* The interned stem of @word in @lang. */
static const char *
word_stem (Stemmers *s, Word *word, Lang lang)
{
  if (word->stem[lang] == NULL) {
    char *stem = stem_word (word->word, lang);
    char *interned = g_hash_table_lookup (s->stems[lang], stem);

    if (interned == NULL) {
      g_hash_table_add (s->stems[lang], stem);
      interned = stem;
    } else {
      g_free (stem);
    }
    word->stem[lang] = interned;
  }
  return word->stem[lang];
}

char *
sg_topics_stem (const char *word, const char *lang)
{
  g_autofree char *low = NULL;

  g_return_val_if_fail (word != NULL, NULL);
  low = g_utf8_strdown (word, -1);
  return stem_word (low, lang_from_code (lang));
}

/* --- tokens ----------------------------------------------------------------------------- */

/* Receives each token: a lower-cased word (@len bytes, NUL-terminated), or NULL for a phrase
 * break (punctuation, a line end, a word that cannot be a topic). */
typedef void (*TokenFunc) (const char *word, gsize len, gpointer data);

/* @c, followed by @next, is no part of a word: the word so far is emitted (a break instead
 * when it cannot be a topic), and @c breaks the phrase unless it is a space other than a
 * line end. */
static inline void
end_word (GString *word, gboolean *skip_word, gunichar c, gboolean space, const char *next, const char *end,
          TokenFunc emit, gpointer data)
{
  gboolean addr_char = c == '.' || c == '@' || c == '/' || c == ':' || c == '_';
  gboolean alnum_next = addr_char && next < end &&
                        (g_unichar_isalnum (g_utf8_get_char_validated (next, end - next)) ||
                         /* "http://", "file:///": the scheme of a link is no word either */
                         (c == ':' && next + 1 < end && next[0] == '/' && next[1] == '/'));

  /* "INV-731538", "TCK-2291": a word joined to a number by a hyphen is part of an identifier
   * (the sample mailbox's "inv" was a top topic of every invoice). */
  gboolean id_dash = c == '-' && next < end && g_ascii_isdigit (*next);

  /* "www.acme.com", "a@b.c", "http://": parts of addresses are no words. */
  if ((alnum_next || id_dash) && word->len > 0)
    *skip_word = TRUE;
  if (word->len > 0) {
    if (!*skip_word && word->len >= 3 && word->len <= 40)
      emit (word->str, word->len, data);
    else
      emit (NULL, 0, data);
    g_string_truncate (word, 0);
  }
  if (!alnum_next)
    *skip_word = FALSE;
  if (!space || c == '\n')
    emit (NULL, 0, data);
}

static void
tokenize_each (const char *text, gsize max_bytes, TokenFunc emit, gpointer data)
{
  const char *p = text, *end = text + strnlen (text, max_bytes);
  GString *word = g_string_sized_new (64);
  gboolean skip_word = FALSE;

  while (p < end) {
    gunichar c;
    const char *next;

    /* ASCII letters, the bulk of most mail, without the Unicode tables. */
    if (g_ascii_isalpha (*p)) {
      g_string_append_c (word, (*p >= 'A' && *p <= 'Z') ? *p + ('a' - 'A') : *p);
      p++;
      continue;
    }
    /* Other ASCII (spaces, punctuation, digits): the same tests as below, without the
     * Unicode tables (g_unichar_isspace's ASCII spaces are these five; no '\v'). */
    if ((guchar) *p < 0x80 && *p != '\0' && *p != '-' && *p != '\'') {
      c = (guchar) *p;
      next = p + 1;
      if (c >= '0' && c <= '9') {
        skip_word = TRUE;
        g_string_append_c (word, (char) c);
      } else {
        end_word (word, &skip_word, c, c == ' ' || c == '\t' || c == '\r' || c == '\f', next, end, emit,
                  data);
      }
      p = next;
      continue;
    }
    c = g_utf8_get_char_validated (p, end - p);
    if (c == (gunichar) -1 || c == (gunichar) -2) {
      p++;
      continue;
    }
    next = g_utf8_next_char (p);
    if (g_unichar_isalpha (c) || g_unichar_isdigit (c) ||
        ((c == '-' || c == '\'' || c == 0x2019) && word->len > 0 && next < end &&
         g_unichar_isalpha (g_utf8_get_char_validated (next, end - next)))) {
      if (g_unichar_isdigit (c))
        skip_word = TRUE;
      g_string_append_unichar (word, c == 0x2019 ? '\'' : g_unichar_tolower (c));
    } else {
      end_word (word, &skip_word, c, g_unichar_isspace (c), next, end, emit, data);
    }
    p = next;
  }
  if (word->len > 0 && !skip_word && word->len >= 3)
    emit (word->str, word->len, data);
  g_string_free (word, TRUE);
}

static void
emit_string (const char *word, gsize len, gpointer data)
{
  g_ptr_array_add (data, word ? g_strndup (word, len) : NULL);
}

/* Tokens as strings (NULL for a break). */
static GPtrArray *
tokenize (const char *text, gsize max_bytes)
{
  GPtrArray *tokens = g_ptr_array_new_with_free_func (g_free);

  tokenize_each (text, max_bytes, emit_string, tokens);
  return tokens;
}

typedef struct {
  Stemmers *stemmers;
  GPtrArray *tokens; /* Word* (not owned), NULL for a break */
} WordTokens;

static void
emit_word (const char *word, gsize len, gpointer data)
{
  WordTokens *wt = data;

  g_ptr_array_add (wt->tokens, word ? word_intern (wt->stemmers, word, len) : NULL);
}

/* Tokens as the thread's Words (NULL for a break). */
static GPtrArray *
tokenize_words (Stemmers *s, const char *text, gsize max_bytes)
{
  WordTokens wt = { s, g_ptr_array_sized_new (256) };

  tokenize_each (text, max_bytes, emit_word, &wt);
  return wt.tokens;
}

static Lang
detect (GPtrArray *tokens)
{
  guint hits[N_LANGS] = { 0 };
  Lang best = LANG_EN;

  for (guint i = 0; i < tokens->len && i < 3000; i++) {
    const Word *w = tokens->pdata[i];

    if (w == NULL)
      continue;
    for (guint l = 0; l < N_LANGS; l++)
      if (w->mask & (1u << l))
        hits[l]++;
  }
  for (guint l = 1; l < N_LANGS; l++)
    if (hits[l] > hits[best])
      best = (Lang) l;
  return best;
}

const char *
sg_topics_detect_language (const char *text)
{
  GHashTable *stops = stop_words ();
  guint hits[N_LANGS] = { 0 };
  Lang best = LANG_EN;

  g_return_val_if_fail (text != NULL, "en");
  /* Short words count here ("la", "el", "de"); tokenize() drops them for topics. */
  {
    g_auto (GStrv) words = g_strsplit_set (text, " \t\n\r.,;:!?()\"", -1);

    for (guint i = 0; words[i] && i < 5000; i++) {
      g_autofree char *low = g_utf8_strdown (words[i], -1);
      guint mask = GPOINTER_TO_UINT (g_hash_table_lookup (stops, low));

      for (guint l = 0; l < N_LANGS; l++)
        if (mask & (1u << l))
          hits[l]++;
    }
  }
  for (guint l = 1; l < N_LANGS; l++)
    if (hits[l] > hits[best])
      best = (Lang) l;
  return lang_codes[best];
}

static void
topic_free (gpointer p)
{
  SgTopic *t = p;

  g_free (t->stem);
  g_free (t->phrase);
  g_free (t->lang);
  g_free (t);
}

/* A word or two-word phrase being counted: interned stems, so keys compare by address. */
typedef struct {
  const char *a, *b;   /* stems; b NULL for a single word */
  const Word *wa, *wb; /* the words as first written */
  guint count;
} Counter;

/* Counters in an open-addressing table keyed by the stem pointers. */
typedef struct {
  GArray *items; /* Counter */
  guint *slots;  /* index in items + 1; 0 is empty */
  guint mask;    /* slots - 1, a power of two less one */
} Counts;

static guint
counts_hash (const char *a, const char *b)
{
  guint64 h = (guint64) (guintptr) a * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15) ^
              (guint64) (guintptr) b * G_GUINT64_CONSTANT (0xC2B2AE3D27D4EB4F);

  return (guint) (h >> 32) ^ (guint) h;
}

static void
counts_init (Counts *c)
{
  c->items = g_array_sized_new (FALSE, FALSE, sizeof (Counter), 64);
  c->mask = 255;
  c->slots = g_new0 (guint, c->mask + 1);
}

static void
counts_clear (Counts *c)
{
  g_array_unref (c->items);
  g_free (c->slots);
}

static void
counts_grow (Counts *c)
{
  guint mask = c->mask * 2 + 1;
  guint *slots = g_new0 (guint, mask + 1);

  for (guint i = 0; i < c->items->len; i++) {
    const Counter *k = &g_array_index (c->items, Counter, i);
    guint h = counts_hash (k->a, k->b) & mask;

    while (slots[h] != 0)
      h = (h + 1) & mask;
    slots[h] = i + 1;
  }
  g_free (c->slots);
  c->slots = slots;
  c->mask = mask;
}

static void
counts_add (Counts *c, const char *a, const char *b, const Word *wa, const Word *wb, guint weight)
{
  guint h = counts_hash (a, b) & c->mask;
  Counter *k;

  for (; c->slots[h] != 0; h = (h + 1) & c->mask) {
    k = &g_array_index (c->items, Counter, c->slots[h] - 1);
    if (k->a == a && k->b == b) {
      k->count += weight;
      return;
    }
  }
  g_array_append_vals (c->items, &(Counter) { a, b, wa, wb, weight }, 1);
  c->slots[h] = c->items->len;
  if (c->items->len * 2 > c->mask)
    counts_grow (c);
}

/* Heaviest first; a phrase says more than one of its words; then by key ("a b" for a phrase:
 * stems have no character below the space, so comparing the pair is comparing the key). */
static int
compare_counters (gconstpointer pa, gconstpointer pb)
{
  const Counter *ta = *(const Counter *const *) pa, *tb = *(const Counter *const *) pb;
  int r;

  if (ta->count != tb->count)
    return ta->count < tb->count ? 1 : -1;
  if ((ta->b != NULL) != (tb->b != NULL))
    return ta->b != NULL ? -1 : 1;
  r = strcmp (ta->a, tb->a);
  if (r != 0 || ta->b == NULL)
    return r;
  return strcmp (ta->b, tb->b);
}

/* Counts the words and two-word phrases of @tokens into @counts. */
static void
count_tokens (Stemmers *s, Counts *counts, GPtrArray *tokens, Lang lang, guint weight)
{
  const char *prev_stem = NULL;
  const Word *prev_word = NULL;

  for (guint i = 0; i < tokens->len; i++) {
    Word *w = tokens->pdata[i];
    const char *stem;

    if (w == NULL || w->mask != 0) {
      prev_stem = NULL;
      prev_word = NULL;
      continue;
    }
    stem = word_stem (s, w, lang);
    counts_add (counts, stem, NULL, w, NULL, weight);
    if (prev_stem != NULL)
      counts_add (counts, prev_stem, stem, prev_word, w, weight);
    prev_stem = stem;
    prev_word = w;
  }
}

GPtrArray *
sg_topics_extract (const char *subject, const char *body)
{
  Stemmers *s = stemmers_get ();
  g_autoptr (GPtrArray) subject_tokens = NULL;
  g_autoptr (GPtrArray) body_tokens = NULL;
  g_autoptr (GPtrArray) ranked = NULL;
  GPtrArray *out = g_ptr_array_new_with_free_func (topic_free);
  Counts counts;
  Lang lang;

  stem_cache_trim (s);
  /* "Re: [sqlite-dev] ...": a list's tag names the list, not the topic. */
  if (subject != NULL) {
    g_autofree char *clean = g_strdup (subject);
    char *open;

    while ((open = strchr (clean, '[')) != NULL && strchr (open, ']') != NULL) {
      char *close = strchr (open, ']');

      memmove (open, close + 1, strlen (close + 1) + 1);
    }
    subject_tokens = tokenize_words (s, clean, 1000);
  } else {
    subject_tokens = g_ptr_array_new ();
  }
  /* The greeting ("Hi Bob,", "Dear Ms Smith,") names a person, not a topic. */
  if (body != NULL) {
    const char *nl = strchr (body, '\n');
    gsize first = nl ? (gsize) (nl - body) : strlen (body);

    if (first > 0 && first < 60 && (body[first - 1] == ',' || body[first - 1] == '!' ||
                                    body[first - 1] == ':'))
      body += first;
  }
  body_tokens = tokenize_words (s, body ? body : "", SG_TOPICS_MAX_TEXT_BYTES);
  lang = detect (body_tokens->len > 0 ? body_tokens : subject_tokens);
  counts_init (&counts);
  count_tokens (s, &counts, subject_tokens, lang, 3);
  count_tokens (s, &counts, body_tokens, lang, 1);

  ranked = g_ptr_array_sized_new (counts.items->len);
  for (guint i = 0; i < counts.items->len; i++) {
    Counter *k = &g_array_index (counts.items, Counter, i);

    /* A two-word phrase seen once is no key phrase unless it is in the subject. */
    if (k->b != NULL && k->count < 2)
      continue;
    g_ptr_array_add (ranked, k);
  }
  g_ptr_array_sort (ranked, compare_counters);
  for (guint i = 0; i < ranked->len && i < SG_TOPICS_MAX_PER_MESSAGE; i++) {
    const Counter *k = ranked->pdata[i];
    SgTopic *t = g_new0 (SgTopic, 1);

    t->stem = k->b ? g_strconcat (k->a, " ", k->b, NULL) : g_strdup (k->a);
    t->phrase = k->b ? g_strconcat (k->wa->word, " ", k->wb->word, NULL) : g_strdup (k->wa->word);
    t->lang = g_strdup (lang_codes[lang]);
    t->count = k->count;
    g_ptr_array_add (out, t);
  }
  counts_clear (&counts);
  return out;
}

/* --- taxonomy ------------------------------------------------------------------------- */

typedef struct {
  char *tag;
  char *kind;
  guint min_messages;
  GPtrArray *stems;    /* char*: phrase keys in every language */
  GPtrArray *phrases;  /* char*: as written, parallel to stems */
} TaxTag;

struct _SgTaxonomy {
  GPtrArray *tags; /* TaxTag */
};

static void
tax_tag_free (gpointer p)
{
  TaxTag *t = p;

  g_free (t->tag);
  g_free (t->kind);
  g_ptr_array_unref (t->stems);
  g_ptr_array_unref (t->phrases);
  g_free (t);
}

void
sg_taxonomy_free (SgTaxonomy *taxonomy)
{
  if (taxonomy == NULL)
    return;
  g_ptr_array_unref (taxonomy->tags);
  g_free (taxonomy);
}

guint
sg_taxonomy_get_n_tags (const SgTaxonomy *taxonomy)
{
  return taxonomy->tags->len;
}

/* The key of @phrase in @lang, as sg_topics_extract() would make it; NULL if the phrase has
 * no word that could be a topic, or more than two. */
static char *
phrase_key (const char *phrase, Lang lang)
{
  g_autoptr (GPtrArray) tokens = tokenize (phrase, 200);
  GString *key = g_string_new (NULL);
  guint words = 0;

  for (guint i = 0; i < tokens->len; i++) {
    g_autofree char *stem = NULL;

    if (tokens->pdata[i] == NULL)
      continue;
    stem = stem_word (tokens->pdata[i], lang);
    if (key->len)
      g_string_append_c (key, ' ');
    g_string_append (key, stem);
    words++;
  }
  if (words == 0 || words > 2) {
    g_string_free (key, TRUE);
    return NULL;
  }
  return g_string_free (key, FALSE);
}

SgTaxonomy *
sg_taxonomy_load (const char *path, GError **error)
{
  static const char *const kinds[] = { "topic", "interest", "industry", "product", "meeting-kind",
                                       "other", NULL };
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  g_auto (GStrv) groups = NULL;
  SgTaxonomy *tax;

  g_return_val_if_fail (path != NULL, NULL);
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local)) {
    g_set_error (error, SG_TOPICS_ERROR, SG_TOPICS_ERROR_TAXONOMY, "%s: %s", path, local->message);
    return NULL;
  }
  tax = g_new0 (SgTaxonomy, 1);
  tax->tags = g_ptr_array_new_with_free_func (tax_tag_free);
  groups = g_key_file_get_groups (kf, NULL);
  for (guint g = 0; groups[g]; g++) {
    g_auto (GStrv) keys = g_key_file_get_keys (kf, groups[g], NULL, NULL);
    g_auto (GStrv) phrases = NULL;
    TaxTag *t = g_new0 (TaxTag, 1);

    t->tag = g_strstrip (g_strdup (groups[g]));
    t->kind = g_strdup ("topic");
    t->min_messages = 1;
    t->stems = g_ptr_array_new_with_free_func (g_free);
    t->phrases = g_ptr_array_new_with_free_func (g_free);
    g_ptr_array_add (tax->tags, t);
    for (guint k = 0; keys && keys[k]; k++) {
      if (strcmp (keys[k], "kind") == 0) {
        g_free (t->kind);
        t->kind = g_key_file_get_string (kf, groups[g], "kind", NULL);
        g_strstrip (t->kind);
        if (!g_strv_contains (kinds, t->kind)) {
          g_set_error (error, SG_TOPICS_ERROR, SG_TOPICS_ERROR_TAXONOMY,
                       "%s: [%s] kind: “%s” is not one of topic, interest, industry, product, "
                       "meeting-kind, other", path, groups[g], t->kind);
          sg_taxonomy_free (tax);
          return NULL;
        }
      } else if (strcmp (keys[k], "min-messages") == 0) {
        gint n = g_key_file_get_integer (kf, groups[g], "min-messages", &local);

        if (local != NULL || n < 1) {
          g_set_error (error, SG_TOPICS_ERROR, SG_TOPICS_ERROR_TAXONOMY,
                       "%s: [%s] min-messages: a number of at least 1 is expected", path, groups[g]);
          sg_taxonomy_free (tax);
          return NULL;
        }
        t->min_messages = (guint) n;
      } else if (strcmp (keys[k], "phrases") != 0) {
        g_set_error (error, SG_TOPICS_ERROR, SG_TOPICS_ERROR_TAXONOMY,
                     "%s: [%s] unknown key “%s” (known: phrases, kind, min-messages)", path,
                     groups[g], keys[k]);
        sg_taxonomy_free (tax);
        return NULL;
      }
    }
    phrases = g_key_file_get_string_list (kf, groups[g], "phrases", NULL, NULL);
    if (phrases == NULL || phrases[0] == NULL) {
      g_set_error (error, SG_TOPICS_ERROR, SG_TOPICS_ERROR_TAXONOMY,
                   "%s: [%s] has no phrases (phrases = word; two words; ...)", path, groups[g]);
      sg_taxonomy_free (tax);
      return NULL;
    }
    for (guint p = 0; phrases[p]; p++) {
      g_strstrip (phrases[p]);
      if (*phrases[p] == '\0')
        continue;
      for (guint l = 0; l < N_LANGS; l++) {
        char *key = phrase_key (phrases[p], (Lang) l);

        if (key == NULL) {
          g_set_error (error, SG_TOPICS_ERROR, SG_TOPICS_ERROR_TAXONOMY,
                       "%s: [%s] phrase “%s”: one or two words of at least three letters are "
                       "expected", path, groups[g], phrases[p]);
          sg_taxonomy_free (tax);
          return NULL;
        }
        if (g_ptr_array_find_with_equal_func (t->stems, key, g_str_equal, NULL)) {
          g_free (key);
          continue;
        }
        g_ptr_array_add (t->stems, key);
        g_ptr_array_add (t->phrases, g_strdup (phrases[p]));
      }
    }
  }
  return tax;
}

/* --- applying the taxonomy ------------------------------------------------------------- */

static gboolean
exec_sql (SgStore *store, const char *sql, GError **error)
{
  char *msg = NULL;

  if (sqlite3_exec (_sg_store_get_db (store), sql, NULL, NULL, &msg) != SQLITE_OK) {
    g_set_error (error, SG_STORE_ERROR, SG_STORE_ERROR_SQL, "topics: %s", msg ? msg : "error");
    sqlite3_free (msg);
    return FALSE;
  }
  return TRUE;
}

/* Logs the topic tag changes of one kind ("add" or "remove") for the rows @sql selects:
 * entity_type, natural key, tag, evidence. */
static gboolean
log_changes (SgStore *store, const char *sql, const char *op, guint *n, GError **error)
{
  sqlite3_stmt *stmt = _sg_store_prepare (store, sql, error);
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  int rc;

  if (stmt == NULL)
    return FALSE;
  /* Collected first: the change log is written to while no statement is reading. */
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    char **row = g_new0 (char *, 5);

    for (int c = 0; c < 4; c++)
      row[c] = g_strdup ((const char *) sqlite3_column_text (stmt, c));
    g_ptr_array_add (rows, row);
  }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE) {
    _sg_store_set_error (store, error, "topics");
    return FALSE;
  }
  for (guint i = 0; i < rows->len; i++) {
    char **row = rows->pdata[i];
    g_autoptr (JsonBuilder) b = json_builder_new ();
    g_autoptr (JsonNode) node = NULL;
    g_autofree char *fields = NULL;
    g_autofree char *key = NULL;

    if (row[1] == NULL || row[2] == NULL)
      continue;
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "entity_type");
    json_builder_add_string_value (b, row[0]);
    json_builder_set_member_name (b, "tag");
    json_builder_add_string_value (b, row[2]);
    json_builder_set_member_name (b, "origin");
    json_builder_add_string_value (b, "topic");
    if (row[3] != NULL) {
      json_builder_set_member_name (b, "evidence");
      json_builder_add_string_value (b, row[3]);
    }
    json_builder_end_object (b);
    node = json_builder_get_root (b);
    fields = json_to_string (node, FALSE);
    key = g_strdup_printf ("%s:%s#%s", row[0], row[1], row[2]);
    if (!_sg_store_log_change (store, "tag_assignment", key, op, fields, error))
      return FALSE;
    if (n)
      (*n)++;
  }
  return TRUE;
}

#define NATURAL_KEY(alias) \
  "CASE " alias ".entity_type " \
  "  WHEN 'person' THEN (SELECT address FROM addresses WHERE person_id = " alias ".entity_id ORDER BY id LIMIT 1) " \
  "  WHEN 'organisation' THEN (SELECT domain FROM organisations WHERE id = " alias ".entity_id) " \
  "  ELSE (SELECT message_id FROM interactions WHERE id = " alias ".entity_id) END"

gboolean
sg_topics_apply_taxonomy (SgStore *store, const SgTaxonomy *taxonomy, guint *n_assigned,
                          GError **error)
{
  sqlite3_stmt *stmt;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  guint added = 0;

  g_return_val_if_fail (store != NULL && taxonomy != NULL, FALSE);
  if (n_assigned)
    *n_assigned = 0;
  if (!exec_sql (store, "SAVEPOINT topics_taxonomy; "
                        "CREATE TEMP TABLE IF NOT EXISTS topic_tags "
                        "  (tag_id INTEGER, entity_type TEXT, entity_id INTEGER, evidence TEXT, "
                        "   PRIMARY KEY (tag_id, entity_type, entity_id)); "
                        "DELETE FROM taxonomy_map; DELETE FROM temp.topic_tags;", error))
    return FALSE;

  for (guint i = 0; i < taxonomy->tags->len; i++) {
    TaxTag *t = taxonomy->tags->pdata[i];
    gint64 tag_id = 0;

    stmt = _sg_store_prepare (store,
        "INSERT INTO tags (name, kind, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING", error);
    if (stmt == NULL)
      goto fail;
    sqlite3_bind_text (stmt, 1, t->tag, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, t->kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 3, now);
    if (!_sg_store_exec_stmt (store, stmt, error))
      goto fail;
    stmt = _sg_store_prepare (store, "SELECT id FROM tags WHERE name = ?", error);
    if (stmt == NULL)
      goto fail;
    sqlite3_bind_text (stmt, 1, t->tag, -1, SQLITE_STATIC);
    if (sqlite3_step (stmt) == SQLITE_ROW)
      tag_id = sqlite3_column_int64 (stmt, 0);
    sqlite3_reset (stmt);
    for (guint s = 0; s < t->stems->len; s++) {
      stmt = _sg_store_prepare (store, "INSERT INTO taxonomy_map VALUES (?, ?, ?, ?)", error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, tag_id);
      sqlite3_bind_text (stmt, 2, t->stems->pdata[s], -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 3, t->phrases->pdata[s], -1, SQLITE_STATIC);
      sqlite3_bind_int (stmt, 4, (int) t->min_messages);
      if (!_sg_store_exec_stmt (store, stmt, error))
        goto fail;
    }
  }

  /* What the taxonomy says now: interactions, and the contacts and external organisations
   * taking part in them, when enough messages name the topic. */
  if (!exec_sql (store,
        "INSERT OR IGNORE INTO temp.topic_tags "
        "SELECT m.tag_id, 'interaction', it.interaction_id, group_concat(DISTINCT m.phrase) "
        "FROM interaction_topics it JOIN taxonomy_map m ON m.stem = it.stem "
        "GROUP BY m.tag_id, it.interaction_id; "
        "INSERT OR IGNORE INTO temp.topic_tags "
        "SELECT m.tag_id, 'person', p.id, "
        "  group_concat(DISTINCT m.phrase) || ' in ' || count(DISTINCT it.interaction_id) || ' message(s)' "
        "FROM interaction_topics it JOIN taxonomy_map m ON m.stem = it.stem "
        "JOIN participants pa ON pa.interaction_id = it.interaction_id "
        "JOIN addresses a ON a.id = pa.address_id JOIN people p ON p.id = a.person_id "
        "WHERE p.kind = 'contact' GROUP BY m.tag_id, p.id "
        "HAVING count(DISTINCT it.interaction_id) >= min(m.min_messages); "
        "INSERT OR IGNORE INTO temp.topic_tags "
        "SELECT m.tag_id, 'organisation', d.org_id, "
        "  group_concat(DISTINCT m.phrase) || ' in ' || count(DISTINCT it.interaction_id) || ' message(s)' "
        "FROM interaction_topics it JOIN taxonomy_map m ON m.stem = it.stem "
        "JOIN participants pa ON pa.interaction_id = it.interaction_id "
        "JOIN addresses a ON a.id = pa.address_id JOIN org_domains d ON d.domain = a.org_domain "
        "JOIN organisations o ON o.id = d.org_id "
        "WHERE o.kind = 'external' GROUP BY m.tag_id, d.org_id "
        "HAVING count(DISTINCT it.interaction_id) >= min(m.min_messages);", error))
    goto fail;

  /* Topic tags no longer justified go (a person's removal stays: removed = 1 rows). */
  if (!log_changes (store,
        "SELECT ta.entity_type, " NATURAL_KEY ("ta") ", (SELECT name FROM tags WHERE id = ta.tag_id), ta.evidence "
        "FROM tag_assignments ta WHERE ta.origin = 'topic' AND ta.removed = 0 AND NOT EXISTS "
        "(SELECT 1 FROM temp.topic_tags n WHERE n.tag_id = ta.tag_id AND n.entity_type = ta.entity_type "
        " AND n.entity_id = ta.entity_id)", "remove", NULL, error) ||
      !exec_sql (store,
        "DELETE FROM tag_assignments WHERE origin = 'topic' AND removed = 0 AND NOT EXISTS "
        "(SELECT 1 FROM temp.topic_tags n WHERE n.tag_id = tag_assignments.tag_id "
        " AND n.entity_type = tag_assignments.entity_type AND n.entity_id = tag_assignments.entity_id)", error))
    goto fail;
  /* New ones come; kept ones get the new evidence. */
  if (!log_changes (store,
        "SELECT n.entity_type, " NATURAL_KEY ("n") ", (SELECT name FROM tags WHERE id = n.tag_id), n.evidence "
        "FROM temp.topic_tags n WHERE NOT EXISTS (SELECT 1 FROM tag_assignments ta WHERE "
        " ta.tag_id = n.tag_id AND ta.entity_type = n.entity_type AND ta.entity_id = n.entity_id)",
        "add", &added, error))
    goto fail;
  stmt = _sg_store_prepare (store,
      "INSERT INTO tag_assignments (tag_id, entity_type, entity_id, origin, rule, evidence, created_at) "
      "SELECT tag_id, entity_type, entity_id, 'topic', 'taxonomy', evidence, ? FROM temp.topic_tags WHERE true "
      "ON CONFLICT (tag_id, entity_type, entity_id) DO UPDATE SET evidence = excluded.evidence "
      "WHERE tag_assignments.origin = 'topic' AND tag_assignments.removed = 0", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, now);
  if (!_sg_store_exec_stmt (store, stmt, error))
    goto fail;
  /* taxonomy_map stays: topic listings name the tags a phrase maps to. */
  if (!exec_sql (store, "DELETE FROM temp.topic_tags; RELEASE topics_taxonomy;", error))
    goto fail;
  if (n_assigned)
    *n_assigned = added;
  return TRUE;

fail:
  exec_sql (store, "ROLLBACK TO topics_taxonomy; RELEASE topics_taxonomy;", NULL);
  return FALSE;
}
