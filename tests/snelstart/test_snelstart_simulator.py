"""The SnelStart simulator answers as the gateway and the API do: refusals in their own shapes."""

from __future__ import annotations

import httpx

from koppel_local.simulators.snelstart import DEMO_CLIENT_KEY, DEMO_SUBSCRIPTION_KEY, SnelStartSimulator

API = "https://snelstart.test/v2"


def token(http: httpx.Client, key: str = DEMO_CLIENT_KEY) -> httpx.Response:
    return http.post("https://auth.snelstart.test/b2b/token", data={"grant_type": "clientkey", "clientkey": key})


def headers(http: httpx.Client) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token(http).json()['access_token']}",
        "Ocp-Apim-Subscription-Key": DEMO_SUBSCRIPTION_KEY,
        "Accept": "application/json",
    }


def test_a_known_client_key_gets_a_token_of_an_hour_and_an_unknown_one_none(
    sim: SnelStartSimulator, http: httpx.Client
) -> None:
    issued = token(http).json()

    assert issued["token_type"] == "bearer" and issued["expires_in"] == 3599
    assert token(http, "not-a-key").status_code == 400


def test_without_the_subscription_key_the_gateway_refuses_before_snelstart(
    sim: SnelStartSimulator, http: httpx.Client
) -> None:
    sent = headers(http)
    del sent["Ocp-Apim-Subscription-Key"]

    refused = http.get(f"{API}/artikelen", headers=sent)

    assert refused.status_code == 401
    assert "subscription key" in refused.json()["message"]


def test_a_page_beyond_the_spec_maximum_is_refused_as_snelstart_refuses(
    sim: SnelStartSimulator, http: httpx.Client
) -> None:
    refused = http.get(f"{API}/artikelen", params={"$top": 26}, headers=headers(http))

    assert refused.status_code == 400
    [error] = refused.json()
    assert error["errorCode"] and "$top" in error["modelState"]
    assert len(sim.violations) == 1  # claimed: the refusal is the point of this test


def test_a_filter_outside_the_subset_is_refused_not_guessed(sim: SnelStartSimulator, http: httpx.Client) -> None:
    sim.add_article("A-1", "Article", "1.00")

    refused = http.get(f"{API}/artikelen", params={"$filter": "startswith(artikelcode, 'A')"}, headers=headers(http))
    kept = http.get(f"{API}/artikelen", params={"$filter": "artikelcode eq 'A-1'"}, headers=headers(http))

    assert refused.status_code == 400 and refused.json()[0]["errorCode"]
    assert [row["artikelcode"] for row in kept.json()] == ["A-1"]


def test_each_change_to_an_article_is_stamped_later_than_the_one_before(sim: SnelStartSimulator) -> None:
    sim.add_article("A-1", "Article", "1.00", technical=3)
    first = sim.article("A-1")["modifiedOn"]

    sim.set_stock("A-1", 2)

    assert sim.article("A-1")["modifiedOn"] > first  # the wall clock stood still: a microsecond later


def test_an_order_for_an_unknown_relatie_is_refused(sim: SnelStartSimulator, http: httpx.Client) -> None:
    article = sim.add_article("A-1", "Article", "1.00")
    body = {
        "relatie": {"id": "00000000-0000-0000-0000-000000000001"},
        "datum": "2026-05-04T10:00:00+00:00",
        "regels": [{"artikel": {"id": article}, "aantal": 1, "stuksprijs": 1.0}],
    }

    refused = http.post(f"{API}/verkooporders", json=body, headers=headers(http))

    assert refused.status_code == 400
    assert refused.json()[0]["modelState"] == {"relatie": [refused.json()[0]["message"]]}
    assert sim.verkooporders == {}
