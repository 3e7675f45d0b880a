"""Contacts matched on their email or phone: within their own customer, in the normalised
form customers are matched in."""

from __future__ import annotations

from pycrm import CRM, Contact
from pycrm.io import import_records


def contacts(crm: CRM) -> list[Contact]:
    with crm.session() as s:
        return sorted(s.contacts.stream(), key=lambda c: c.name)


def two_customers(crm: CRM) -> None:
    rows = [
        {"kind": "company", "name": "Acme", "member_id": "M1"},
        {"kind": "company", "name": "Beta", "member_id": "M2"},
    ]
    assert import_records(crm, "customers", rows).ok


def test_two_customers_contacts_with_one_address_are_two_contacts(crm: CRM) -> None:
    two_customers(crm)
    rows = [
        {"customer_member_id": "M1", "name": "Wang at Acme", "email": "wang@x.cn"},
        {"customer_member_id": "M2", "name": "Wang at Beta", "email": "wang@x.cn"},
    ]
    report = import_records(crm, "contacts", rows, key="email")
    assert (report.created, report.updated) == (2, 0)
    with crm.session() as s:
        owners = {c.name: s.customers.get(c.customer_id).name for c in s.contacts.stream()}
    assert owners == {"Wang at Acme": "Acme", "Wang at Beta": "Beta"}
    again = import_records(crm, "contacts", rows, key="email")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_a_contact_key_in_another_spelling_updates_the_stored_contact(crm: CRM) -> None:
    two_customers(crm)
    stored = {"email": "Wang@X.cn", "phone": "138 1234 5678"}
    again = {"email": ("wang@x.cn", "position"), "phone": ("+86 138-1234-5678", "notes")}
    for key, value in stored.items():
        row = {"customer_member_id": "M1", "name": key, key: value}
        assert import_records(crm, "contacts", [row], key=key).created == 1
    for key, (spelling, field) in again.items():
        row = {"customer_member_id": "M1", "name": key, key: spelling, field: "new"}
        report = import_records(crm, "contacts", [row], key=key)
        assert (report.created, report.updated) == (0, 1)
    by_email, by_phone = contacts(crm)
    assert (by_email.position, by_phone.notes) == ("new", "new")


def test_a_contact_phone_that_does_not_normalise_is_matched_as_given(crm: CRM) -> None:
    two_customers(crm)
    row = {"customer_member_id": "M1", "name": "Old", "phone": "12345"}
    assert import_records(crm, "contacts", [row], key="phone").created == 1
    report = import_records(crm, "contacts", [row | {"notes": "x"}], key="phone")
    assert (report.created, report.updated, report.ok) == (0, 1, True)
