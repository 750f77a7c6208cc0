"""Nothing tracked by git is a private key, a token or a password value."""

import re
import subprocess

PEM_KEY = re.compile(r"-----BEGIN (?:RSA |EC |DSA |ENCRYPTED |OPENSSH )?PRIVATE KEY-----\s*[A-Za-z0-9+/=\s]{64,}")
TOKENS = [
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),  # AWS access key id
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),  # GitHub tokens
    re.compile(r"\bxox[baprs]-[A-Za-z0-9-]{10,}\b"),  # Slack tokens
]
# In deployment files, a secret-looking name must point to a file, not carry a value.
DEPLOY_ASSIGNMENT = re.compile(r"(?m)^\s*-?\s*([A-Z0-9_]*(?:PASSWORD|SECRET|TOKEN)[A-Z0-9_]*)\s*[:=]\s*(\S+)")


def tracked(root):
    out = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
    return [root / name for name in out.decode().split("\0") if name]


def test_no_private_keys_or_tokens_are_tracked(kit):
    found = []
    for path in tracked(kit.ROOT):
        if not path.is_file() or path.name == "uv.lock":
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if PEM_KEY.search(text) or any(p.search(text) for p in TOKENS):
            found.append(str(path.relative_to(kit.ROOT)))
    assert not found, f"secret material in tracked files: {found}"


def test_deployment_files_name_secret_files_not_values(kit):
    files = [p for p in tracked(kit.ROOT) if p.suffix in (".yml", ".yaml", ".env", ".toml", ".json")
             and p.relative_to(kit.ROOT).parts[0] in ("k8s", "deploy", "docker-compose.yml")]
    assert files
    for path in files:
        for name, value in DEPLOY_ASSIGNMENT.findall(path.read_text()):
            if name.endswith(("_PATH", "_FILE")):
                continue
            assert value.startswith(("/", "{", "[")), f"{path}: {name} = {value}"
