"""The core app: what every part shares and that knows no app (the worker heartbeat's
table, its task, the ``run`` command of ``make run``)."""

from importlib import import_module

from django.apps import AppConfig
from django.conf import settings

from digest.core.broker import FILESYSTEM_BROKER_URL, BrokerFolderError, prepare_broker_folders


class CoreConfig(AppConfig):
    name = "digest.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        # Registers the app's tasks, so beat and services can name them.
        import_module(f"{self.name}.tasks")
        # Every process that may send or take a task (web, shell, worker) makes sure the
        # embedded broker's folders exist and take files; one line if they do not, rather
        # than a failure at the first enqueue.
        if settings.CELERY_BROKER_URL == FILESYSTEM_BROKER_URL:
            try:
                prepare_broker_folders(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
            except BrokerFolderError as error:
                raise SystemExit(f"Configuration error: {error}") from None
