"""Search table: each row's topic ids (kept by a trigger on article topics), and one GIN
index over (published_at, source_id, topic_ids, vector) instead of a btree and a GIN.

With separate indexes the planner may walk a date window through the btree testing
each row's vector, or a topic's every article, costs it does not see; with btree_gin one
index scan finds "these words, since then, in this topic". PostgreSQL only; on SQLite
only the unused btree goes. The statements live in ``articles/search_index.py``.
"""

from django.db import migrations

from articles import search_index


class Migration(migrations.Migration):

    dependencies = [
        ('articles', '0009_articletopic_topic_article'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='articlesearch',
            name='articlesearch_newest',
        ),
        migrations.RunPython(
            search_index.on_postgres(search_index.POSTGRES_DATE_VECTOR_FORWARD),
            search_index.on_postgres(search_index.POSTGRES_DATE_VECTOR_BACKWARD),
            elidable=False,
        ),
    ]
