"""The Docker files, checked statically (no Docker engine runs here; hadolint runs in `make static`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def test_compose_has_the_stack_with_health_checks_and_order() -> None:
    services = compose()["services"]
    assert set(services) == {"api", "worker", "migrate", "mysql", "redis"}
    for name in ("api", "worker", "mysql", "redis"):
        assert services[name]["healthcheck"]["test"], name
    assert services["mysql"]["image"].startswith("mysql:8")
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate"]
    assert services["migrate"]["depends_on"] == {"mysql": {"condition": "service_healthy"}}
    for name in ("api", "worker"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
        assert services[name]["depends_on"]["redis"] == {"condition": "service_healthy"}


def test_compose_volumes_are_named_and_secrets_come_from_env() -> None:
    data = compose()
    assert set(data["volumes"]) == {"mysql-data", "redis-data"}  # nothing shared by replicas
    text = (ROOT / "docker-compose.yml").read_text()
    for secret in ("JWT_SECRET", "SECRET_KEY", "MYSQL_PASSWORD", "MYSQL_ROOT_PASSWORD"):
        assert re.search(rf"{secret}: \$\{{{secret}:\?", text), secret
    example = (ROOT / ".env.example").read_text()
    for secret in ("JWT_SECRET", "SECRET_KEY", "MYSQL_PASSWORD", "MYSQL_ROOT_PASSWORD"):
        assert f"{secret}=replace-with" in example


def test_every_compose_variable_has_a_default_or_is_required() -> None:
    """An unset variable must not turn into an empty string (e.g. an empty MySQL user name)."""
    text = (ROOT / "docker-compose.yml").read_text()
    uses = re.findall(r"(?<!\$)\$\{(\w+)([^}]*)\}", text)  # `$$` escapes a dollar for the shell
    assert uses
    defaults: dict[str, set[str]] = {}
    for name, rest in uses:
        assert rest.startswith((":-", ":?")), f"${{{name}}} has neither a default nor :?"
        if rest.startswith(":-"):
            defaults.setdefault(name, set()).add(rest)
    assert all(len(values) == 1 for values in defaults.values()), defaults


def test_compose_scales_api_and_worker() -> None:
    """`--scale api=N --scale worker=M`: no fixed host port, no shared export folder, a stop
    grace period above the drain plus uvicorn's graceful shutdown, a worker check of the worker."""
    services = compose()["services"]
    assert all(":" not in str(port) for port in services["api"]["ports"])
    assert services["api"]["environment"]["EXPORT_STORAGE"] == "${EXPORT_STORAGE:-database}"
    assert "volumes" not in services["api"] and "volumes" not in services["worker"]
    assert services["api"]["stop_grace_period"] == "30s"  # 5 s drain + 10 s graceful, < 30
    assert services["worker"]["stop_grace_period"] == "10m"  # an export finishes
    check = services["worker"]["healthcheck"]["test"]
    assert check == ["CMD", "python", "manage.py", "worker", "--check"]


def test_dockerfile_installs_dependencies_before_the_code() -> None:
    """An edit of the code rebuilds only the COPY layers, and the code lands once (in /app)."""
    text = (ROOT / "Dockerfile").read_text()
    build = text.split("AS runtime", 1)[0]
    assert "pip install" in build
    for package in ("core", "persistence", "resolvers", "schema", "server", "jobs"):
        assert f"COPY {package} " not in build, package
    assert "pip install -c constraints.txt ." not in build


def test_dockerfile_is_multi_stage_slim_and_unprivileged() -> None:
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+) AS (\w+)", text, re.MULTILINE)
    assert [name for _, name in stages] == ["build", "runtime"]
    assert all(image.endswith("-slim") for image, _ in stages)
    runtime = text.split("AS runtime", 1)[1]
    assert "build-essential" not in runtime
    assert "COPY --from=build /opt/venv /opt/venv" in runtime
    assert re.search(r"^USER 10001", runtime, re.MULTILINE)
    assert "HEALTHCHECK" in runtime and "/ready" in runtime
    assert "WEB_CONCURRENCY" in runtime


def test_image_copies_what_the_server_imports() -> None:
    text = (ROOT / "Dockerfile").read_text()
    for package in ("core", "persistence", "resolvers", "schema", "server", "jobs", "migrations"):
        assert f"COPY --chown=app:app {package} {package}" in text, package
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".env" in ignored
    assert ".env.*" in ignored
    assert ".git" in ignored
