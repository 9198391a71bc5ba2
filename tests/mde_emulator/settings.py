"""Every behaviour the documents disagree on, or that tests need to tune, as one settings object."""

DEFAULTS = {
    # Clock and lifecycle (emulated seconds).
    "clock_speed": 1.0,
    "pending_seconds": 2,
    "action_seconds": 3,
    "command_seconds": 1,
    "script_seconds": 2,
    "runscript_timeout_seconds": 600,       # Learn api/run-live-response: 10 minutes; live-response#limitations: 30
                                            # minutes for run and getfile (1800)
    # Documentation drift.
    "queue_limit_seconds": 3 * 24 * 3600,   # 2023 docs: 3 days; 2025 docs: 2 hours (7200)
    "session_cap": 25,                      # 2023 docs: 25; 2025 docs: 50
    "liveresponse_status": 201,             # one old example shows 200
    "offboard_status": 200,                 # the doc says "200 - Created"; accept 200 and 201
    "package_uri_quoted": True,             # getPackageUri's documented value is a URL in literal double quotes
    "last_update_field": "lastUpdateDateTimeUtc",  # list examples spell it lastUpdateTimeUtc
    "cancel_final": "error",                # "error": 400; "unchanged": 200 with the action as it is
    "getfile_encoding": "gzip",             # "gzip" or "raw"
    "nextlink_repeats": False,              # reproduce the reported nextLink that points at itself
    "repeat_code": "ActiveRequestAlreadyExists",  # a second isolate/scan/restrict/collect while one is pending:
                                            # the current code; "legacy" answers 400 "Action is already in progress"
    "empty_machines_404": True,             # GET /api/machines with nothing to list answers 404 (documented)
    # Alert updates (Learn, "Update alert" and "Batch update alerts").
    "alert_batch_max": 500,                 # Learn names no maximum for batchUpdate; 500 as the API's other batches
    "alert_batch_unknown": "refuse",        # an unknown id in a batch: "refuse" (404, nothing updated) or "ignore"
                                            # (the known ones are updated, 200); Learn says neither
    "alert_pairs_enforced": True,           # a determination must belong to the classification (both Learn examples
                                            # send FalsePositive/Malware, which the tables don't allow)
    "alert_determination_names": "entity",  # "entity": ConfirmedUserActivity, Clean (alert entity, batch page);
                                            # "either": also the update page's ConfirmedActivity, NotMalicious
    # Automated investigations (emulated seconds).
    "investigation_queued_seconds": 5,      # Queued, then Running
    "investigation_running_seconds": 60,    # Running, then the outcome
    "investigation_outcome": "Benign",      # the outcome: a final state, or Running/PendingApproval to stay there
    "investigation_outcomes": {},           # per device (id or computerDnsName): its outcome
    "investigation_unsupported": "refuse",  # an unsupported OS: "refuse" (400 OsPlatformNotSupported) or "state"
                                            # (201, the investigation ends UnsupportedOs at once)
    "investigation_creates_alert": True,    # a manual start raises "Automated investigation started manually"
    # Indicators.
    "batchdelete_partial": False,           # BatchDelete with an unknown id: False deletes nothing; True deletes
                                            # the others; 404 either way
    # Links, tokens and paging.
    "link_lifetime_seconds": 1800,
    "package_link_lifetime_seconds": 300,   # getPackageUri: a safedownload link "valid a short time"
    "token_lifetime_seconds": 3599,
    "page_size": 10000,
    "max_upload_bytes": 20 * 1024 * 1024,
    # Advanced hunting (hunting.py) and the entity routes (entities.py).
    "hunting_query_seconds": 0.5,           # the emulated running time of each query, charged against the quota
    "hunting_timeout_seconds": 200,         # Learn, Advanced Hunting API: 200 s a request
    # [running seconds, window seconds], tenant-wide, on the emulator clock: 10 minutes an hour, 3 hours a day
    "hunting_cpu_quota": [[600, 3600], [10800, 86400]],
    "hunting_max_rows": 100000,
    "hunting_row_overflow": "error",        # "error": 400; "truncate": the first hunting_max_rows rows
    "hunting_max_result_bytes": 124 * 1024 * 1024,
    "hunting_old_range": "error",           # a query naming a time older than 30 days: "error" (400) or "clip"
    "alert_evidence_by_id": "expand",       # GET /api/alerts/{id}: evidence with $expand=evidence, or "always"
    "entity_permissions": "current",        # "current" Learn pages (2025), or "legacy" (also the read permissions)
    # "per_api": each API counts in its own class (Learn states each page's limits "for this API"); "single": every
    # call with the standard windows shares `default` (ratelimit.SINGLE_POOL_CLASSES keep their own).
    "rate_pool": "per_api",
    # Rate limits: class -> list of [calls, window seconds]; windows run on real time.
    "rate_limits": {
        "default": [[100, 60], [1500, 3600]],
        "runliveresponse": [[10, 60]],
        "getpackageuri": [[2, 60], [120, 3600]],
        "alertupdate": [[100, 60], [1500, 3600]],           # PATCH /api/alerts/{id}
        "alertbatchupdate": [[10, 60], [500, 3600]],        # POST /api/alerts/batchUpdate
        "startinvestigation": [[50, 3600]],                 # POST /api/machines/{id}/startInvestigation
        "indicatorimport": [[30, 60]],                      # POST /api/indicators/import
        "indicatorbatchdelete": [[30, 60], [1500, 3600]],   # POST /api/indicators/BatchDelete
        "advancedqueries": [[45, 60], [1500, 3600]],        # per tenant, not per app
    },
}


def merge(overrides):
    settings = {key: dict(value) if isinstance(value, dict) else value for key, value in DEFAULTS.items()}
    for key, value in (overrides or {}).items():
        if key not in DEFAULTS:
            raise KeyError("unknown emulator setting %r (known: %s)" % (key, ", ".join(sorted(DEFAULTS))))
        if key == "rate_limits":
            settings["rate_limits"].update(value)
        else:
            settings[key] = value
    return settings
