"""The demo app: ``manage.py demo`` builds the demo world."""

from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo world (``manage.py demo``): it uses both apps and owns no models."""

    name = "digest.demo"
    label = "demo"
    verbose_name = "Demo world"
