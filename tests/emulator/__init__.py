"""A strict local Google Sheets API v4 emulator for tests (see server.py).

    with SheetsEmulator() as emu:
        key = make_service_account_key(emu)
        sid = emu.create_spreadsheet("Health", {"Customers": [["Customer ID"], ["00123"]]})
        gc = gspread_client(emu.url, key)
"""

from .auth import make_service_account_key, write_key_file
from .faults import Fault, FaultKind
from .gspread_client import gspread_client, no_boundary_lookup, redirecting_http_client
from .server import RecordedRequest, SheetsEmulator

__all__ = ["Fault", "FaultKind", "RecordedRequest", "SheetsEmulator", "gspread_client",
           "make_service_account_key", "no_boundary_lookup", "redirecting_http_client",
           "write_key_file"]
