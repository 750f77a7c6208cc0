"""Database URLs (password included) come from secret files: <PREFIX>DATABASE_URL_FILE, in every service
that has a database, and no deployment puts a Secret's value into a container's environment (CKV_K8S_35)."""

import pytest

DATABASE_SERVICES = ["ncp-gateway", "registry-cache", "sis-adapter"]


@pytest.fixture(params=DATABASE_SERVICES)
def database_service(request, kit):
    return next(s for s in kit.SERVICES if s.key == request.param)


@pytest.fixture
def clean_env(database_service, monkeypatch):
    for name in database_service.env_names():
        monkeypatch.delenv(name, raising=False)
    # What is tested is the file setting; the gateway fails closed without its production secrets otherwise.
    monkeypatch.setenv(database_service.prefix + "ENV", "test")
    return monkeypatch


def test_the_url_is_read_from_the_file(database_service, clean_env, tmp_path):
    url = "postgresql+asyncpg://ncp:s3cret@db:5432/x"
    (tmp_path / "url").write_text(url + "\n")
    clean_env.setenv(database_service.prefix + "DATABASE_URL_FILE", str(tmp_path / "url"))
    assert database_service.settings_class().database_url == url


def test_a_value_and_a_file_together_are_refused(database_service, clean_env, tmp_path):
    (tmp_path / "url").write_text("postgresql+asyncpg://a@db/x\n")
    clean_env.setenv(database_service.prefix + "DATABASE_URL_FILE", str(tmp_path / "url"))
    clean_env.setenv(database_service.prefix + "DATABASE_URL", "postgresql+asyncpg://b@db/x")
    with pytest.raises(ValueError, match="not both"):
        database_service.settings_class()


def test_an_unreadable_file_is_named_without_its_content(database_service, clean_env, tmp_path):
    clean_env.setenv(database_service.prefix + "DATABASE_URL_FILE", str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="DATABASE_URL_FILE: cannot read"):
        database_service.settings_class()


def test_no_container_gets_a_secret_in_its_environment(overlay, rendered, kit):
    for workload, _, container in kit.containers(rendered[overlay]):
        where = f"{overlay}: {workload['metadata']['name']}/{container['name']}"
        for item in container.get("env", []):
            assert "secretKeyRef" not in item.get("valueFrom", {}), (where, item["name"])
        for source in container.get("envFrom", []):
            assert "secretRef" not in source, where


def test_database_urls_are_mounted_secret_files(overlay, rendered, kit):
    docs = rendered[overlay]
    for name, prefix in [("ncp-gateway", "NCP_GATEWAY_"), ("ncp-registry-cache", "NCP_REGISTRY_"),
                         ("ncp-sis-adapter", "NCP_SIS_")]:
        pod = kit.deployment(docs, name)["spec"]["template"]["spec"]
        container = pod["containers"][0]
        path = kit.k8s_env(docs, container)[prefix + "DATABASE_URL_FILE"]
        mount = next(m for m in container["volumeMounts"] if path.startswith(m["mountPath"] + "/"))
        volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
        assert volume["secret"]["secretName"] == "ncp-database", (overlay, name)
