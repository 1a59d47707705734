from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
def test_home_page_is_served(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert b"Sanctuary Access for Eligible Residents" in response.content


@pytest.mark.django_db
def test_healthz_reports_ok_without_details_to_anonymous(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
