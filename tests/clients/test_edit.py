"""Adding, editing and archiving clients: what is saved, what is audited, and what bad
input leaves untouched."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from clients import services
from clients.models import Client
from practice.models import AuditLog
from tests.factories import ClientFactory, PayerFactory
from tests.helpers import signed_in, url


def form_data(**overrides):
    data = {
        "first_name": "Maria",
        "last_name": "Silva",
        "preferred_name": "",
        "email": "maria@mail.test",
        "phone": "207-555-0303",
        "date_of_birth": "1990-05-01",
        "address": "1 Main St",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
class TestCreate:
    def test_given_a_valid_form_when_adding_then_the_client_exists_and_is_audited(self, tenant, owner_client):
        response = owner_client.post(
            url(tenant, "clients:new"), form_data(clinicians=[tenant.clinician.pk, tenant.clinician2.pk])
        )
        client = Client.objects.get(practice=tenant.practice, email="maria@mail.test")
        assert response.status_code == 302
        assert response["Location"] == url(tenant, "clients:detail", client_id=client.pk)
        assert set(client.clinicians.all()) == {tenant.clinician, tenant.clinician2}
        row = AuditLog.objects.get(action="client.created")
        assert (row.actor, row.object_id) == (tenant.owner, str(client.pk))

    def test_a_clinician_adding_a_client_is_assigned_to_it(self, tenant):
        clara = signed_in(tenant.clinician)
        clara.post(url(tenant, "clients:new"), form_data())
        client = Client.objects.get(email="maria@mail.test")
        assert list(client.clinicians.all()) == [tenant.clinician]
        assert clara.get(url(tenant, "clients:detail", client_id=client.pk)).status_code == 200

    @pytest.mark.parametrize(
        ("overrides", "field", "message"),
        [
            ({"email": "not-an-email"}, "email", "Enter a valid email address."),
            ({"first_name": ""}, "first_name", "This field is required."),
            ({"date_of_birth": "2999-01-01"}, "date_of_birth", services.DATE_OF_BIRTH_IN_FUTURE),
        ],
    )
    def test_bad_input_shows_a_field_error_and_saves_nothing(self, tenant, owner_client, overrides, field, message):
        response = owner_client.post(url(tenant, "clients:new"), form_data(**overrides))
        assert response.status_code == 400
        assert message in response.context["form"].errors[field]
        assert message in response.content.decode()
        assert not Client.objects.exists()
        assert not AuditLog.objects.filter(action="client.created").exists()

    def test_a_clinician_of_another_practice_is_refused(self, tenant, other_tenant, owner_client):
        response = owner_client.post(url(tenant, "clients:new"), form_data(clinicians=[other_tenant.clinician.pk]))
        assert response.status_code == 400
        assert services.CLINICIAN_NOT_IN_PRACTICE in response.context["form"].errors["clinicians"]
        assert not Client.objects.exists()

    def test_a_member_who_is_not_a_clinician_cannot_be_assigned(self, tenant, owner_client):
        response = owner_client.post(url(tenant, "clients:new"), form_data(clinicians=[tenant.biller.pk]))
        assert services.CLINICIAN_NOT_IN_PRACTICE in response.context["form"].errors["clinicians"]
        assert not Client.objects.exists()

    def test_a_payer_of_another_practice_is_refused(self, tenant, other_tenant, owner_client):
        foreign_payer = PayerFactory(practice=other_tenant.practice)
        response = owner_client.post(url(tenant, "clients:new"), form_data(payer=foreign_payer.pk))
        assert response.status_code == 400
        assert services.PAYER_NOT_IN_PRACTICE in response.context["form"].errors["payer"]
        assert not Client.objects.exists()

    def test_the_service_refuses_foreign_links_whoever_calls_it(self, tenant, other_tenant):
        foreign_payer = PayerFactory(practice=other_tenant.practice)
        with pytest.raises(ValidationError) as exc:
            services.client_create(
                practice=tenant.practice,
                actor=tenant.owner,
                first_name="A",
                last_name="B",
                clinicians=[other_tenant.clinician],
                payer=foreign_payer,
            )
        assert exc.value.message_dict == {
            "clinicians": [services.CLINICIAN_NOT_IN_PRACTICE],
            "payer": [services.PAYER_NOT_IN_PRACTICE],
        }
        assert not Client.objects.exists()


@pytest.mark.django_db
class TestEdit:
    def test_given_a_client_when_editing_then_changes_are_saved_and_audited(self, tenant, owner_client, clara_client):
        response = owner_client.post(
            url(tenant, "clients:settings", client_id=clara_client.pk),
            form_data(
                first_name="Ana", last_name="Lima-Souza", email="ana@mail.test", clinicians=[tenant.clinician2.pk]
            ),
        )
        assert response.status_code == 302
        clara_client.refresh_from_db()
        assert clara_client.last_name == "Lima-Souza"
        assert list(clara_client.clinicians.all()) == [tenant.clinician2]
        row = AuditLog.objects.get(action="client.updated")
        assert row.changes["last_name"] == ["Lima", "Lima-Souza"]
        assert row.changes["clinicians"] == ["clinician@harbour.test", "clinician2@harbour.test"]

    def test_the_settings_form_shows_the_current_values(self, tenant, owner_client, clara_client):
        html = owner_client.get(url(tenant, "clients:settings", client_id=clara_client.pk)).content.decode()
        assert 'value="ana@mail.test"' in html
        assert "Archive client" in html

    def test_invalid_edit_changes_nothing(self, tenant, owner_client, clara_client):
        response = owner_client.post(
            url(tenant, "clients:settings", client_id=clara_client.pk),
            form_data(
                last_name="Changed", email="bad@", date_of_birth=str(tenant.practice.local_today() + timedelta(days=1))
            ),
        )
        assert response.status_code == 400
        errors = response.context["form"].errors
        assert set(errors) == {"email", "date_of_birth"}
        clara_client.refresh_from_db()
        assert clara_client.last_name == "Lima"
        assert not AuditLog.objects.filter(action="client.updated").exists()

    def test_a_clinician_editing_stays_assigned(self, tenant, clara_client):
        signed_in(tenant.clinician).post(
            url(tenant, "clients:settings", client_id=clara_client.pk), form_data(clinicians=[tenant.clinician2.pk])
        )
        assert set(clara_client.clinicians.all()) == {tenant.clinician, tenant.clinician2}

    def test_saving_without_changes_writes_no_update_row(self, tenant, owner_client):
        client = ClientFactory(
            practice=tenant.practice, **{k: v for k, v in form_data().items() if k != "date_of_birth"}
        )
        client.date_of_birth = "1990-05-01"
        client.save()
        owner_client.post(url(tenant, "clients:settings", client_id=client.pk), form_data())
        assert not AuditLog.objects.filter(action="client.updated").exists()


@pytest.mark.django_db
class TestArchive:
    def test_archive_and_restore(self, tenant, owner_client, clara_client):
        response = owner_client.post(url(tenant, "clients:archive", client_id=clara_client.pk))
        assert response.status_code == 302
        clara_client.refresh_from_db()
        assert clara_client.status == Client.Status.ARCHIVED
        assert owner_client.get(url(tenant, "clients:list")).context["page"].paginator.count == 0
        owner_client.post(url(tenant, "clients:unarchive", client_id=clara_client.pk))
        clara_client.refresh_from_db()
        assert clara_client.status == Client.Status.ACTIVE
        actions = list(
            AuditLog.objects.filter(action__startswith="client.")
            .exclude(action="client.viewed")
            .order_by("id")
            .values_list("action", flat=True)
        )
        assert actions == ["client.archived", "client.unarchived"]

    def test_archiving_twice_says_so_and_writes_one_row(self, tenant, owner_client, clara_client):
        owner_client.post(url(tenant, "clients:archive", client_id=clara_client.pk))
        response = owner_client.post(url(tenant, "clients:archive", client_id=clara_client.pk), follow=True)
        assert services.CLIENT_ALREADY_ARCHIVED in response.content.decode()
        assert AuditLog.objects.filter(action="client.archived").count() == 1

    def test_archive_is_post_only(self, tenant, owner_client, clara_client):
        assert owner_client.get(url(tenant, "clients:archive", client_id=clara_client.pk)).status_code == 405
