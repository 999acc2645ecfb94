"""Regenerate the example shop's source files in project-template/landing/ (deterministic).

Run once when changing the example: python tools/make_example_data.py
"""

from __future__ import annotations

import csv
import random
from datetime import date, datetime, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "project-template" / "landing"
FIRST = ["Ada", "Bo", "Chen", "Dara", "Eli", "Fatima", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea",
         "Mia", "Noor", "Omar", "Pia", "Quinn", "Rui", "Sara", "Tom", "Uma", "Vik", "Wen", "Yara"]
LAST = ["Nguyen", "Smith", "Garcia", "Müller", "Rossi", "Dubois", "Kowalski", "Silva", "Kim",
        "Haddad", "Jensen", "Okafor", "Tanaka", "Novak", "Costa", "Larsen"]
COUNTRIES = ["FR", "DE", "ES", "IT", "NL", "BE", "PT", "SE", "PL", "IE"]
CATEGORIES = {"coffee": (6, 24), "tea": (4, 18), "mugs": (8, 30), "grinders": (35, 180),
              "kettles": (25, 120), "filters": (3, 9)}


def main() -> None:
    rng = random.Random(20261124)
    OUT.mkdir(parents=True, exist_ok=True)
    start = date(2024, 1, 1)
    customers = []
    for cid in range(1, 601):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        is_test = cid % 97 == 0
        customers.append({
            "customer_id": cid,
            "name": "Test Account" if is_test else f"{first} {last}",
            "email": f"test{cid}@shop.example" if is_test
            else f"{first.lower()}.{last.lower()}{cid}@mail.example",
            "country": rng.choice(COUNTRIES),
            "signup_date": (start + timedelta(days=rng.randint(0, 600))).isoformat(),
            "is_test": str(is_test).lower(),
        })
    products = []
    for pid in range(1, 121):
        category = rng.choice(sorted(CATEGORIES))
        low, high = CATEGORIES[category]
        products.append({"product_id": pid, "name": f"{category[:-1].title()} no. {pid}",
                         "category": category,
                         "unit_price": round(rng.uniform(low, high), 2)})
    orders = []
    signup = {c["customer_id"]: date.fromisoformat(c["signup_date"]) for c in customers}
    for oid in range(1, 4001):
        cid = rng.choice([c["customer_id"] for c in customers[:rng.choice([150, 600])]])
        day = signup[cid] + timedelta(days=rng.randint(0, 180))
        if day > date(2025, 12, 31):
            day = date(2025, 12, 31) - timedelta(days=rng.randint(0, 60))
        when = datetime(day.year, day.month, day.day, rng.randint(7, 22), rng.randint(0, 59))
        status = rng.choices(["completed", "cancelled", "refunded"], [90, 7, 3])[0]
        product = rng.choice(products)
        quantity = 1 if product["category"] in ("grinders", "kettles") else rng.randint(1, 4)
        orders.append({"order_id": oid, "customer_id": cid, "product_id": product["product_id"],
                       "quantity": quantity, "ordered_at": when.isoformat(sep=" "),
                       "status": status})
    orders.sort(key=lambda o: o["ordered_at"])
    for name, rows in (("customers", customers), ("products", products), ("orders", orders)):
        with open(OUT / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        print(f"{name}.csv: {len(rows)} rows")


if __name__ == "__main__":
    main()
