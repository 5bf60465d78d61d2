-- ATT&CK ids (block 4): the ATT&CK id (`T1059.001`, `G0016`, `TA0002`,
-- `M1038`, `DC0001`, …) of every stored ATT&CK STIX object, so a technique
-- and its neighbours are found without scanning object bodies. The objects
-- themselves live in intel_objects (by version) and intel_relationships.
CREATE TABLE attack_ids (
    tenant     TEXT NOT NULL REFERENCES tenants (id),
    stix_id    TEXT NOT NULL,
    attack_id  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    PRIMARY KEY (tenant, stix_id)
);
CREATE INDEX attack_ids_attack_id ON attack_ids (tenant, attack_id);
