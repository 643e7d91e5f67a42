"""Fleet inventory: import (CSV, JSON, CycloneDX 1.6), normalisation, and MAC-prefix vendor lookup."""

from krackwatch.fleet.inventory import (
    InvalidRow,
    InventoryFormat,
    InventoryItem,
    InventoryResult,
    InventoryWarning,
    iter_inventory,
    load_inventory,
    to_cyclonedx,
    write_inventory_csv,
)
from krackwatch.fleet.model import Device, Role, VendorSource, parse_role

__all__ = [
    "Device",
    "InvalidRow",
    "InventoryFormat",
    "InventoryItem",
    "InventoryResult",
    "InventoryWarning",
    "Role",
    "VendorSource",
    "iter_inventory",
    "load_inventory",
    "parse_role",
    "to_cyclonedx",
    "write_inventory_csv",
]
