from django.urls import path

from . import views

app_name = "clients"

urlpatterns = [
    path("", views.client_list, name="list"),
    path("new/", views.client_new, name="new"),
    path("<int:client_id>/", views.client_detail, name="detail"),
    path("<int:client_id>/appointments/", views.client_appointments, name="appointments"),
    path("<int:client_id>/billing/", views.client_billing, name="billing"),
    path("<int:client_id>/settings/", views.client_settings, name="settings"),
    path("<int:client_id>/archive/", views.client_archive, name="archive"),
    path("<int:client_id>/unarchive/", views.client_unarchive, name="unarchive"),
    path("<int:client_id>/portal/invite/", views.client_portal_invite, name="portal_invite"),
    path("<int:client_id>/portal/revoke/", views.client_portal_revoke, name="portal_revoke"),
    path("<int:client_id>/payer/", views.payer_new, name="payer_new"),
    path("<int:client_id>/payer/edit/", views.payer_edit, name="payer_edit"),
]
