"""A URL configuration with one view that fails, to look at the 500 page."""

from django.urls import include, path


def fail(request):  # type: ignore[no-untyped-def]
    raise RuntimeError("database password is hunter2")


urlpatterns = [path("fail/", fail), path("", include("practice.urls"))]
