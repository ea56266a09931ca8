"""SDK usage example: sign in as an admin, print who I am, list the users.

    make run                                  # in one terminal
    .venv/bin/python manage.py create-admin --name Ada --email admin@example.com   # asks for the password
    ADMIN_EMAIL=admin@example.com ADMIN_PASSWORD='...' python examples/demo_client.py

Options override the environment: --url (API_URL, default http://127.0.0.1:8000), --email
(ADMIN_EMAIL), --password (ADMIN_PASSWORD).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# From a checkout without `pip install ./client`, fall back to the SDK beside this file.
sys.path.append(str(Path(__file__).resolve().parent.parent / "client"))

from client import APIClient, SDKError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("API_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--email", default=os.environ.get("ADMIN_EMAIL"))
    parser.add_argument("--password", default=os.environ.get("ADMIN_PASSWORD"))
    args = parser.parse_args(argv)
    if not args.email or not args.password:
        parser.error("give --email and --password, or set ADMIN_EMAIL and ADMIN_PASSWORD")

    with APIClient(args.url) as api:
        try:
            api.login(args.email, args.password)
            me = api.get_current_user()
            print(f"Signed in as {me['name']} <{me['email']}> ({me['role']})")
            page = api.list_users(per_page=20, sort="asc", sort_by="id")
        except SDKError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    total = page["meta"]["total"]
    print(f"{total} user{'s' if total != 1 else ''}:")
    for user in page["items"]:
        print(f"  {user['id']:>4}  {user['role']:<5}  {user['email']}  {user['name']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
