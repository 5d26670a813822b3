"""The search table's word pairs (PostgreSQL only): a phrase's rows found by the index."""

from django.db import migrations

from articles.search_index import (
    POSTGRES_PAIRS_BACKWARD,
    POSTGRES_PAIRS_FORWARD,
    on_postgres,
)


class Migration(migrations.Migration):
    dependencies = [("articles", "0013_search_story")]

    operations = [
        migrations.RunPython(
            on_postgres(POSTGRES_PAIRS_FORWARD), on_postgres(POSTGRES_PAIRS_BACKWARD)
        ),
    ]
