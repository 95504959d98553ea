"""Host-side tooling for ember: board definitions, release assembly and factory provisioning."""
