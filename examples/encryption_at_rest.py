"""Personal data encrypted at rest, a key rotation, and what the database file holds.

A shop keeps its customers in an embedded SQLite file with encryption keys configured. The
example adds a customer, shows that the application reads the values in clear while the
database holds only tokens, finds the customer by phone (through the keyed hash, since the
column itself is ciphertext), then rotates to a new key: the new key goes first in the ring,
``reencrypt()`` moves every value to it, and the old key can be dropped. Finally it reads the
raw file and checks that the phone, email, ID number and address are nowhere in it.

The keys are generated on each run; real ones come from a secret store, through
``encryption_keys=`` or ``$PYCRM_ENCRYPTION_KEYS``.

Run: ``python examples/encryption_at_rest.py``.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa

from pycrm import CRM, Customer, FieldCipher, FixedClock, mask_address, mask_phone

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=timezone.utc)
IDENTITY_KEY = "example key, not for real data"
SECRETS = ["13812345678", "zhang.wei@example.com", "110101199003071234", "建国路88号"]


def open_crm(url: str, keys: dict[str, str]) -> CRM:
    return CRM.open(url, clock=FixedClock(NOW), identity_key=IDENTITY_KEY, encryption_keys=keys)


def stored_phone(crm: CRM, customer_id: str) -> str:
    """The phone column as the database holds it, read past pycrm."""
    table = crm.store.tables.customers  # type: ignore[attr-defined]
    with crm.store.engine.connect() as conn:  # type: ignore[attr-defined]
        return str(
            conn.execute(sa.select(table.c.phone).where(table.c.id == customer_id)).scalar_one()
        )


def main() -> None:
    old_key, new_key = FieldCipher.generate_key(), FieldCipher.generate_key()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "crm.db"
        url = f"sqlite:///{path}"

        with open_crm(url, {"2026-01": old_key}) as crm:
            with crm.session(actor="shop") as s:
                customer = s.customers.add(
                    Customer.person(
                        "Zhang Wei",
                        phone="13812345678",
                        email="zhang.wei@example.com",
                        id_number="110101199003071234",
                        address="北京市朝阳区建国路88号",
                    )
                )
            with crm.session() as s:
                read = s.customers.get(customer.id)
                print(f"application reads: {read.phone}, {read.address}")
                print(
                    f"logs and exports see: {mask_phone(read.phone)}, {mask_address(read.address)}"
                )
                found = s.customers.list(phone="138 1234 5678").items
                print(f"found by phone: {[c.name for c in found]}")
            print(f"database holds: {stored_phone(crm, customer.id)[:16]}...")

        # Rotation: the new key first, re-encrypt, then drop the old key.
        with open_crm(url, {"2026-06": new_key, "2026-01": old_key}) as crm:
            print(f"re-encrypted rows: {crm.reencrypt()}")
            print(f"database holds: {stored_phone(crm, customer.id)[:16]}...")
        with open_crm(url, {"2026-06": new_key}) as crm, crm.session() as s:
            print(f"with the new key alone: {s.customers.get(customer.id).email}")

        raw = b"".join(p.read_bytes() for p in Path(folder).iterdir())
        leaked = [secret for secret in SECRETS if secret.encode() in raw]
        print(f"personal values in the raw file: {leaked}")
        assert not leaked
    print("encryption_at_rest: ok")


if __name__ == "__main__":
    main()
