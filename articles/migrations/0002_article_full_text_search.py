"""Full-text search for articles on PostgreSQL; nothing at all on other databases.

Adds ``articles_article.search_vector`` (tsvector: title weight A, body weight B),
a trigger that keeps it current on INSERT and on UPDATE of title or body_text,
and a GIN index on it. The column is deliberately not a model field: the model
stays database-neutral and ``makemigrations`` never sees it; ``articles/search.py``
reads it with RawSQL. A trigger rather than a generated column, so other
migrations may still change the type of ``title`` or ``body_text``.
"""

from django.db import migrations

from articles import search_index

# to_tsvector refuses documents whose vector passes 1 MB; the first 200,000
# characters of a body are plenty to find it by.
FORWARD_SQL = [
    "ALTER TABLE articles_article ADD COLUMN search_vector tsvector",
    """
    CREATE FUNCTION articles_article_search_vector_update() RETURNS trigger AS $$
    BEGIN
        NEW.search_vector :=
            setweight(to_tsvector('english'::regconfig, coalesce(NEW.title, '')), 'A')
            || setweight(
                to_tsvector('english'::regconfig, left(coalesce(NEW.body_text, ''), 200000)),
                'B'
            );
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER articles_article_search_vector_trigger
    BEFORE INSERT OR UPDATE OF title, body_text ON articles_article
    FOR EACH ROW EXECUTE FUNCTION articles_article_search_vector_update()
    """,
    # Fill existing rows: touching title fires the trigger.
    "UPDATE articles_article SET title = title",
    "CREATE INDEX articles_article_search_vector_gin "
    "ON articles_article USING GIN (search_vector)",
]

BACKWARD_SQL = [
    "DROP INDEX IF EXISTS articles_article_search_vector_gin",
    "DROP TRIGGER IF EXISTS articles_article_search_vector_trigger ON articles_article",
    "DROP FUNCTION IF EXISTS articles_article_search_vector_update()",
    "ALTER TABLE articles_article DROP COLUMN IF EXISTS search_vector",
]


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(search_index.on_postgres(FORWARD_SQL), search_index.on_postgres(BACKWARD_SQL), elidable=False),
    ]
