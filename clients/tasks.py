"""The client portal's background jobs: thin wrappers around clients.portal_signin."""

from celery import shared_task


@shared_task(name="clients.tasks.portal_sign_in_email")
def portal_sign_in_email(link_id: int) -> None:
    from .portal_signin import portal_sign_in_link_send

    portal_sign_in_link_send(link_id=link_id)


@shared_task(name="clients.tasks.portal_sign_in_links_prune")
def portal_sign_in_links_prune() -> None:
    from .portal_signin import portal_sign_in_links_prune as prune

    prune()
