"""The "Editors" group: what the people who compile and send issues may do.

Editors read and re-file articles (topics, tags, story groups), read sources, keep
events, compile issues and their items, and schedule and send them
(``newsletters.send_issue``). Subscribers and deliveries are the operators' business.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "Editors"

EDITOR_PERMISSIONS = {
    "articles": {
        "article": ["view", "change"],
        "articletopic": ["view", "add", "change", "delete"],
        "topic": ["view"],
        "source": ["view"],
        "storygroup": ["view"],
        "event": ["view", "add", "change"],
    },
    "newsletters": {
        "issue": ["view", "add", "change", "send"],
        "issueitem": ["view", "add", "change", "delete"],
        "issuestatuschange": ["view"],
    },
}


def _codename(action: str, model: str) -> str:
    return "send_issue" if action == "send" else f"{action}_{model}"


def create_editors_group(apps, schema_editor):
    # On a fresh database the permissions are created only after all migrations
    # (post_migrate); create them now so the group can be given them.
    # create_permissions skips an app whose models_module is unset, as it is in the
    # migration's historical apps; set it for the call and put back what was there.
    for app_config in apps.get_app_configs():
        previous = getattr(app_config, "models_module", None)
        app_config.models_module = previous or True
        try:
            create_permissions(app_config, apps=apps, verbosity=0)
        finally:
            app_config.models_module = previous

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP_NAME)
    wanted = []
    for app_label, models in EDITOR_PERMISSIONS.items():
        for model, actions in models.items():
            for action in actions:
                wanted.append(
                    Permission.objects.get(
                        content_type__app_label=app_label,
                        content_type__model=model,
                        codename=_codename(action, model),
                    )
                )
    group.permissions.add(*wanted)


def remove_editors_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("articles", "0001_initial"),
        ("newsletters", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_editors_group, remove_editors_group),
    ]
