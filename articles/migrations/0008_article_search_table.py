"""Search that stays fast as the archive grows: a narrow search table (PostgreSQL), FTS5 (SQLite).

PostgreSQL: the ``ArticleSearch`` table (id, published_at, source_id, vector) filled by
triggers on ``articles_article``, with a GIN index on the vector; the wide table's own
``search_vector`` column, trigger and index from ``0002`` are dropped. SQLite: an FTS5
table over title and text with its triggers (skipped where SQLite lacks FTS5). Each
vendor's statements run only on that vendor. The statements live in
``articles/search_index.py``.
"""

import importlib

import django.contrib.postgres.search
import django.db.models.deletion
from django.db import migrations, models

from articles import search_index


def forward(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        for statement in search_index.POSTGRES_FORWARD:
            schema_editor.execute(statement)
    elif connection.vendor == "sqlite":
        search_index.create_sqlite_index(connection)


def backward(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        for statement in search_index.POSTGRES_BACKWARD:
            schema_editor.execute(statement)
        # Back to 0002's column on the wide table.
        old = importlib.import_module("articles.migrations.0002_article_full_text_search")
        for statement in old.FORWARD_SQL:
            schema_editor.execute(statement)
    elif connection.vendor == "sqlite":
        for statement in search_index.SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('articles', '0007_boilerplate_per_outlet'),
    ]

    operations = [
        migrations.CreateModel(
            name='ArticleSearch',
            fields=[
                ('article', models.OneToOneField(on_delete=django.db.models.deletion.DO_NOTHING, primary_key=True, related_name='+', serialize=False, to='articles.article')),
                ('published_at', models.DateTimeField(null=True)),
                ('source_id', models.BigIntegerField()),
                ('vector', django.contrib.postgres.search.SearchVectorField(null=True)),
            ],
            options={
                'indexes': [models.Index(models.OrderBy(models.F('published_at'), descending=True), models.OrderBy(models.F('article_id'), descending=True), name='articlesearch_newest')],
            },
        ),
        migrations.RunPython(forward, backward, elidable=False),
    ]
