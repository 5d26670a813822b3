from django.urls import path

from articles import views

app_name = "articles"

urlpatterns = [
    path("", views.home, name="home"),
    path("topics/", views.topic_list, name="topic_list"),
    path("topics/<slug:slug>/", views.topic_detail, name="topic_detail"),
    path("articles/<int:pk>-<slug:slug>/", views.article_detail, name="article_detail"),
    path("events/<int:pk>/", views.event_detail, name="event_detail"),
]
