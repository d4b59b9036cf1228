"""The seed APIs against a running ``make run``: the same process set (``python -m
portal.supervise``: embedded Redis, gunicorn with the Procfile's options, a Celery worker and
beat) on a migrated SQLite database with the demo data, over real HTTP on 127.0.0.1.

A client written from the documents alone: seed 001's ``access_token`` and ``debug_id``
headers spelled with underscores (gunicorn must not drop them), seed 000's bodies as printed,
the demo API key ``seed_demo`` prints, a registrant token from ``manage.py
issue_registrant_token`` (alone on its last line), and RDAP for a demo domain. The order goes
through the real worker to the sandbox registry and the domain turns active.
"""

from __future__ import annotations

import secrets
import time

import httpx
import pytest

from tests.security.test_embedded_survives_worker import EmbeddedRun, _status, wait_until


@pytest.fixture(scope="module")
def running():
    run = EmbeddedRun()
    try:
        run.manage("migrate", "--noinput", "-v0")
        seeded = run.manage("seed_demo")
        keys = seeded.split("Demo API keys", 1)[1].split()
        run.live_key = next(word for word in keys if word.startswith("np_live_"))
        issued = run.manage(
            "issue_registrant_token", "customer@example.com", "--organisation", "demo-reseller"
        )
        run.registrant_token = issued.strip().splitlines()[-1]
        run.start()
        with httpx.Client(base_url=run.base, timeout=15) as http:
            wait_until(lambda: _status(http, "/healthz") == 200, 90, "/healthz", run.output)
        wait_until(lambda: run.said(" ready."), 90, "the worker being ready", run.output)
        yield run
    finally:
        run.kill_everything()


def test_a_leanstack_client_works_unchanged_against_make_run(running):
    run = running
    old = {"access_token": run.live_key, "debug_id": "support-case-4711"}  # seed 001
    new = {"access-token": run.live_key, "debug-id": "support-case-4712"}  # seed 000
    email = f"bobby{secrets.token_hex(3)}@gmail.com"
    label = f"tunji{secrets.token_hex(4)}"
    with httpx.Client(base_url=run.base, timeout=15) as http:
        body = {
            "customer": {
                "first_name": "Bob",
                "last_name": "Brown",
                "email": email,
                "phone": "090383938393",
            },
            "contact": {
                "address": "My home",
                "country": "NG",
                "city": "Lagos",
                "postcode": " 100001",
            },
        }
        added = http.post("/v1/enterprise/add_customer", json=body, headers=old)
        assert added.status_code == 200, added.text
        assert added.json() == {}
        assert added.headers["debug-id"] == "support-case-4711"
        again = http.post("/v1/enterprise/customer", json=body, headers=new)
        assert again.status_code in range(400, 500)
        assert again.json() == {"message": "Customer already exists for organisation"}

        listed = http.post(
            "/v1/enterprise/customers",
            json={"query": email, "pagination": {"page": 1, "page_size": 4}},
            headers=new,
        ).json()
        assert listed["meta_data"]["total_count"] == 1
        customer_id = listed["data"][0]["id"]
        body["customer"]["first_name"] = "Bobby"
        body["contact"]["post_code"] = body["contact"].pop("postcode")
        edited = http.patch(f"/v1/enterprise/customer/{customer_id}", json=body, headers=new)
        assert edited.status_code == 200 and edited.json() == {}, edited.text
        shown = http.get(f"/v1/enterprise/customer/{customer_id}", headers=new).json()
        assert shown["customer"]["email"] == email
        assert shown["customer"]["first_name"] == "Bobby"
        assert shown["contact"]["city"] == "Lagos"

        available = http.post(
            "/v1/enterprise/domain_availability",
            json={"domain_name": label, "tld": "com"},
            headers=old,
        ).json()
        assert available["tld_available"] is True
        assert available["domain_name_available"] is True
        assert isinstance(available["dollar_price"], str)
        suggested = http.post(
            "/v1/rest/domain_suggestion", json={"domain_name": label}, headers=new
        ).json()
        assert suggested and {"domain_name", "tld", "dollar_price", "naira_price"} <= set(
            suggested[0]
        )
        enterprise = http.post(
            "/v1/enterprise/domain_suggestion", json={"domain_name": label}, headers=new
        )
        assert enterprise.status_code == 200 and enterprise.json() == suggested

        order = {
            "domain_name": label,
            "tld": "com",
            "duration": 1,
            "customer_id": customer_id,
            "domain_privacy": False,
        }
        ordered = http.post("/v1/enterprise/domain/order", json=order, headers=new)
        assert ordered.status_code == 200, ordered.text
        assert ordered.json() == [{"status": "success", "domain_name": f"{label}.com"}]

        def active_domain():
            found = http.post(
                "/v1/enterprise/domains",
                json={"domain_name": label, "customer_id": customer_id},
                headers=new,
            ).json()["data"]
            return found[0] if found and found[0]["current_status"] == "1" else None

        domain = wait_until(active_domain, 120, "the ordered domain turning active", run.output)
        detail = http.get(f"/v1/enterprise/domain/{domain['id']}", headers=new).json()
        assert detail["domain_name"] == f"{label}.com"
        assert detail["customer_id"] == customer_id
        assert set(detail["nameservers"]) == {"ns1", "ns2", "ns3", "ns4"}

        refused = http.post(
            f"/v1/enterprise/domain/{domain['id']}/nameservers",
            json={"ns1": "ns1@sedoparking.com", "ns2": "ns2@sedoparking.com"},
            headers=new,
        )
        assert refused.status_code == 400 and set(refused.json()) == {"message"}
        changed = http.post(
            f"/v1/enterprise/domain/{domain['id']}/nameservers",
            json={"ns1": "ns1.sedoparking.com", "ns2": "ns2.sedoparking.com"},
            headers=new,
        )
        assert changed.status_code == 200 and changed.json() == {}
        unlocked = http.post(
            f"/v1/enterprise/domain/{domain['id']}/registrar_lock",
            json={"enable_registrar_lock": False},
            headers=new,
        )
        assert unlocked.status_code == 200 and unlocked.json() == {}

        def secret():
            # 409 with the reason while the worker unlocks it and fetches the code, then 200
            answer = http.get(f"/v1/enterprise/domain/{domain['id']}/domain_secret", headers=new)
            assert answer.status_code in {200, 409}, answer.text
            return answer.json() if answer.status_code == 200 else None

        assert set(wait_until(secret, 120, "the domain secret", run.output)) == {"secret"}

        def served_by_rdap():
            answer = http.get(f"/rdap/domain/{label}.com")
            assert answer.status_code == 200, answer.text
            hosts = {ns["ldhName"].lower() for ns in answer.json().get("nameservers", [])}
            if hosts == {"ns1.sedoparking.com", "ns2.sedoparking.com"}:
                return True
            time.sleep(1)  # RDAP allows 120 queries a minute: poll gently
            return None

        wait_until(served_by_rdap, 120, "RDAP showing the new nameservers", run.output)
        assert http.get("/v1/enterprise/customer/999999", headers=new).json() == {
            "message": "Customer does not exist for organisation"
        }


def test_a_registrant_and_rdap_client_work_against_make_run(running):
    run = running
    with httpx.Client(base_url=run.base, timeout=15) as http:
        bearer = {"Authorization": f"Bearer {run.registrant_token}"}
        domains = http.get("/api/v1/registrant/domains", headers=bearer)
        assert domains.status_code == 200, domains.text
        names = {d["name"] for d in domains.json()}
        assert "ada-bakery.com" in names
        one = next(d for d in domains.json() if d["name"] == "ada-bakery.com")
        again = http.get(f"/api/v1/registrant/domains/{one['id']}", headers=bearer).json()
        assert again["registrar"] and again["statuses"]
        missing = http.get(
            "/api/v1/registrant/domains/98d1083a-8863-4153-93e4-caee4a013535", headers=bearer
        )
        assert missing.status_code == 404
        assert missing.json() == {"errors": ["Domain not found"]}

        rdap = http.get("/rdap/domain/ada-bakery.com")
        assert rdap.status_code == 200
        assert rdap.headers["content-type"].startswith("application/rdap+json")
        assert rdap.json()["ldhName"].lower() == "ada-bakery.com"
        assert "customer@example.com" not in rdap.text
        assert http.get("/rdap/domain/not-ours-at-all.com").status_code == 404
        nameserver = rdap.json()["nameservers"][0]["ldhName"]
        served = http.get(f"/rdap/nameserver/{nameserver}")
        assert served.status_code == 200 and served.json()["objectClassName"] == "nameserver"
        assert http.get("/rdap/help").json()["notices"]


def test_the_rdap_rate_is_one_count_for_every_web_worker(running):
    """gunicorn runs two workers here (the Procfile's): the 120 queries a minute are counted once
    in Redis, not once per worker. Each query on a new connection, so both workers serve some.
    Last in the module: it spends the minute's rate."""
    run = running
    answers = []
    for _ in range(121):  # the tests above already spent a few of the minute's 120
        answer = httpx.get(f"{run.base}/rdap/help", headers={"Connection": "close"}, timeout=15)
        answers.append(answer.status_code)
        if answer.status_code == 429:
            assert answer.headers["content-type"].startswith("application/rdap+json")
            assert int(answer.headers["Retry-After"]) >= 1
            break
    assert answers[-1] == 429, f"no 429 after {len(answers)} queries: counted per worker?"
    assert set(answers[:-1]) == {200}
