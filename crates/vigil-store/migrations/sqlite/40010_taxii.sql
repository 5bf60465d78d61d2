-- TAXII 2.1 server (block 4): which stored STIX object versions belong to
-- which writable collection (the read-only `intel` collection is every row
-- of intel_objects), and the status resources of objects POSTs.
CREATE TABLE taxii_objects (
    tenant          TEXT NOT NULL REFERENCES tenants (id),
    collection      TEXT NOT NULL,
    id              TEXT NOT NULL,
    modified        INTEGER NOT NULL,
    added_at        INTEGER NOT NULL,
    PRIMARY KEY (tenant, collection, id, modified)
);
CREATE INDEX taxii_objects_added ON taxii_objects (tenant, collection, added_at, id, modified);
CREATE INDEX intel_objects_added ON intel_objects (tenant, added_at, id, modified);

CREATE TABLE taxii_status (
    tenant          TEXT NOT NULL REFERENCES tenants (id),
    id              TEXT NOT NULL,
    collection      TEXT NOT NULL,
    status          TEXT NOT NULL,
    requested_at    INTEGER NOT NULL,
    successes       TEXT NOT NULL,
    failures        TEXT NOT NULL,
    pendings        TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
);
