"""Search table: each row's story (its article's story group, else minus the article's
id), kept by the search triggers, so search folds the reports of one story without a
look-up in the wide article table for every match. PostgreSQL only (SQLite folds in its
FTS5 query). The statements live in ``articles/search_index.py``.
"""

from django.db import migrations

from articles import search_index


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0012_article_date_from_fetch_time_db_default"),
    ]

    operations = [
        migrations.RunPython(
            search_index.on_postgres(search_index.POSTGRES_STORY_FORWARD),
            search_index.on_postgres(search_index.POSTGRES_STORY_BACKWARD),
            elidable=False,
        ),
    ]
