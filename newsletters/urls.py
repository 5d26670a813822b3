from django.urls import path

from newsletters import views

app_name = "newsletters"

urlpatterns = [
    path("issues/", views.issue_list, name="issue_list"),
    path("issues/<int:number>/", views.issue_detail, name="issue_detail"),
]
