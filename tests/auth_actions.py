"""AuthActions, in the spirit of flaskr's conftest: sign up, log in, log out, make tokens."""

from __future__ import annotations

import re


class AuthActions:
    def __init__(self, app, client):
        self.app = app
        self.client = client

    def csrf(self, path: str = "/login") -> str:
        html = self.client.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
            r'name="csrf-token" content="([^"]+)"', html
        )
        return match.group(1) if match else ""

    def signup(self, username="ada", password="correct horse"):
        return self.client.post(
            "/signup",
            data={
                "username": username,
                "password": password,
                "confirm": password,
                "csrf_token": self.csrf("/signup"),
            },
        )

    def login(self, username="ada", password="correct horse"):
        return self.client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": self.csrf()},
        )

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": self.csrf("/account")})

    def create_user(self, username, password="correct horse", admin=False):
        args = ["quartile", "create-user", username, "--password", password]
        result = self.app.test_cli_runner().invoke(args=args + (["--admin"] if admin else []))
        assert result.exit_code == 0, result.output
        return result

    def token_for(self, username) -> str:
        result = self.app.test_cli_runner().invoke(args=["quartile", "create-token", username])
        assert result.exit_code == 0, result.output
        return result.output.strip().splitlines()[-1]


def app_with_users(make_app, admin: str = "root", users=("ada", "bob")):
    """An app with log-in on and CSRF checked, an administrator `admin` and `users`, all with
    the password "correct horse"."""
    app = make_app(AUTH="on", WTF_CSRF_ENABLED=True)
    auth = AuthActions(app, app.test_client())
    auth.create_user(admin, admin=True)
    for name in users:
        auth.create_user(name)
    return app


def bearer_headers(app, names=("alice", "bob")) -> dict[str, dict]:
    """Create `names` on an app with log-in on; each one's Authorization header, by name."""
    auth = AuthActions(app, app.test_client())
    headers = {}
    for name in names:
        auth.create_user(name)
        headers[name] = {"Authorization": f"Bearer {auth.token_for(name)}"}
    return headers
