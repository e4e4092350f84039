from django.urls import path

from .views import appointments, calendar, price_list

app_name = "appointments"

urlpatterns = [
    path("calendar/", calendar.calendar_view, name="calendar"),
    path("appointments/new/", appointments.appointment_new, name="new"),
    path("appointments/<int:appointment_id>/", appointments.appointment_detail, name="detail"),
    path("appointments/<int:appointment_id>/edit/", appointments.appointment_edit, name="edit"),
    path("appointments/<int:appointment_id>/complete/", appointments.appointment_complete, name="complete"),
    path("appointments/<int:appointment_id>/no-show/", appointments.appointment_no_show, name="no_show"),
    path("appointments/<int:appointment_id>/cancel/", appointments.appointment_cancel, name="cancel"),
    path(
        "appointments/<int:appointment_id>/generate-items/",
        appointments.appointment_generate_items,
        name="generate_items",
    ),
    path("settings/services/", price_list.services_list, name="services"),
    path("settings/services/new/", price_list.service_new, name="service_new"),
    path("settings/services/<int:service_id>/", price_list.service_edit, name="service_edit"),
    path("settings/services/<int:service_id>/archive/", price_list.service_archive, name="service_archive"),
]
