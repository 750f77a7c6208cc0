"""Who receives the results: the returnUrl host, and whether it is known to be inside the EU/EEA."""

# EU member states plus Iceland, Liechtenstein and Norway (ISO 3166-1 alpha-2; Greece also as EL).
EU_EEA = frozenset({
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "EL", "HU", "IE", "IT", "LV", "LT",
    "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
})
_CC_TLD_ALIASES = {"uk": "GB", "eu": "EU"}


def country_from_host(host: str) -> str | None:
    tld = host.rstrip(".").rsplit(".", 1)[-1].lower()
    if tld in _CC_TLD_ALIASES:
        return _CC_TLD_ALIASES[tld]
    return tld.upper() if len(tld) == 2 and tld.isalpha() else None


def maybe_outside_eu_eea(host: str, registry_country: str | None) -> bool:
    """True unless the registry or the host's country-code TLD places the receiver in the EU/EEA."""
    country = (registry_country or "").upper() or country_from_host(host)
    return not (country in EU_EEA or country == "EU")
