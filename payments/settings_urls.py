from django.urls import path

from . import settings_views as views

app_name = "payments"

urlpatterns = [
    path("settings/online-payments/", views.online_payments, name="online_payments"),
    path("settings/online-payments/setup/", views.connect_start, name="connect_start"),
    path("settings/online-payments/setup/return/", views.connect_return, name="connect_return"),
    path("settings/online-payments/setup/refresh/", views.connect_refresh, name="connect_refresh"),
    path("settings/online-payments/dashboard/", views.connect_dashboard, name="connect_dashboard"),
    path("settings/online-payments/disconnect/", views.connect_disconnect, name="connect_disconnect"),
]
