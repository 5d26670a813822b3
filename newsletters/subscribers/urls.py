"""Public subscription URLs: subscribe, confirm, preferences, unsubscribe, bounce webhook."""

from django.urls import path

from newsletters.subscribers import views

app_name = "subscriptions"

urlpatterns = [
    path("subscribe/", views.subscribe_view, name="subscribe"),
    path("subscribe/confirm/<str:token>/", views.confirm_view, name="confirm"),
    path("preferences/<str:token>/", views.preferences_view, name="preferences"),
    path("unsubscribe/<str:token>/", views.unsubscribe_view, name="unsubscribe"),
    path("webhooks/email/", views.email_webhook_view, name="email_webhook"),
]
