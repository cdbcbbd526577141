"""Generated rows for ``customer-registry import`` (issue 7's bulk-import measurement).

    python -m bench.import_rows --rows 100000 --dialect registry --format jsonl > rows.jsonl
    python -m bench.import_rows --rows 100000 --changed > changed.jsonl  # new e-mails

The customers are those of ``bench/seed.py`` (realistic names, valid Norwegian national IDs,
both dialects' fields), written in the row shape of the chosen dialect by the same mapping
``export`` uses. Generated files are test data: do not commit them.
"""

import argparse
import dataclasses
import sys

from bench.seed import CustomerFactory, customer_number
from customer_registry.bulk.formats import Writer
from customer_registry.bulk.records import SHAPES
from customer_registry.customers.model import Customer


def _customer(factory: CustomerFactory, index: int, *, changed: bool, dialect: str) -> Customer:
    customer = factory.customer(1, customer_number(index))
    if changed and customer.email:
        customer = dataclasses.replace(customer, email="changed." + customer.email)
    if dialect == "subscriptions" and customer.payment_registration_id is None:
        # The POST requires a payment registration; seed customers made by Horizon have none.
        customer = dataclasses.replace(customer, payment_registration_id=f"pr{index}")
    return customer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dialect", choices=sorted(SHAPES), default="registry")
    parser.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--changed", action="store_true", help="a new e-mail in every row")
    args = parser.parse_args()
    shape = SHAPES[args.dialect]
    writer = Writer(sys.stdout, args.format, shape.csv_columns)
    factory = CustomerFactory(args.seed, sample_every=10**9)
    for index in range(args.rows):
        customer = _customer(factory, index, changed=args.changed, dialect=args.dialect)
        writer.write(shape.to_row(customer))


if __name__ == "__main__":
    main()
