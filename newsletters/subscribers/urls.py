"""Public subscription URLs: subscribe, confirm, preferences (with my data and erasure),
unsubscribe, bounce webhook."""

from django.urls import path

from newsletters.subscribers import privacy_views, views

app_name = "subscriptions"

urlpatterns = [
    path("subscribe/", views.subscribe_view, name="subscribe"),
    path("subscribe/confirm/<str:token>/", views.confirm_view, name="confirm"),
    path("preferences/<str:token>/", views.preferences_view, name="preferences"),
    path("preferences/<str:token>/my-data/", privacy_views.my_data_view, name="my_data"),
    path("preferences/<str:token>/erase/", privacy_views.erase_view, name="erase"),
    path("unsubscribe/<str:token>/", views.unsubscribe_view, name="unsubscribe"),
    path("webhooks/email/", views.email_webhook_view, name="email_webhook"),
]
