"""The newsletters app: issues, compiling, rendering, sending and subscribers."""

from importlib import import_module

from django.apps import AppConfig


class NewslettersConfig(AppConfig):
    name = "newsletters"
    verbose_name = "Newsletter"

    def ready(self) -> None:
        # Registers the app's tasks, so services can enqueue them by name.
        import_module(f"{self.name}.tasks")
        # Connects the anymail tracking signal (ESP bounce and complaint webhooks).
        import_module(f"{self.name}.sending.esp_events")
        # Registers the deploy checks (sender identity in every issue's footer).
        import_module(f"{self.name}.checks")
