"""Namespace URIs of ELMO and XMLDSig."""

ELMO_NS = "https://github.com/emrex-eu/elmo-schemas/tree/v1"
# The 2015 pilot schema; its documents keep the learner inside the report.
ELMO_PILOT_NS = "http://purl.org/net/elmo"
DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
XML_NS = "http://www.w3.org/XML/1998/namespace"
