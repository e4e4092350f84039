from django.urls import path

from . import views

app_name = "appointments"

urlpatterns = [
    path("calendar/", views.calendar_view, name="calendar"),
    path("appointments/new/", views.appointment_new, name="new"),
    path("appointments/<int:appointment_id>/", views.appointment_detail, name="detail"),
    path("appointments/<int:appointment_id>/edit/", views.appointment_edit, name="edit"),
    path("appointments/<int:appointment_id>/complete/", views.appointment_complete, name="complete"),
    path("appointments/<int:appointment_id>/no-show/", views.appointment_no_show, name="no_show"),
    path("appointments/<int:appointment_id>/cancel/", views.appointment_cancel, name="cancel"),
    path(
        "appointments/<int:appointment_id>/generate-items/",
        views.appointment_generate_items,
        name="generate_items",
    ),
    path(
        "appointments/<int:appointment_id>/billing-details/<int:detail_id>/",
        views.billing_detail_edit,
        name="billing_detail_edit",
    ),
    path("settings/services/", views.services_list, name="services"),
    path("settings/services/new/", views.service_new, name="service_new"),
    path("settings/services/<int:service_id>/", views.service_edit, name="service_edit"),
    path("settings/services/<int:service_id>/archive/", views.service_archive, name="service_archive"),
    path("settings/billing-details/", views.billing_details, name="billing_details"),
    path("settings/billing-details/tax-rates/new/", views.tax_rate_new, name="tax_rate_new"),
    path("settings/billing-details/tax-rates/<int:tax_rate_id>/", views.tax_rate_edit, name="tax_rate_edit"),
]
