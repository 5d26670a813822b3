"""URLs of click tracking: the redirect and the (optional) open pixel."""

from django.urls import path

from newsletters import click_views

app_name = "clicks"

urlpatterns = [
    path("r/<str:token>", click_views.follow_view, name="follow"),
    path("o/<str:token>.gif", click_views.open_view, name="open"),
]
