"""Keep article rows narrow on PostgreSQL; nothing at all on other databases.

Article rows carry long text (body_html, body_text, summary, search_vector). With
PostgreSQL's default, values up to about 2 kB stay inline, so a row is several
kilobytes and scanning the list of matches for a common word reads tens of
megabytes. A low ``toast_tuple_target`` moves long values out of line, so lists,
counts and full-text candidate scans touch a heap a fifth of the size. Applies to
rows written from now on (``VACUUM FULL articles_article`` rewrites older ones).
"""

from django.db import migrations


def _set_target(value):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        if value is None:
            schema_editor.execute("ALTER TABLE articles_article RESET (toast_tuple_target)")
        else:
            schema_editor.execute(
                f"ALTER TABLE articles_article SET (toast_tuple_target = {int(value)})"
            )

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0004_article_minhash"),
    ]

    operations = [
        migrations.RunPython(_set_target(256), _set_target(None), elidable=False),
    ]
