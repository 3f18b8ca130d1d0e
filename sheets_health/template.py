"""The sheet template: tabs, headers, default settings and dropdowns.

`templates/sheets-health-template.xlsx` is generated from this (``sheets-health init`` on a new
workbook); a test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sheets_health.cells import Percent
from sheets_health.model import CellValue, CustomerStatus, MissingPolicy, Rag, ScoringKind

CUSTOMERS = "Customers"
SCORECARD = "Scorecard"
SETTINGS = "Settings"
HISTORY = "History"
SYNC_LOG = "Sync log"
ALERTS = "Alerts"
SUMMARY = "Summary"

# Customers: the key, the human-owned inputs the tool reads, and the tool-owned outputs.
CUSTOMER_ID = "Customer ID"
CUSTOMER_NAME = "Customer"
OUTCOMES = "Outcomes"
START_DATE = "Start date"
STATUS = "Status"
STATUS_DATE = "Status date"
OVERRIDE = "Override"
OVERRIDE_REASON = "Override reason"
OVERRIDE_UNTIL = "Override until"
HEALTH_SCORE = "Health score"
HEALTH = "Health"
TREND = "Trend"
REASONS = "Reasons"
NEXT_STEP = "Next step"
SCORED_AT = "Scored at"
STAGE = "Stage"  # the journey stage (see sheets_health.journey)
OUTPUT_COLUMNS = (STAGE, HEALTH_SCORE, HEALTH, TREND, REASONS, NEXT_STEP, SCORED_AT)
# On Google the outputs live in a tool-owned tab, one row per customer, and Customers shows
# them by lookup on the Customer ID (`backends.google_scores`): new outputs follow from here.
SCORES = "Scores"
SCORES_HEADERS = (CUSTOMER_ID, *OUTPUT_COLUMNS)
CUSTOMER_INPUTS = (
    CUSTOMER_ID,
    CUSTOMER_NAME,
    "CSM",
    OUTCOMES,
    START_DATE,
    "Renewal date",
    "ARR",
    "Gut RAG",
    STATUS,
    STATUS_DATE,
    OVERRIDE,
    OVERRIDE_REASON,
    OVERRIDE_UNTIL,
)
# Columns of Customers that are never measures (everything else may be one, ARR included).
CUSTOMER_RESERVED = (
    *(h for h in CUSTOMER_INPUTS if h not in ("ARR", "Renewal date")),
    *OUTPUT_COLUMNS,
)

# Scorecard
MEASURE = "Measure"
DIMENSION = "Dimension"
SCORING = "Scoring"
RED_AT = "Red at"
GREEN_AT = "Green at"
WEIGHT = "Weight"
WEIGHT_PREFIX = "Weight:"
MISSING = "Missing"
VALUE_DEGREE = "Value degree"
PROACTIVE = "Proactive"
ACTION_WHEN_RED = "Action when red"
ACTION_WHEN_GREEN = "Action when green"  # optional: the next step for a Green customer
NOTES = "Notes"
# written by `calibrate --suggest` beside the team's own columns, for a person to adopt
WEIGHT_SUGGESTED = "Weight: suggested"
SCORING_SUGGESTED = "Scoring: suggested"
RED_AT_SUGGESTED = "Red at: suggested"
GREEN_AT_SUGGESTED = "Green at: suggested"
SUGGESTED_COLUMNS = (WEIGHT_SUGGESTED, SCORING_SUGGESTED, RED_AT_SUGGESTED, GREEN_AT_SUGGESTED)


def suggested_columns(outcome: str) -> tuple[str, str, str, str]:
    """The `--suggest` columns of one scorecard: the default's, or `Weight: suggested <outcome>`
    (and its Scoring / Red at / Green at) for an outcome scorecard."""
    return SUGGESTED_COLUMNS if not outcome else tuple(  # type: ignore[return-value]
        f"{c} {outcome}" for c in SUGGESTED_COLUMNS)


def is_suggested_weight(header: str) -> bool:
    """`Weight: suggested` or `Weight: suggested <outcome>`: written for a person to adopt,
    never a scorecard of its own."""
    head, _, rest = header.partition(":")
    word = rest.strip().casefold()
    return head.strip().casefold() == "weight" and (word == "suggested"
                                                     or word.startswith("suggested "))
# a measure the tool derives from Start date (days since it), unless Customers has the column
TENURE_DAYS = "Tenure days"

# Settings (key/value rows)
SETTING = "Setting"
VALUE = "Value"
SET_GREEN_AT = "Green at or above"
SET_RED_BELOW = "Red below"
SET_MISSING = "Missing data"
SET_MIN_COVERAGE = "Minimum coverage"
SET_TREND_DAYS = "Trend window days"
SET_ROLLUP = "Outcome roll-up"
SET_MAX_REASONS = "Reasons shown"
SET_INACTIVE = "Inactive statuses"
SET_TIME_ZONE = "Time zone"
SET_SYNC_LOG_ROWS = "Sync log rows kept"
SET_HISTORY_DAYS = "History days kept"
SET_STAGES = "Stages"
SET_MAX_COLOUR_CHANGES = "Max colour changes"
SET_ALERT_ON = "Alert on"
SET_ALERT_DROP = "Alert drop points"
SET_CALIBRATION_LEAD_DAYS = "Calibration lead days"

# History and Sync log
DATE = "Date"
TREND_BASELINE = "Trend baseline"  # the score that day's Trend was measured against
HISTORY_HEADERS = (DATE, CUSTOMER_ID, HEALTH_SCORE, HEALTH, TREND_BASELINE)
# Snapshots: each sync's raw value and sub-score of every Scorecard measure, one row per
# customer per day; `Measures` is one JSON cell, so a Scorecard change never moves columns
SNAPSHOTS = "Snapshots"
FINGERPRINT = "Fingerprint"  # a digest of Measures: a later sync the same day compares it
MEASURES = "Measures"
SNAPSHOT_HEADERS = (DATE, CUSTOMER_ID, FINGERPRINT, MEASURES)
# Calibration: each `calibrate` run appends its dated report (rows a CS lead reads)
CALIBRATION = "Calibration"
CALIBRATION_HEADERS = ("Calibrated at", "Scorecard", "Section", "Item", "Value", "Detail")
SYNC_LOG_HEADERS = (
    "Run at",
    "Mode",
    "Customers",
    "Scored",
    "Not enough data",
    "Cells changed",
    "Result",
    "Message",
    "Exit code",  # 0 on ok rows; the CLI's exit code on error rows
    "Run id",  # which run wrote the row: its claim on the sheet carries it too
)
# Alerts: one row per colour change a sync announced (`sheets_health.alerts`)
ALERT_HEADERS = (DATE, CUSTOMER_ID, CUSTOMER_NAME, "CSM", "Kind", "From", "To", "Score",
                 "Score change", "Top reason", NEXT_STEP, "Renewal date", "Episode",
                 "Alert key", "Notified")


@dataclass(frozen=True)
class PrintLayout:
    """How a tab prints so that a page read at 100 % is legible: nothing squeezed to fit.

    The header row repeats on every page; pages go across, then down, so the first pages
    hold every column of the first customers.
    """

    landscape: bool = True
    fit_to_width: bool = False  # only for tabs narrow enough to stay legible on one width
    repeat_columns: tuple[str, ...] = ()  # the key, printed at the left of every page
    wrap: tuple[str, ...] = ()  # long text wraps in its column instead of being cut off


@dataclass(frozen=True)
class TabTemplate:
    name: str
    headers: tuple[str, ...]
    rows: tuple[tuple[CellValue, ...], ...] = ()  # written only when the tab is created
    dropdowns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    frozen_rows: int = 1
    print_layout: PrintLayout = PrintLayout()


RAG_CHOICES = tuple(r.value for r in Rag)

TEMPLATE: tuple[TabTemplate, ...] = (
    TabTemplate(
        CUSTOMERS,
        (*CUSTOMER_INPUTS, "CSM score", "Exec sponsor", *OUTPUT_COLUMNS),
        dropdowns={
            "Gut RAG": RAG_CHOICES,
            OVERRIDE: RAG_CHOICES,
            STATUS: tuple(s.value for s in CustomerStatus),
        },
        print_layout=PrintLayout(repeat_columns=(CUSTOMER_ID, CUSTOMER_NAME),
                                 wrap=(OUTCOMES, OVERRIDE_REASON, REASONS, NEXT_STEP)),
    ),
    TabTemplate(
        SCORECARD,
        (
            MEASURE,
            DIMENSION,
            SCORING,
            RED_AT,
            GREEN_AT,
            WEIGHT,
            MISSING,
            VALUE_DEGREE,
            PROACTIVE,
            ACTION_WHEN_RED,
            ACTION_WHEN_GREEN,
            NOTES,
        ),
        rows=(
            ("CSM score", "CSM", "linear", 3, 8, 1, "", 3, "no",
             "Ask the CSM what drives the low score", "", "CSM's 1–10 gut score"),
            ("Exec sponsor", "Relationship", "category: none=0, single-threaded=30, "
             "multi-threaded=70, exec sponsor=100", "", "", 1, "", 2, "yes",
             "Find a second contact and an executive sponsor",
             "Ask the sponsor for a reference or a case study", ""),
        ),
        dropdowns={
            MISSING: tuple(p.value for p in MissingPolicy),
            PROACTIVE: ("yes", "no"),
            VALUE_DEGREE: ("1", "2", "3"),
            SCORING: tuple(k.value for k in ScoringKind),
        },
        print_layout=PrintLayout(repeat_columns=(MEASURE,),
                                 wrap=(SCORING, ACTION_WHEN_RED, ACTION_WHEN_GREEN, NOTES)),
    ),
    TabTemplate(
        SETTINGS,
        (SETTING, VALUE, NOTES),
        rows=(
            (SET_GREEN_AT, 70, "Scores at or above this are Green"),
            (SET_RED_BELOW, 40, "Scores below this are Red; between is Yellow"),
            (SET_MISSING, "skip", "skip (share the weight), neutral (50) or zero"),
            (SET_MIN_COVERAGE, Percent(0.5),
             "Share of the weight that must have data, else no score"),
            (SET_TREND_DAYS, 30, "Trend compares with the score this many days ago"),
            (SET_ROLLUP, "mean", "How several outcome scores roll up: mean or min"),
            (SET_MAX_REASONS, 3, "How many drivers the Reasons column names"),
            (SET_INACTIVE, CustomerStatus.CHURNED.value,
             "Statuses that are not scored (comma-separated): Health shows the status"),
            (SET_SYNC_LOG_ROWS, 1000, "The sync deletes older Sync log rows"),
            (SET_HISTORY_DAYS, None, "Blank keeps all History; a number of days deletes older "
             "rows (more than the trend window)"),
            (SET_STAGES, None, "Blank: no journey stages. E.g. 'Onboarding 90, Adoption 365, "
             "Mature': each stage with the day it ends (days since Start date)"),
            (SET_MAX_COLOUR_CHANGES, Percent(0.5),
             "A sync that would change the colour of more of the customers is refused "
             "unless --force (a broken source looks like that)"),
            (SET_ALERT_ON, "worse", "Alerts tab rows: worse (colour), drop (score), "
             "'worse, drop' or none"),
            (SET_ALERT_DROP, 10, "A drop alert: the score fell this many points within the "
             "trend window"),
        ),
        print_layout=PrintLayout(landscape=False, fit_to_width=True, wrap=(NOTES,)),
    ),
    TabTemplate(HISTORY, HISTORY_HEADERS,
                print_layout=PrintLayout(landscape=False, fit_to_width=True)),
    TabTemplate(SYNC_LOG, SYNC_LOG_HEADERS,
                print_layout=PrintLayout(fit_to_width=True, wrap=("Message",))),
    TabTemplate(ALERTS, ALERT_HEADERS,
                print_layout=PrintLayout(wrap=("Top reason", NEXT_STEP))),
    # tool-owned and rewritten by every sync (`sheets_health.summary_sheet`): no headers
    TabTemplate(SUMMARY, (), frozen_rows=0,
                print_layout=PrintLayout(fit_to_width=True, wrap=("Reasons", NEXT_STEP))),
    TabTemplate(SNAPSHOTS, SNAPSHOT_HEADERS,
                print_layout=PrintLayout(landscape=False, fit_to_width=True)),
    TabTemplate(CALIBRATION, CALIBRATION_HEADERS,
                print_layout=PrintLayout(wrap=("Item", "Detail"))),
)


def tab_template(name: str) -> TabTemplate:
    for tab in TEMPLATE:
        if tab.name == name:
            return tab
    raise KeyError(name)
